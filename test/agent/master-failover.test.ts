import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../../kube/client';
import { startMaster, type RunningMaster } from '../../master/server';
import { startTestMaster, type TestMaster } from '../support/master';
import { bundleAgent, spawnAgent, type AgentProcess } from './agent-process';

jest.setTimeout(120_000);

const leaseRef = (node: string) => ({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-node-lease', name: node });

/** An agent given both masters of one etcd keeps its node alive through the one it reached first going away. */
describe('agent fail-over between masters', () => {
  let a: TestMaster;
  let b: RunningMaster;
  let aStopped = false;
  let agent: AgentProcess | undefined;
  const bDir = mkdtempSync(join(tmpdir(), 'lotse-master-b-'));
  const agentDir = mkdtempSync(join(tmpdir(), 'lotse-failover-agent-'));

  beforeAll(async () => {
    a = await startTestMaster({ store: 'etcd' });
    cpSync(a.dataDir, bDir, { recursive: true });
    b = await startMaster({ dataDir: bDir, listen: '127.0.0.1:0', store: `etcd://${a.etcd?.hostPort}` });
  });
  afterAll(async () => {
    await agent?.stop();
    await b?.close();
    if (aStopped) {
      a.client.close();
      await a.etcd?.stop();
      rmSync(a.dataDir, { recursive: true, force: true });
    } else await a?.stop();
    rmSync(bDir, { recursive: true, force: true });
    rmSync(agentDir, { recursive: true, force: true });
  });

  test('the lease keeps being renewed within seconds after the first master stops', async () => {
    writeFileSync(join(agentDir, 'ca.crt'), a.caPem);
    writeFileSync(join(agentDir, 'token'), a.joinToken, { mode: 0o600 });
    const bundle = await bundleAgent();
    agent = spawnAgent(bundle, ['--server', `${a.url},${b.url}`, '--token-file', join(agentDir, 'token'), '--ca-file', join(agentDir, 'ca.crt'), '--node-name', 'fo-node', '--data-dir', join(agentDir, 'data'), '--runtime', 'fake', '--kubelet-port', '0', '--address', '127.0.0.1', '--lease-interval', '1']);
    const viaB = new KubeClient({ server: b.url, ca: b.caPem, token: b.adminToken });
    const renewed = async (): Promise<number> => {
      const lease = await viaB.get(leaseRef('fo-node')).catch(() => undefined);
      return Date.parse((lease as { spec?: { renewTime?: string } } | undefined)?.spec?.renewTime ?? '') || 0;
    };
    const until = async (what: string, check: () => Promise<boolean>, ms: number): Promise<void> => {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        if (await check()) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`${what} within ${ms} ms; agent output:\n${agent?.output()}`);
    };
    try {
      await until('the node registered', async () => (await renewed()) > 0, 60_000);
      const stoppedAt = Date.now();
      a.client.close();
      await a.close();
      aStopped = true;
      await until('a lease renewal through the second master', async () => (await renewed()) > stoppedAt, 10_000);
      const failoverMs = Date.now() - stoppedAt;
      // Stays renewed: the agent now works through b.
      await new Promise((r) => setTimeout(r, 3000));
      expect(Date.now() - (await renewed())).toBeLessThan(2500);
      expect(failoverMs).toBeLessThan(10_000);
    } finally {
      viaB.close();
    }
  });
});
