import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { validateConfig } from '../../stacks/config/validate';
import { versionFor214 } from '../../rehearse/ignition-apply';
import { synthesizeMachines } from '../../rehearse/stack-machines';
import { suiteTempDir } from '../support/suite-temp-dir';

const REPO = join(__dirname, '..', '..');
const dir = suiteTempDir('lotse-rehearse-synth-');

test('every stack of the example becomes its machines, named by their Ignition hostname, with roles (and the Pis their static addresses)', () => {
  const config = validateConfig(parse(readFileSync(join(REPO, 'cluster.example.yaml'), 'utf8')), 'cluster.example.yaml');
  const summary = (stack: string) => synthesizeMachines(config, stack, join(dir, 'out'), dir).map((m) => `${m.name}/${m.role}${m.fixedAddress ? `@${m.fixedAddress}` : ''}`);
  for (const stack of ['gce', 'digitalocean', 'scaleway']) expect(summary(stack)).toEqual(['lotse-master-0/master', 'lotse-worker-0/worker', 'lotse-worker-1/worker']);
  expect(summary('raspberry-pi')).toEqual(['pi-0/master@192.168.1.10', 'pi-1/worker@192.168.1.11', 'pi-2/worker@192.168.1.12']);
  expect(() => summary('nowhere')).toThrow(/"nowhere" stack was not synthesized/);
});

test('only the version string 3.4.0 is renamed for Ignition 2.14; everything else passes as it is', () => {
  const config = { ignition: { version: '3.4.0' }, storage: { files: [{ path: '/etc/hostname' }] } };
  expect(JSON.parse(versionFor214(JSON.stringify(config)))).toEqual({ ...config, ignition: { version: '3.4.0-experimental' } });
  const v33 = JSON.stringify({ ignition: { version: '3.3.0' } });
  expect(versionFor214(v33)).toBe(v33);
});
