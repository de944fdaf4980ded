import type { HostRole } from '../../cluster/cluster-outputs-document';
import type { ContainerEngine } from './container-engine';
import { ETCD_SERVICE } from './etcd-unit';
import { FLANNEL_SERVICE } from './flannel-unit';
import { NODE_LAYOUT as P } from '../../cluster/node-layout';
import { AGENT_NODE_FLAGS } from '../../cluster/agent-node-flags';
import { MASTER_NODE_FLAGS } from '../../cluster/master-node-flags';
import { PREFLIGHT_SERVICE } from './preflight-unit';
import { DNS_ADDRESS_SCRIPT } from '../../cluster/node-dns';
import { renderUnit } from './systemd-unit';

export const MASTER_SERVICE = 'lotse-master.service';
export const AGENT_SERVICE = 'lotse-agent.service';

/**
 * `lotse master` / `lotse agent` as services. The bundle and the env files (LOTSE_NODE: the node
 * binary the bootstrap installed; LOTSE_MASTER_ARGS / LOTSE_AGENT_ARGS) arrive over SSH, so the
 * units are gated on them and started by path units when the env file appears.
 * Variables are written `$NAME` (whole words) and never `${NAME}`: Terraform would read that as
 * its own interpolation inside user-data.
 */
export function lotseUnit(role: HostRole | 'agent', engine: ContainerEngine): string {
  const isMaster = role === 'master';
  const envFile = isMaster ? P.masterEnv : P.agentEnv;
  const command = isMaster
    ? `/usr/bin/env $LOTSE_NODE ${MASTER_NODE_FLAGS.join(' ')} ${P.bundle} master $LOTSE_MASTER_ARGS`
    : `/usr/bin/env $LOTSE_NODE ${AGENT_NODE_FLAGS.join(' ')} ${P.agentBundle} agent --runtime $LOTSE_RUNTIME --runtime-endpoint $LOTSE_RUNTIME_ENDPOINT $LOTSE_AGENT_ARGS`;
  const after = isMaster
    ? ['network-online.target', ETCD_SERVICE]
    : ['network-online.target', PREFLIGHT_SERVICE, FLANNEL_SERVICE, ...engine.units];
  return renderUnit({
    Unit: [
      ['Description', isMaster ? 'lotse master (Kubernetes API, scheduler, controllers)' : 'lotse node agent'],
      ['Wants', 'network-online.target'],
      ['After', after.join(' ')],
      ...(isMaster ? [] : [['Requires', PREFLIGHT_SERVICE] as const]),
      ['ConditionPathExists', isMaster ? P.bundle : P.agentBundle],
    ],
    Service: [
      ...(isMaster ? [] : [['EnvironmentFile', P.runtimeEnv] as const]),
      ['EnvironmentFile', envFile],
      // The cluster DNS address the agent serves on (LOTSE_DNS_ADDRESS in agent.env).
      ...(isMaster ? [] : [['ExecStartPre', `/bin/sh -c '${DNS_ADDRESS_SCRIPT}'`] as const]),
      ['ExecStart', command],
      ['Restart', 'always'],
      ['RestartSec', '5'],
    ],
    Install: [['WantedBy', 'multi-user.target']],
  });
}

export function runtimeEnvFile(engine: ContainerEngine): string {
  return `LOTSE_RUNTIME=${engine.name}\nLOTSE_RUNTIME_ENDPOINT=${engine.endpoint}\n`;
}
