import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MASTER_NODE_FLAGS } from '../../cluster/master-node-flags';
import { runScript } from '../../bootstrap/service-scripts';
import type { HostFacts } from '../../bootstrap/host-facts';
import { NODE_BUILDS } from '../../bootstrap/node-build';
import { lotseUnit } from '../../stacks/ignition/lotse-units';
import { engineFor } from '../../stacks/ignition/container-engine';

const facts: HostFacts = { os: 'debian', osVersion: '12', arch: 'x86_64', hostname: 'h', init: 'systemd', root: true };
const flags = MASTER_NODE_FLAGS.join(' ');

function execStart(unit: string): string {
  const line = unit.split('\n').find((l) => l.startsWith('ExecStart='));
  if (!line) throw new Error(`no ExecStart in\n${unit}`);
  return line;
}

describe('the master runs with its Node.js flags', () => {
  test('there are flags to pass (the young generation of bench/RESULTS.md)', () => {
    expect(MASTER_NODE_FLAGS).toContain('--max-semi-space-size=64');
  });

  test('in the Ignition unit, before the bundle, and not in the agent unit', () => {
    const engine = engineFor('fedora-coreos');
    expect(execStart(lotseUnit('master', engine))).toBe(`ExecStart=/usr/bin/env $LOTSE_NODE ${flags} /opt/lotse/lotse.js master $LOTSE_MASTER_ARGS`);
    for (const flag of MASTER_NODE_FLAGS) expect(execStart(lotseUnit('worker', engine))).not.toContain(flag);
  });

  test('in the bootstrap run script (hosts without the Ignition units), and not in the agent one', () => {
    expect(runScript('master', facts)).toContain(`exec $LOTSE_NODE ${flags} /opt/lotse/lotse.js master $LOTSE_MASTER_ARGS`);
    for (const flag of MASTER_NODE_FLAGS) expect(runScript('agent', facts)).not.toContain(flag);
  });

  // node: host allows Node 20 and later, so every flag must be one both this Node and the shipped build accept.
  const shipped = join(__dirname, '../../.cache/node', `${NODE_BUILDS.amd64.packageName}-${NODE_BUILDS.amd64.version}`, 'package/bin/node');
  test.each([
    ['this Node.js', process.execPath],
    ['the shipped Node.js, when cached', shipped],
  ])('%s accepts every flag', (_name, node) => {
    if (!existsSync(node)) return;
    expect(execFileSync(node, [...MASTER_NODE_FLAGS, '-e', 'process.stdout.write(process.version)'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })).toMatch(/^v\d+/);
  });
});
