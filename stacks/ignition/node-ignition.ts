import type { HostRole } from '../../cluster/cluster-outputs-document';
import type { ImagesConfig, OperatingSystem, RebootWindow } from '../config/cluster-config';
import { IgnitionBuilder } from './builder';
import { engineFor } from './container-engine';
import { pathUnit } from './container-unit';
import { ETCD_SERVICE, etcdUnit } from './etcd-unit';
import { FLANNEL_SERVICE, flannelUnit } from './flannel-unit';
import { modulesLoadFile, sysctlFile } from './kernel-settings';
import { AGENT_SERVICE, MASTER_SERVICE, lotseUnit, runtimeEnvFile } from './lotse-units';
import { NODE_LAYOUT as P } from '../../cluster/node-layout';
import { PREFLIGHT_SERVICE, preflightUnit } from './preflight-unit';
import { rebootWindowFile } from './reboot-window';

/** The user every supported OS creates for SSH and the bootstrap logs in as. */
export const SSH_USER = 'core';

export interface NodeIgnitionProps {
  readonly hostname: string;
  readonly role: HostRole;
  readonly os: OperatingSystem;
  readonly sshAuthorizedKeys: readonly string[];
  readonly images: ImagesConfig;
  /** Interface for flannel's vxlan traffic. Default: the interface of the default route. */
  readonly flannelInterface?: string;
  /** When the OS may reboot into a staged update; without it the OS's own default (at once). */
  readonly rebootWindow?: RebootWindow;
}

/**
 * One machine's Ignition config, shared by every target. Targets add their own pieces to the
 * returned builder (the Pi stack adds a static address and kernel arguments).
 * Secrets never go here: certificates, keys and tokens come later from the bootstrap over SSH.
 */
export function nodeIgnition(props: NodeIgnitionProps): IgnitionBuilder {
  const engine = engineFor(props.os);
  const builder = new IgnitionBuilder()
    .user(SSH_USER, props.sshAuthorizedKeys)
    .file('/etc/hostname', `${props.hostname}\n`)
    .file('/etc/modules-load.d/lotse.conf', modulesLoadFile())
    .file('/etc/sysctl.d/90-lotse.conf', sysctlFile())
    .file(P.runtimeEnv, runtimeEnvFile(engine))
    .directory(P.etcDir, 0o755)
    .directory(P.pkiDir, 0o700)
    .directory(P.dataDir, 0o700)
    .unit({ name: FLANNEL_SERVICE, contents: flannelUnit({ engine, image: props.images.flannel, iface: props.flannelInterface }) })
    .unit({ name: 'lotse-flannel.path', enabled: true, contents: pathUnit(FLANNEL_SERVICE, P.flannelEnv) })
    .unit({ name: PREFLIGHT_SERVICE, enabled: true, contents: preflightUnit() })
    .unit({ name: AGENT_SERVICE, contents: lotseUnit('agent', engine) })
    .unit({ name: 'lotse-agent.path', enabled: true, contents: pathUnit(AGENT_SERVICE, P.agentEnv) });
  for (const unit of engine.units) builder.unit({ name: unit, enabled: true });
  if (props.rebootWindow) {
    const window = rebootWindowFile(props.os, props.rebootWindow);
    builder.file(window.path, window.contents);
  }
  if (props.role === 'master') {
    builder
      .unit({ name: ETCD_SERVICE, contents: etcdUnit(engine, props.images.etcd) })
      .unit({ name: 'lotse-etcd.path', enabled: true, contents: pathUnit(ETCD_SERVICE, P.etcdEnv) })
      .unit({ name: MASTER_SERVICE, contents: lotseUnit('master', engine) })
      .unit({ name: 'lotse-master.path', enabled: true, contents: pathUnit(MASTER_SERVICE, P.masterEnv) });
  }
  return builder;
}
