import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiSans } from '../../bootstrap/cluster-pki';
import { apiEndpoint, loadInventory, loadOutputs, parseInventory } from '../../bootstrap/inventory';
import { inventoryFrom } from '../../cli/commands/bootstrap';

describe('bootstrap inventory', () => {
  test('fills defaults and resolves identity files next to the inventory', () => {
    const inv = parseInventory(
      ['name: pis', 'hosts:', '  - {name: m1, address: 192.168.1.10, role: master, identityFile: keys/id}', '  - {name: w1, address: 192.168.1.11, role: worker, user: core, port: 2222, jump: admin@bastion:2200}'].join('\n'),
      '/srv/cluster/inventory.yaml',
    );
    expect(inv.store).toBe('etcd');
    expect(inv.node).toBe('shipped');
    expect(inv.network.podCidr).toBe('10.244.0.0/16');
    expect(inv.hosts[0]).toMatchObject({ port: 22, user: 'root', privateAddress: '192.168.1.10', identityFile: '/srv/cluster/keys/id' });
    expect(inv.hosts[1]).toMatchObject({ port: 2222, user: 'core', identityFile: undefined, jump: { user: 'admin', host: 'bastion', port: 2200 } });
  });

  test('errors name the key that is wrong and what was expected', () => {
    const bad = ['name: Lab', 'stor: etcd', 'hosts:', '  - {name: m1, address: 10.0.0.1, role: boss}', '  - {name: w1, role: worker, port: 70000}'].join('\n');
    let message = '';
    try {
      parseInventory(bad, 'inv.yaml');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^inventory inv\.yaml is invalid:/);
    expect(message).toMatch(/name must be lower-case letters, digits and dashes/);
    expect(message).toMatch(/stor is not a known key/);
    expect(message).toMatch(/hosts\[0\]\.role must be one of master, worker \(got "boss"\)/);
    expect(message).toMatch(/hosts\[1\]\.address is required/);
    expect(message).toMatch(/hosts\[1\]\.port must be <= 65535/);
  });

  test('an inventory naming a Node.js image is refused with the way out', () => {
    expect(() => parseInventory('name: old\nnodeImage: docker.io/library/node:22-slim\nhosts: [{name: m1, address: 10.0.0.1, role: master}]', '/srv/inv.yaml')).toThrow(
      /nodeImage: no longer used; lotse ships a pinned Node.js build to the hosts and pulls no image \(remove the key; node: host/,
    );
    expect(() => parseInventory('name: x\nnode: container\nhosts: [{name: m1, address: 10.0.0.1, role: master}]', '/srv/inv.yaml')).toThrow(/node/);
  });

  test('refuses duplicate names, no master, and SQLite with several masters', () => {
    const yaml = ['name: lab', 'store: sqlite', 'hosts:', '  - {name: a, address: 10.0.0.1, role: master}', '  - {name: a, address: 10.0.0.2, role: master}'].join('\n');
    expect(() => parseInventory(yaml, 'inv.yaml')).toThrow(/hosts\[1\]\.name "a" is already used by hosts\[0\][\s\S]*store: sqlite keeps the state on one machine, but 2 hosts are masters/);
    expect(() => parseInventory('name: lab\nhosts:\n  - {name: w, address: 10.0.0.1, role: worker}', 'inv.yaml')).toThrow(/no host has role: master/);
    expect(() => parseInventory('name: [', 'inv.yaml')).toThrow(/inventory inv\.yaml is not valid YAML/);
  });

  test('reads the outputs JSON of a deployed stack', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lotse-outputs-'));
    try {
      const file = join(dir, 'lotse-outputs.json');
      writeFileSync(
        file,
        JSON.stringify({
          clusterName: 'demo',
          store: 'etcd',
          sshUser: 'core',
          masterAddresses: ['203.0.113.10'],
          workerAddresses: ['203.0.113.11'],
          hosts: [
            { name: 'demo-master-0', role: 'master', address: '203.0.113.10', privateAddress: '10.0.0.2', user: 'core', port: 22 },
            { name: 'demo-worker-0', role: 'worker', address: '203.0.113.11', privateAddress: '10.0.0.3', user: 'core', port: 22 },
          ],
          clusterNetwork: { podCidr: '10.50.0.0/16', serviceCidr: '10.60.0.0/16', dnsAddress: '169.254.20.53', clusterDomain: 'lab.example' },
          sshIdentityFile: '/home/me/.ssh/lotse_ed25519',
        }),
      );
      const inv = loadOutputs(file);
      expect(inv.name).toBe('demo');
      expect(inv.hosts.map((h) => [h.name, h.role, h.address, h.privateAddress, h.user])).toEqual([
        ['demo-master-0', 'master', '203.0.113.10', '10.0.0.2', 'core'],
        ['demo-worker-0', 'worker', '203.0.113.11', '10.0.0.3', 'core'],
      ]);
      // The network and the identity file travel from cluster.yaml through the outputs: no ssh-agent needed.
      expect(inv.network).toEqual({ podCidr: '10.50.0.0/16', serviceCidr: '10.60.0.0/16', dnsAddress: '169.254.20.53', clusterDomain: 'lab.example' });
      expect(inv.hosts.map((h) => h.identityFile)).toEqual(['/home/me/.ssh/lotse_ed25519', '/home/me/.ssh/lotse_ed25519']);
      expect(apiEndpoint(inv)).toBeUndefined();
      writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), apiAddress: '198.51.100.7:443' }));
      const balanced = loadOutputs(file);
      // The load balancer a stack made: the kubeconfig points there and the masters' certificate names it.
      expect(apiEndpoint(balanced)).toEqual({ host: '198.51.100.7', port: 443 });
      expect(apiSans(balanced)).toContain('198.51.100.7');
      // A Node.js mirror from cluster.yaml's bootstrap.nodeRegistry reaches the bootstrap.
      writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), nodeRegistry: 'https://npm.mirror.test' }));
      expect(loadOutputs(file).nodeRegistry).toBe('https://npm.mirror.test');
      expect(apiEndpoint({ apiAddress: 'api.example.test' })).toEqual({ host: 'api.example.test', port: 6443 });
      writeFileSync(file, JSON.stringify({ clusterName: 'demo', hosts: [{ name: 'x', address: '1.2.3.4' }] }));
      expect(() => loadOutputs(file)).toThrow(/hosts\[0\]\.role is required/);
      expect(() => loadOutputs(file)).toThrow(/clusterNetwork is required/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the example inventory and the command line', () => {
  test('bootstrap/inventory.example.yaml is valid and shows every key', () => {
    const inv = loadInventory(join(__dirname, '..', '..', 'bootstrap', 'inventory.example.yaml'));
    expect(inv.hosts.map((h) => h.role)).toEqual(['master', 'worker', 'worker']);
    expect(inv.hosts[2].jump).toEqual({ user: 'admin', host: 'bastion.example.com', port: 22 });
  });

  test('lotse bootstrap wants exactly one of --inventory and --outputs', () => {
    expect(() => inventoryFrom({})).toThrow(/give exactly one of --inventory FILE \(YAML\) or --outputs FILE/);
    expect(() => inventoryFrom({ inventory: 'a', outputs: 'b' })).toThrow(/exactly one/);
    expect(() => inventoryFrom({ inventory: '/nonexistent/inv.yaml' })).toThrow(/cannot read the inventory \/nonexistent\/inv\.yaml: ENOENT/);
  });
});
