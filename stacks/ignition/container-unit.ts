import type { ContainerEngine } from './container-engine';
import { renderUnit } from './systemd-unit';

/** Props of a systemd service that runs one host-network container. */
export interface ContainerUnitProps {
  readonly engine: ContainerEngine;
  readonly description: string;
  /** Container name, also used to clean up a stale one before start. */
  readonly container: string;
  readonly image: string;
  readonly entrypoint: string;
  readonly args: readonly string[];
  /** `host:container[:ro]` bind mounts. */
  readonly volumes: readonly string[];
  readonly privileged?: boolean;
  /** Capabilities added to the engine's default set (least privilege where `privileged` is not needed). */
  readonly capAdd?: readonly string[];
  readonly envFile?: string;
  readonly environment?: Readonly<Record<string, string>>;
  readonly after?: readonly string[];
  /** Files that must exist before the unit may start (delivered by the bootstrap). */
  readonly requiresFiles?: readonly string[];
  readonly execStartPre?: readonly string[];
}

/**
 * A service running a container with `podman run`/`docker run` (same flags on both).
 * SELinux labels are disabled for these system containers because they bind-mount host
 * state (/etc/lotse/pki, /var/lib/etcd) that must not be relabelled.
 */
export function containerUnit(props: ContainerUnitProps): string {
  const { engine } = props;
  const run = [
    engine.binary, 'run', '--rm', '--name', props.container, '--network', 'host', '--security-opt', 'label=disable',
    ...(props.privileged ? ['--privileged'] : []),
    ...(props.capAdd ?? []).map((cap) => `--cap-add=${cap}`),
    ...(props.envFile ? ['--env-file', props.envFile] : []),
    ...Object.entries(props.environment ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
    ...props.volumes.flatMap((v) => ['-v', v]),
    '--entrypoint', props.entrypoint, props.image, ...props.args,
  ].join(' ');
  const after = ['network-online.target', ...engine.units, ...(props.after ?? [])];
  return renderUnit({
    Unit: [
      ['Description', props.description],
      ['Wants', 'network-online.target'],
      ['After', after.join(' ')],
      ...(props.requiresFiles ?? []).map((f) => ['ConditionPathExists', f] as const),
    ],
    Service: [
      ...(props.envFile ? [['EnvironmentFile', props.envFile] as const] : []),
      ...(props.execStartPre ?? []).map((c) => ['ExecStartPre', c] as const),
      ['ExecStartPre', `-${engine.binary} rm -f ${props.container}`],
      ['ExecStart', run],
      ['ExecStop', `-${engine.binary} stop ${props.container}`],
      ['Restart', 'always'],
      ['RestartSec', '10'],
      ['TimeoutStartSec', '300'],
    ],
    Install: [['WantedBy', 'multi-user.target']],
  });
}

/** A .path unit that starts `service` once `file` exists: the bootstrap writes it last. */
export function pathUnit(service: string, file: string): string {
  return renderUnit({
    Unit: [['Description', `Start ${service} once the bootstrap has delivered ${file}`]],
    Path: [['PathExists', file], ['Unit', service]],
    Install: [['WantedBy', 'multi-user.target']],
  });
}
