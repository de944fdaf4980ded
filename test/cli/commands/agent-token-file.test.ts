import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleAgent, spawnAgent, type AgentProcess } from '../../agent/agent-process';
import { startTestMaster, type TestMaster } from '../../support/master';

jest.setTimeout(120_000);

const nodes = { group: '', version: 'v1', resource: 'nodes' };

describe('lotse agent --token-file', () => {
  let m: TestMaster;
  let bundle: string;
  let dir: string;
  const agents: AgentProcess[] = [];

  beforeAll(async () => {
    [m, bundle] = await Promise.all([startTestMaster(), bundleAgent()]);
    dir = mkdtempSync(join(tmpdir(), 'lotse-token-file-'));
    writeFileSync(join(dir, 'ca.crt'), m.caPem);
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await m?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const args = (node: string, credential: string[]): string[] => [
    '--server', m.url, ...credential, '--ca-file', join(dir, 'ca.crt'), '--node-name', node,
    '--data-dir', join(dir, node), '--runtime', 'fake', '--kubelet-port', '0', '--address', '127.0.0.1', '--lease-interval', '1',
  ];

  test('joins with the token read from a file, which stays out of the command line', async () => {
    const file = join(dir, 'join-token');
    writeFileSync(file, `${m.joinToken}\n`, { mode: 0o600 });
    const agent = spawnAgent(bundle, args('tf-node', ['--token-file', file]));
    agents.push(agent);
    expect(agent.child.spawnargs.join(' ')).not.toContain(m.joinToken);
    const deadline = Date.now() + 60_000;
    let registered = false;
    while (!registered && Date.now() < deadline) {
      registered = (await m.client.list(nodes)).items.some((n) => n.metadata?.name === 'tf-node');
      if (!registered) await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect([registered, agent.output()]).toEqual([true, agent.output()]);
  });

  test('an empty token file, or both --token and --token-file, is refused with the fix', async () => {
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    for (const [credential, message] of [
      [['--token-file', empty], 'is empty: copy DATA/join-token'],
      [['--token', 'x', '--token-file', empty], 'give --token or --token-file, not both'],
      [[], 'the agent needs the join token'],
    ] as const) {
      const agent = spawnAgent(bundle, args('tf-bad', [...credential]));
      const code = await new Promise<number | null>((resolve) => agent.child.once('exit', (c) => resolve(c)));
      expect([code, agent.output()]).toEqual([1, expect.stringContaining(message)]);
    }
  });
});
