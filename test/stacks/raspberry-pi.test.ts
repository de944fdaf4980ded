import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Testing } from 'cdktf';
import { parse } from 'yaml';
import type { ClusterConfig } from '../../stacks/config/cluster-config';
import { RaspberryPiStack } from '../../stacks/raspberry-pi/stack';
import type { IgnitionConfig } from '../../stacks/ignition/spec';
import { configWith, decoded, ignitionValidate, secretFindings } from './helpers';
import { parsed, resources, type SynthesizedStack } from './stack-checks';
import { suiteApps } from './test-app';

Testing.setupJest();
const apps = suiteApps();

const BASE = '/home/pi-user/cluster';

function synth(config: ClusterConfig): SynthesizedStack {
  return parsed(Testing.synth(new RaspberryPiStack(apps.app(), 'raspberry-pi', config, config.raspberryPi!, { baseDir: BASE })));
}

type LocalFile = { filename: string; content: string; file_permission: string };

function files(stack: SynthesizedStack): Map<string, LocalFile> {
  return new Map((resources(stack, 'local_file') as LocalFile[]).map((f) => [f.filename, f]));
}

function ignitionOf(stack: SynthesizedStack, name: string): IgnitionConfig {
  const file = files(stack).get(`${BASE}/raspberry-pi/${name}.ign`);
  if (!file) throw new Error(`no Ignition file for ${name}`);
  return JSON.parse(file.content) as IgnitionConfig;
}

function fileIn(config: IgnitionConfig, path: string): { mode: number; text: string } {
  const file = config.storage.files.find((f) => f.path === path);
  if (!file) throw new Error(`no ${path}`);
  return { mode: file.mode, text: decoded(file.contents.source) };
}

describe('raspberry-pi stack', () => {
  const stack = synth(configWith());

  test('writes one Ignition file per Pi and the inventory with hashicorp/local', () => {
    expect(stack.json.terraform.required_providers.local).toEqual({ source: 'hashicorp/local', version: '~> 2.5' });
    expect([...files(stack).keys()].sort()).toEqual([
      `${BASE}/raspberry-pi/inventory.yaml`,
      `${BASE}/raspberry-pi/pi-0.ign`,
      `${BASE}/raspberry-pi/pi-1.ign`,
      `${BASE}/raspberry-pi/pi-2.ign`,
    ]);
    expect(stack.json.output?.ignitionFiles.value).toEqual({ 'pi-0': `${BASE}/raspberry-pi/pi-0.ign`, 'pi-1': `${BASE}/raspberry-pi/pi-1.ign`, 'pi-2': `${BASE}/raspberry-pi/pi-2.ign` });
    expect(stack.json.output?.inventoryFile.value).toBe(`${BASE}/raspberry-pi/inventory.yaml`);
    // Nothing to create in a cloud, so nothing to bootstrap from Terraform: the Pis are flashed first.
    expect(resources(stack, 'terraform_data')).toHaveLength(0);
  });

  test('each Pi gets a static address by NetworkManager keyfile, its hostname and FCOS runtime', () => {
    const pi1 = ignitionOf(stack, 'pi-1');
    expect(fileIn(pi1, '/etc/hostname').text).toBe('pi-1\n');
    const keyfile = fileIn(pi1, '/etc/NetworkManager/system-connections/lotse-wired.nmconnection');
    expect(keyfile.mode).toBe(0o600); // NetworkManager ignores keyfiles others can read
    expect(keyfile.text).toContain('type=ethernet');
    expect(keyfile.text).not.toContain('interface-name='); // any wired port: eth0 or end0
    expect(keyfile.text).toContain('method=manual');
    expect(keyfile.text).toContain('address1=192.168.1.11/24,192.168.1.1');
    expect(keyfile.text).toContain('dns=192.168.1.1;');
    expect(fileIn(pi1, '/etc/lotse/runtime.env').text).toContain('LOTSE_RUNTIME=podman');
    expect(pi1.systemd.units.find((u) => u.name === 'lotse-flannel.service')?.contents).toContain('--iface=192.168.1.11');
  });

  test('memory cgroup and vxlan: kernel argument guard, module list, preflight check', () => {
    const pi0 = ignitionOf(stack, 'pi-0');
    expect(pi0.kernelArguments).toEqual({ shouldExist: [], shouldNotExist: ['cgroup_disable=memory'] });
    expect(fileIn(pi0, '/etc/modules-load.d/lotse.conf').text).toContain('vxlan');
    const preflight = pi0.systemd.units.find((u) => u.name === 'lotse-preflight.service');
    expect(preflight?.enabled).toBe(true);
    expect(preflight?.contents).toContain('/sys/fs/cgroup/cgroup.controllers');
  });

  test('roles: etcd and master units only on the master', () => {
    const units = (name: string): string[] => ignitionOf(stack, name).systemd.units.map((u) => u.name);
    expect(units('pi-0')).toEqual(expect.arrayContaining(['lotse-etcd.service', 'lotse-master.service']));
    expect(units('pi-1')).not.toContain('lotse-master.service');
    expect(units('pi-2')).not.toContain('lotse-etcd.service');
  });

  test('every Pi Ignition passes ignition-validate, is small, and carries no secret', () => {
    for (const name of ['pi-0', 'pi-1', 'pi-2']) {
      const text = files(stack).get(`${BASE}/raspberry-pi/${name}.ign`)!.content;
      expect({ name, problems: ignitionValidate(text) }).toEqual({ name, problems: '' });
      expect(Buffer.byteLength(text)).toBeLessThan(64 * 1024);
    }
    expect(secretFindings(stack.text)).toEqual([]);
  });

  test('the inventory is the bootstrap format, with the sqlite store by default', () => {
    const inventory = parse(files(stack).get(`${BASE}/raspberry-pi/inventory.yaml`)!.content) as unknown;
    expect(inventory).toEqual({
      name: 'lotse',
      store: 'sqlite',
      // cluster.yaml's network reaches the Pis' bootstrap too.
      network: { podCidr: '10.244.0.0/16', serviceCidr: '10.96.0.0/12', dnsAddress: '169.254.20.10', clusterDomain: 'cluster.local' },
      hosts: [
        { name: 'pi-0', address: '192.168.1.10', port: 22, user: 'core', role: 'master' },
        { name: 'pi-1', address: '192.168.1.11', port: 22, user: 'core', role: 'worker' },
        { name: 'pi-2', address: '192.168.1.12', port: 22, user: 'core', role: 'worker' },
      ],
    });
  });
});

