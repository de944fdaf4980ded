import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Secret } from 'kubernetes-types/core/v1';
import { bootstrapTokenSecret, formatBootstrapToken, newBootstrapToken } from '../../cluster/bootstrap-token';
import { ApiError } from '../../kube/api-error';
import { core } from '../../kube/resource-path';
import { bundleAgent, spawnAgent, type AgentProcess } from './agent-process';
import { startTestMaster, type TestMaster } from '../support/master';

jest.setTimeout(120_000);

const TTL_MS = 4000;

/** The agent against a master whose node credentials hold 4 s: it must renew them to stay alive. */
describe('agent credential rotation and revocation', () => {
  let m: TestMaster;
  let bundle: string;
  let dir: string;
  const agents: AgentProcess[] = [];

  beforeAll(async () => {
    [m, bundle] = await Promise.all([startTestMaster({ master: { nodeCredentialTtlMs: TTL_MS } }), bundleAgent()]);
    dir = mkdtempSync(join(tmpdir(), 'lotse-rotation-'));
    writeFileSync(join(dir, 'ca.crt'), m.caPem);
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await m?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (node: string, tokenFile: string): AgentProcess => {
    const agent = spawnAgent(bundle, ['--server', m.url, '--token-file', tokenFile, '--ca-file', join(dir, 'ca.crt'), '--node-name', node, '--data-dir', join(dir, node), '--runtime', 'fake', '--kubelet-port', '0', '--address', '127.0.0.1', '--lease-interval', '1']);
    agents.push(agent);
    return agent;
  };
  const tokenFile = (name: string, token: string): string => {
    const file = join(dir, name);
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
    return file;
  };
  const leaseAgeMs = async (node: string): Promise<number | undefined> => {
    try {
      const lease = await m.client.get({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-node-lease', name: node });
      return Date.now() - Date.parse((lease as { spec?: { renewTime?: string } }).spec?.renewTime ?? "");
    } catch (err) {
      if (ApiError.isNotFound(err)) return undefined;
      throw err;
    }
  };
  const nodeExists = async (node: string): Promise<boolean> => (await m.client.list(core('nodes'))).items.some((n) => n.metadata?.name === node);
  const waitFor = async (what: string, check: () => Promise<boolean>, agent: AgentProcess, ms = 30_000): Promise<void> => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`${what} did not happen within ${ms} ms; agent output:\n${agent.output()}`);
  };

  test('the agent renews its credential before it expires and keeps its lease fresh for three lifetimes', async () => {
    const agent = start('rot-node', tokenFile('join', m.joinToken));
    await waitFor('registration', () => nodeExists('rot-node'), agent);
    await new Promise((r) => setTimeout(r, 3 * TTL_MS));
    const age = await leaseAgeMs('rot-node');
    expect([age !== undefined && age < 2500, agent.output()]).toEqual([true, agent.output()]);
    expect(agent.output()).toContain('node credential renewed');
    expect(agent.output()).not.toContain('refused node rot-node');
  });

  test('a deleted Node is revoked; its agent joins again with a valid token and registers anew', async () => {
    const agent = start('rejoin-node', tokenFile('join2', m.joinToken));
    await waitFor('registration', () => nodeExists('rejoin-node'), agent);
    await m.client.delete(core('nodes', undefined, 'rejoin-node'));
    await waitFor('re-registration', () => nodeExists('rejoin-node'), agent);
    expect(agent.output()).toContain('joining again');
  });

  test('with its bootstrap token deleted too, a deleted Node stays out and its agent says why', async () => {
    const t = newBootstrapToken();
    await m.client.create(core('secrets', 'kube-system'), bootstrapTokenSecret(t, { ttlMs: 600_000 }) as Secret);
    const agent = start('out-node', tokenFile('bootstrap', formatBootstrapToken(t)));
    await waitFor('registration', () => nodeExists('out-node'), agent);
    await m.client.delete(core('secrets', 'kube-system', `bootstrap-token-${t.id}`));
    await m.client.delete(core('nodes', undefined, 'out-node'));
    await waitFor('the refusal', async () => agent.output().includes('cannot join again'), agent);
    expect(await nodeExists('out-node')).toBe(false);
  });
});
