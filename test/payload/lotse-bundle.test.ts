import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundle } from '../../payload/lotse-bundle';
import { fetchNodeBuild } from '../../bootstrap/node-build';
import { freePort, startMasterProcess } from '../support/master-process';
import { kubectl, kubectlOk } from '../support/kubectl';
import { AGENT_NODE_FLAGS } from '../../cluster/agent-node-flags';

jest.setTimeout(480_000);

describe('the lotse bundle', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'lotse-bundle-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('is one JavaScript file for every command, and one for the agent alone, without native code, that run outside the checkout', async () => {
    const bundle = await buildBundle(join(dir, 'lotse.js'));
    expect(bundle.inputs.length).toBeGreaterThan(100);
    expect(bundle.inputs.filter((p) => p.endsWith('.node'))).toEqual([]);
    expect(bundle.inputs.some((p) => /better-sqlite3/.test(p))).toBe(false);
    // Neither an ELF object nor a WebAssembly module inside.
    expect(bundle.content.includes(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))).toBe(false);
    expect(bundle.content.includes(Buffer.from('\0asm'))).toBe(false);
    // From a directory with no node_modules above it, the CLI loads with every command.
    const help = execFileSync(process.execPath, [bundle.path, '--help'], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    for (const command of ['master', 'agent', 'bootstrap', 'reset']) expect(help).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    // lotse-agent.js beside it: the agent command alone, a fraction of lotse.js (none of the master's code).
    expect(bundle.agent.path).toBe(join(dir, 'lotse-agent.js'));
    expect(bundle.agent.content.length).toBeLessThan(bundle.content.length / 2);
    expect(bundle.agent.content.includes(Buffer.from('kubernetes-models'))).toBe(false);
    const agentHelp = execFileSync(process.execPath, [bundle.agent.path, 'agent', '--help'], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    expect(agentHelp).toMatch(/--runtime-endpoint/);
  });

  test('runs a master and an agent the way hosts do: lotse.js alone on the shipped Node.js (the agent with its unit\'s flags), SQLite, every validator and the OpenAPI descriptions inside', async () => {
    const { node } = await fetchNodeBuild('amd64', { cacheDir: join(__dirname, '../../.cache/node'), timeoutMs: 420_000 });
    const alone = mkdtempSync(join(tmpdir(), 'lotse-bundle-alone-'));
    try {
      const bundle = await buildBundle(join(alone, 'lotse.js'));
      const data = join(alone, 'data');
      const master = await startMasterProcess(data, await freePort(), ['--store', 'sqlite'], [node, bundle.path]);
      try {
        const kubeconfig = join(data, 'admin.kubeconfig');
        // RBAC objects are validated like every kind (their validator was once left out of the bundle).
        await kubectlOk(kubeconfig, ['create', 'clusterrole', 'pod-reader', '--verb=get', '--resource=pods']);
        const bad = await kubectl(kubeconfig, ['create', '-f', '-'], JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'r', namespace: 'default' }, rules: [{ verbs: 'get' }] }));
        expect(bad.stderr).toMatch(/rules\[0\]\.verbs/);
        // kubectl explain needs the descriptions, which hosts have only inside lotse.js.
        expect(await kubectlOk(kubeconfig, ['explain', 'deployment.spec.replicas'])).toMatch(/desired pods/i);
        await expectAgentReady(node, bundle.agent.path, master.url, data, kubeconfig);
      } finally {
        await master.kill();
      }
    } finally {
      rmSync(alone, { recursive: true, force: true });
    }
  });
});

/**
 * `lotse-agent.js agent` under node with AGENT_NODE_FLAGS, as the hosts' unit starts it (hollow pods:
 * no engine here), until its node is Ready.
 */
async function expectAgentReady(node: string, bundle: string, server: string, masterData: string, kubeconfig: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lotse-bundle-agent-'));
  const token = readFileSync(join(masterData, 'join-token'), 'utf8').trim();
  const args = ['--server', server, '--token', token, '--ca-file', join(masterData, 'ca.crt'), '--node-name', 'flagged', '--data-dir', join(dir, 'data'), '--runtime', 'fake', '--kubelet-port', '0', '--address', '127.0.0.1', '--proxy-mode', 'none', '--ingress-http-port', '0', '--ingress-https-port', '0'];
  const child = spawn(node, [...AGENT_NODE_FLAGS, bundle, 'agent', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  try {
    const deadline = Date.now() + 60_000;
    let ready = '';
    while (ready !== 'True' && child.exitCode === null && Date.now() < deadline) {
      ready = (await kubectl(kubeconfig, ['get', 'node', 'flagged', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).stdout.trim();
      if (ready !== 'True') await new Promise((r) => setTimeout(r, 500));
    }
    expect({ ready, exited: child.exitCode, out: ready === 'True' ? '' : out }).toEqual({ ready: 'True', exited: null, out: '' });
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
    rmSync(dir, { recursive: true, force: true });
  }
}
