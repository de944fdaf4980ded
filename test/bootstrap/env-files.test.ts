import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureClusterPki } from '../../bootstrap/cluster-pki';
import { LOAD_ENV_FUNCTION, renderEnvFile } from '../../bootstrap/env-file';
import { planHost } from '../../bootstrap/host-files';
import { parseInventory } from '../../bootstrap/inventory';
import { ensureTestImage } from '../support/podman';
import { NODE_BUILDS } from '../../bootstrap/node-build';
import { shippedNodePath } from '../../bootstrap/node-runtime';
import { parseEnv, systemdEnvironments } from '../support/systemd-env';

const run = promisify(execFile);
jest.setTimeout(120_000);

const INVENTORY = `
name: envtest
store: etcd
hosts:
  - { name: m0, address: 192.0.2.10, privateAddress: 10.0.0.10, role: master, user: core }
  - { name: w0, address: 192.0.2.11, privateAddress: 10.0.0.11, role: worker, user: core }
`;

/** Every env file the bootstrap writes for a master (etcd, master, flannel, agent). */
function masterEnvFiles(dir: string): Array<{ name: string; path: string; text: string }> {
  const inventory = parseInventory(INVENTORY, 'env test');
  const pki = ensureClusterPki(dir, inventory);
  const plan = planHost({
    inventory,
    host: inventory.hosts[0],
    facts: { os: 'fedora', osVersion: '42', arch: 'x86_64', hostname: 'm0', init: 'systemd', root: true, flannelUnit: true },
    node: { kind: 'shipped', node: shippedNodePath(NODE_BUILDS.amd64), build: NODE_BUILDS.amd64 },
    pki,
    bundle: { path: 'lotse.js', content: Buffer.from('// bundle'), sha256: '0', agent: { path: 'lotse-agent.js', content: Buffer.from('// agent'), sha256: '1' }, inputs: [] },
  });
  return [...plan.services].map(([name, file]) => {
    const path = join(dir, `${name}.env`);
    writeFileSync(path, file.content);
    return { name, path, text: String(file.content) };
  });
}

/** What the file says, read the naive way: everything after the first `=`, literally. */
function literal(text: string): Record<string, string> {
  return parseEnv(text.split('\n').filter((l) => !l.startsWith('#')).join('\n'));
}

describe('env files: podman, systemd and the run scripts read the same values', () => {
  let dir: string;
  let files: Array<{ name: string; path: string; text: string }>;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lotse-envfiles-'));
    files = masterEnvFiles(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('a master gets the etcd, master, flannel and agent env files', () => {
    expect(files.map((f) => f.name).sort()).toEqual(['agent', 'etcd', 'flannel', 'master']);
  });

  test('podman run --env-file sees exactly the written values (etcd gets true, not "true")', async () => {
    const image = await ensureTestImage();
    for (const file of files) {
      const { stdout } = await run('podman', ['run', '--rm', '--network', 'none', '--env-file', file.path, image, 'env']);
      const seen = parseEnv(stdout);
      for (const [key, value] of Object.entries(literal(file.text))) expect({ file: file.name, key, value: seen[key] }).toEqual({ file: file.name, key, value });
    }
    const etcd = files.find((f) => f.name === 'etcd')!;
    const { stdout } = await run('podman', ['run', '--rm', '--network', 'none', '--env-file', etcd.path, image, 'env']);
    expect(parseEnv(stdout).ETCD_PEER_CLIENT_CERT_AUTH).toBe('true');
    expect(parseEnv(stdout).ETCD_CLIENT_CERT_AUTH).toBe('true');
  });

  test("systemd's EnvironmentFile= sees exactly the written values", async () => {
    const seen = await systemdEnvironments(files.map((f) => f.path));
    files.forEach((file, i) => {
      for (const [key, value] of Object.entries(literal(file.text))) expect({ file: file.name, key, value: seen[i][key] }).toEqual({ file: file.name, key, value });
    });
    const master = seen[files.findIndex((f) => f.name === 'master')];
    expect(master.LOTSE_MASTER_ARGS).toMatch(/^--data-dir \/var\/lib\/lotse\/master --listen 0\.0\.0\.0:6443 /);
    // The inventory's network (defaults here) reaches the master and the agent.
    expect(master.LOTSE_MASTER_ARGS).toContain(' --service-cidr 10.96.0.0/12 --cluster-cidr 10.244.0.0/16 ');
    const agent = seen[files.findIndex((f) => f.name === 'agent')];
    expect(agent.LOTSE_AGENT_ARGS).toMatch(/ --cluster-dns-address 169\.254\.20\.10 --cluster-domain cluster\.local --wait-for-pod-network$/);
    expect(agent.LOTSE_DNS_ADDRESS).toBe('169.254.20.10');
  });

  test('the run scripts of hosts without the units export the same values', async () => {
    for (const file of files) {
      const { stdout } = await run('sh', ['-c', `${LOAD_ENV_FUNCTION}\nload_env "$1"\nenv`, 'sh', file.path], { env: {} });
      const seen = parseEnv(stdout);
      for (const [key, value] of Object.entries(literal(file.text))) expect({ file: file.name, key, value: seen[key] }).toEqual({ file: file.name, key, value });
    }
  });

  test('values the readers would disagree on are refused with the key named', () => {
    expect(() => renderEnvFile({ A: 'say "hi"' })).toThrow(/value of A contains "\\""/);
    expect(() => renderEnvFile({ B: 'a\\b' })).toThrow(/value of B contains/);
    expect(() => renderEnvFile({ C: ' padded' })).toThrow(/C starts or ends with a blank/);
    expect(() => renderEnvFile({ D: 'x\ny' })).toThrow(/value of D contains/);
    expect(renderEnvFile({ E: 'a b,c=d' })).toMatch(/^E=a b,c=d$/m);
  });
});