describe('raspberry-pi full synth', () => {
  test('the stack directory holds the Terraform JSON with the files to write', () => {
    const config = configWith();
    const outdir = Testing.fullSynth(new RaspberryPiStack(apps.app(), 'raspberry-pi', config, config.raspberryPi!, { baseDir: BASE }));
    try {
      const json = readFileSync(join(outdir, 'stacks', 'raspberry-pi', 'cdk.tf.json'), 'utf8');
      expect(json).toHaveResourceWithProperties({ tfResourceType: 'local_file' }, { filename: `${BASE}/raspberry-pi/pi-0.ign`, file_permission: '0644' });
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe('raspberry-pi settings from cluster.yaml', () => {
  test('per-node network overrides, etcd as an explicit store, another output directory', () => {
    const stack = synth(
      configWith({
        raspberryPi: {
          store: 'etcd',
          outputDir: '/srv/pis',
          network: { gateway: '10.0.0.1', dns: ['9.9.9.9', '1.1.1.1'] },
          nodes: [
            { name: 'alpha', address: '10.0.0.5', role: 'master' },
            { name: 'beta', address: '10.0.1.6', role: 'worker', interface: 'end0', prefixLength: 16, gateway: '10.0.0.254' },
          ],
        },
      }),
    );
    expect([...files(stack).keys()].sort()).toEqual(['/srv/pis/alpha.ign', '/srv/pis/beta.ign', '/srv/pis/inventory.yaml']);
    const beta = JSON.parse(files(stack).get('/srv/pis/beta.ign')!.content) as IgnitionConfig;
    const keyfile = fileIn(beta, '/etc/NetworkManager/system-connections/end0.nmconnection').text;
    expect(keyfile).toContain('interface-name=end0');
    expect(keyfile).toContain('address1=10.0.1.6/16,10.0.0.254');
    expect(beta.systemd.units.find((u) => u.name === 'lotse-flannel.service')?.contents).toContain('--iface=end0');
    expect(keyfile).toContain('dns=9.9.9.9;1.1.1.1;');
    expect((parse(files(stack).get('/srv/pis/inventory.yaml')!.content) as { store: string }).store).toBe('etcd');
  });
});
