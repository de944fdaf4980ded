import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_NODE_FLAGS } from '../../cluster/agent-node-flags';
import { runScript } from '../../bootstrap/service-scripts';
import type { HostFacts } from '../../bootstrap/host-facts';
import { NODE_BUILDS } from '../../bootstrap/node-build';
import { lotseUnit } from '../../stacks/ignition/lotse-units';
import { engineFor } from '../../stacks/ignition/container-engine';

const facts: HostFacts = { os: 'debian', osVersion: '12', arch: 'x86_64', hostname: 'h', init: 'systemd', root: true };
const flags = AGENT_NODE_FLAGS.join(' ');

function execStart(unit: string): string {
  const line = unit.split('\n').find((l) => l.startsWith('ExecStart='));
  if (!line) throw new Error(`no ExecStart in\n${unit}`);
  return line;
}

describe('the agent runs with its Node.js flags', () => {
  test('there are flags to pass (the idle-RSS saving of bench/RESULTS.md)', () => {
    expect(AGENT_NODE_FLAGS).toContain('--max-semi-space-size=1');
  });

  test('in the Ignition unit, before the bundle, and not in the master unit', () => {
    const engine = engineFor('fedora-coreos');
    expect(execStart(lotseUnit('worker', engine))).toBe(`ExecStart=/usr/bin/env $LOTSE_NODE ${flags} /opt/lotse/lotse-agent.js agent --runtime $LOTSE_RUNTIME --runtime-endpoint $LOTSE_RUNTIME_ENDPOINT $LOTSE_AGENT_ARGS`);
    for (const flag of AGENT_NODE_FLAGS) expect(execStart(lotseUnit('master', engine))).not.toContain(flag);
  });

  test('in the bootstrap run script (hosts without the Ignition units), and not in the master one', () => {
    expect(runScript('agent', facts)).toContain(`exec $LOTSE_NODE ${flags} /opt/lotse/lotse-agent.js agent `);
    for (const flag of AGENT_NODE_FLAGS) expect(runScript('master', facts)).not.toContain(flag);
  });

  // node: host allows Node 20 and later, so every flag must be one both this Node and the shipped build accept.
  const shipped = join(__dirname, '../../.cache/node', `${NODE_BUILDS.amd64.packageName}-${NODE_BUILDS.amd64.version}`, 'package/bin/node');
  test.each([
    ['this Node.js', process.execPath],
    ['the shipped Node.js, when cached', shipped],
  ])('%s accepts every flag', (_name, node) => {
    if (!existsSync(node)) return;
    expect(execFileSync(node, [...AGENT_NODE_FLAGS, '-e', 'process.stdout.write(process.version)'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })).toMatch(/^v\d+/);
  });
});
