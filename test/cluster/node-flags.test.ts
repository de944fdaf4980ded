import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_NODE_FLAGS } from '../../cluster/agent-node-flags';
import { MASTER_NODE_FLAGS } from '../../cluster/master-node-flags';
import { runScript } from '../../bootstrap/service-scripts';
import type { HostFacts } from '../../bootstrap/host-facts';
import { NODE_BUILDS } from '../../bootstrap/node-build';
import { lotseUnit } from '../../stacks/ignition/lotse-units';
import { engineFor } from '../../stacks/ignition/container-engine';

const facts: HostFacts = { os: 'debian', osVersion: '12', arch: 'x86_64', hostname: 'h', init: 'systemd', root: true };
const engine = engineFor('fedora-coreos');

function execStart(unit: string): string {
  const line = unit.split('\n').find((l) => l.startsWith('ExecStart='));
  if (!line) throw new Error(`no ExecStart in\n${unit}`);
  return line;
}

/** Each component's flags, where they must appear, and the other component's unit and script, where they must not. */
const components = [
  {
    name: 'agent',
    flags: AGENT_NODE_FLAGS,
    measured: '--max-semi-space-size=1', // the idle-RSS saving of bench/RESULTS.md
    unit: () => execStart(lotseUnit('worker', engine)),
    unitLine: `ExecStart=/usr/bin/env $LOTSE_NODE ${AGENT_NODE_FLAGS.join(' ')} /opt/lotse/lotse-agent.js agent --runtime $LOTSE_RUNTIME --runtime-endpoint $LOTSE_RUNTIME_ENDPOINT $LOTSE_AGENT_ARGS`,
    script: () => runScript('agent', facts),
    scriptLine: `exec $LOTSE_NODE ${AGENT_NODE_FLAGS.join(' ')} /opt/lotse/lotse-agent.js agent `,
    otherUnit: () => execStart(lotseUnit('master', engine)),
    otherScript: () => runScript('master', facts),
  },
  {
    name: 'master',
    flags: MASTER_NODE_FLAGS,
    measured: '--max-semi-space-size=64', // the young generation of bench/RESULTS.md
    unit: () => execStart(lotseUnit('master', engine)),
    unitLine: `ExecStart=/usr/bin/env $LOTSE_NODE ${MASTER_NODE_FLAGS.join(' ')} /opt/lotse/lotse.js master $LOTSE_MASTER_ARGS`,
    script: () => runScript('master', facts),
    scriptLine: `exec $LOTSE_NODE ${MASTER_NODE_FLAGS.join(' ')} /opt/lotse/lotse.js master $LOTSE_MASTER_ARGS`,
    otherUnit: () => execStart(lotseUnit('worker', engine)),
    otherScript: () => runScript('agent', facts),
  },
];

describe.each(components)('the $name runs with its Node.js flags', (c) => {
  test('there are flags to pass', () => {
    expect(c.flags).toContain(c.measured);
  });

  test("in the Ignition unit, before the bundle, and not in the other component's unit", () => {
    expect(c.unit()).toBe(c.unitLine);
    for (const flag of c.flags) expect(c.otherUnit()).not.toContain(flag);
  });

  test("in the bootstrap run script (hosts without the Ignition units), and not in the other component's", () => {
    expect(c.script()).toContain(c.scriptLine);
    for (const flag of c.flags) expect(c.otherScript()).not.toContain(flag);
  });

  // node: host allows Node 20 and later, so every flag must be one both this Node and the shipped build accept.
  const shipped = join(__dirname, '../../.cache/node', `${NODE_BUILDS.amd64.packageName}-${NODE_BUILDS.amd64.version}`, 'package/bin/node');
  test.each([
    ['this Node.js', process.execPath],
    ['the shipped Node.js, when cached', shipped],
  ])('%s accepts every flag', (_name, node) => {
    if (!existsSync(node)) return;
    expect(execFileSync(node, [...c.flags, '-e', 'process.stdout.write(process.version)'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })).toMatch(/^v\d+/);
  });
});
