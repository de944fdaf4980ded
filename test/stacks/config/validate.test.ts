import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../stacks/config/config-error';
import { credentialProblems } from '../../../stacks/config/credentials';
import { loadConfig, parseConfig, resolveConfigPath } from '../../../stacks/config/load';
import { validateConfig } from '../../../stacks/config/validate';
import { EXAMPLE_PATH, configWith, exampleRaw, merge } from '../helpers';

/** The keys a rejected config names, in order. */
function rejectedKeys(patch: Record<string, unknown>): string[] {
  try {
    validateConfig(merge(exampleRaw(), patch), 'cluster.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => p.key);
  }
  throw new Error('config was accepted');
}

describe('cluster.yaml validation', () => {
  test('the committed example is valid and gets documented defaults', () => {
    const config = configWith();
    expect(config.name).toBe('lotse');
    expect(config.network).toEqual({ podCidr: '10.244.0.0/16', serviceCidr: '10.96.0.0/12', nodeCidr: '10.240.0.0/24', dnsAddress: '169.254.20.10', clusterDomain: 'cluster.local' });
    expect(config.gce?.masters).toBe(1);
    expect(config.raspberryPi?.store).toBe('sqlite');
  });

  test('defaults fill keys the file leaves out', () => {
    const config = validateConfig({ name: 'x', sshAuthorizedKeys: ['ssh-ed25519 AAAA me'] }, 't');
    expect(config.os).toBe('fedora-coreos');
    expect(config.store).toBe('etcd');
    expect(config.images.flannel).toMatch(/^docker\.io\/flannel\/flannel:v/);
    expect(config.bootstrap).toEqual({ enabled: true, command: 'lotse' });
    expect(config.gce).toBeUndefined();
  });

  test('OS update reboots default to a one-hour window on Sunday 04:00 UTC; Flatcar takes one day or all seven', () => {
    expect(configWith().updates.rebootWindow).toEqual({ days: ['Sun'], start: '04:00', lengthMinutes: 60 });
    expect(rejectedKeys({ updates: { rebootWindow: { days: ['Sat', 'Sun'] } }, os: 'flatcar' })).toEqual(['updates.rebootWindow.days']);
    // Scaleway boots Flatcar whatever `os` says.
    expect(rejectedKeys({ updates: { rebootWindow: { days: ['Sat', 'Sun'] } } })).toEqual(['updates.rebootWindow.days']);
    expect(configWith({ updates: { rebootWindow: { days: ['Sat', 'Sun'] } }, scaleway: undefined }).updates.rebootWindow.days).toEqual(['Sat', 'Sun']);
    expect(rejectedKeys({ updates: { rebootWindow: { start: '25:00' } } })).toEqual(['updates.rebootWindow.start']);
    expect(rejectedKeys({ updates: { rebootWindow: { lengthMinutes: 5 } } })).toEqual(['updates.rebootWindow.lengthMinutes']);
  });

  test('an unknown key is rejected by name, at any depth', () => {
    expect(rejectedKeys({ nmae: 'typo' })).toEqual(['nmae']);
    expect(rejectedKeys({ gce: { machinetype: 'n1' } })).toEqual(['gce.machinetype']);
    expect(rejectedKeys({ raspberryPi: { nodes: [{ name: 'a', address: '10.0.0.2', role: 'master', gw: '10.0.0.1' }] } })).toEqual([
      'raspberryPi.nodes[0].gw',
    ]);
  });

  test('overlapping pod and service CIDRs are rejected naming the key', () => {
    expect(rejectedKeys({ network: { podCidr: '10.96.0.0/16', serviceCidr: '10.96.0.0/12' } })).toEqual(['network.serviceCidr']);
    expect(rejectedKeys({ network: { nodeCidr: '10.244.3.0/24' } })).toEqual(['network.nodeCidr']);
  });

  test('malformed or too small CIDRs are rejected', () => {
    expect(rejectedKeys({ network: { podCidr: '10.244.0.1/16' } })).toEqual(['network.podCidr']);
    expect(rejectedKeys({ network: { podCidr: '10.244.0.0/24' } })).toEqual(['network.podCidr']);
    expect(rejectedKeys({ adminCidrs: ['203.0.113.7'] })).toEqual(['adminCidrs[0]']);
  });

  test('zero masters is rejected for each target', () => {
    expect(rejectedKeys({ gce: { masters: 0 } })).toEqual(['gce.masters']);
    expect(rejectedKeys({ digitalocean: { masters: 0 } })).toEqual(['digitalocean.masters']);
    expect(rejectedKeys({ scaleway: { masters: 0 } })).toEqual(['scaleway.masters']);
    expect(rejectedKeys({ raspberryPi: { nodes: [{ name: 'a', address: '192.168.1.2', role: 'worker' }] } })).toEqual(['raspberryPi.nodes']);
  });

  test('a missing or empty ssh key list is rejected naming sshAuthorizedKeys', () => {
    expect(rejectedKeys({ sshAuthorizedKeys: undefined })).toEqual(['sshAuthorizedKeys']);
    expect(rejectedKeys({ sshAuthorizedKeys: [] })).toEqual(['sshAuthorizedKeys']);
    expect(rejectedKeys({ sshAuthorizedKeys: ['not a key'] })).toEqual(['sshAuthorizedKeys[0]']);
  });

  test('counts, streams, images and Pi addressing are checked', () => {
    expect(rejectedKeys({ gce: { workers: -1 } })).toEqual(['gce.workers']);
    expect(rejectedKeys({ gce: { workers: 1.5 } })).toEqual(['gce.workers']);
    expect(rejectedKeys({ stream: 'testing' })).toEqual(['stream']); // Scaleway's Flatcar has no "testing"
    expect(rejectedKeys({ scaleway: { image: 'uuid' } })).toEqual(['scaleway.image']);
    expect(rejectedKeys({ adminCidrs: [] })).toEqual(['adminCidrs']);
    expect(rejectedKeys({ raspberryPi: { network: { gateway: '10.0.0.1' } } })).toEqual([
      'raspberryPi.nodes[0].gateway',
      'raspberryPi.nodes[1].gateway',
      'raspberryPi.nodes[2].gateway',
    ]);
    const raw = exampleRaw() as { raspberryPi: { nodes: Array<Record<string, string>> } };
    const nodes = raw.raspberryPi.nodes.map((n) => ({ ...n, name: 'pi-0' }));
    expect(rejectedKeys({ raspberryPi: { nodes } })).toEqual(['raspberryPi.nodes[1].name', 'raspberryPi.nodes[2].name']);
  });

  test('the error message names the file, the key and how to fix it', () => {
    expect(() => parseConfig('name: x\nsshAuthorizedKeys: ["ssh-ed25519 AAAA a"]\nnetwork: {podCidr: 10.96.0.0/16}\n', '/etc/cluster.yaml')).toThrow(
      /\/etc\/cluster\.yaml is not valid:\n {2}- network\.serviceCidr: 10\.96\.0\.0\/12 overlaps network\.podCidr/,
    );
    expect(() => parseConfig('name: x\nname: y\n', 'c.yaml')).toThrow(/c\.yaml is not valid:\n {2}- \(yaml\): Map keys must be unique at line 2/);
  });
});

describe('finding cluster.yaml', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lotse-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('LOTSE_CONFIG wins, then ./cluster.yaml, then the committed example', () => {
    expect(resolveConfigPath({}, dir)).toEqual({ path: EXAMPLE_PATH, isExample: true });
    writeFileSync(join(dir, 'cluster.yaml'), 'name: local\nsshAuthorizedKeys: ["ssh-ed25519 AAAA a"]\n');
    expect(loadConfig({}, dir)).toMatchObject({ isExample: false, config: { name: 'local' } });
    writeFileSync(join(dir, 'other.yaml'), 'name: other\nsshAuthorizedKeys: ["ssh-ed25519 AAAA a"]\n');
    expect(loadConfig({ LOTSE_CONFIG: 'other.yaml' }, dir).config.name).toBe('other');
    expect(() => loadConfig({ LOTSE_CONFIG: 'missing.yaml' }, dir)).toThrow(/LOTSE_CONFIG names .*missing\.yaml, which does not exist/);
  });
});

describe('credential sources', () => {
  const home = '/nonexistent-home';

  test('each enabled cloud without credentials is named', () => {
    const keys = credentialProblems(configWith({ scaleway: { projectId: undefined } }), {}, home).map((p) => p.key);
    expect(keys).toEqual(['gce.credentialsFile', 'digitalocean', 'scaleway', 'scaleway.projectId']);
  });

  test('environment variables satisfy them', () => {
    const env = { GOOGLE_APPLICATION_CREDENTIALS: '/k.json', DIGITALOCEAN_TOKEN: 'x', SCW_ACCESS_KEY: 'a', SCW_SECRET_KEY: 'b' };
    expect(credentialProblems(configWith(), env, home)).toEqual([]);
  });

  test('a credentials file that does not exist is named', () => {
    const config = configWith({ gce: { credentialsFile: '/nope/key.json' }, digitalocean: undefined, scaleway: undefined });
    expect(credentialProblems(config, {}, home)).toEqual([{ key: 'gce.credentialsFile', message: expect.stringContaining('/nope/key.json does not exist') }]);
  });
});
