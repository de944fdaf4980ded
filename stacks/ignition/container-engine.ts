import type { OperatingSystem } from '../config/cluster-config';

/** The container engine an OS ships, whose Docker-compatible API the lotse agent uses. */
export interface ContainerEngine {
  readonly name: 'podman' | 'docker';
  readonly binary: string;
  /** Units to enable so the API socket is there at boot. */
  readonly units: readonly string[];
  readonly endpoint: string;
}

/** FCOS dropped Moby and ships podman; Flatcar ships docker. */
export function engineFor(os: OperatingSystem): ContainerEngine {
  return os === 'fedora-coreos'
    ? { name: 'podman', binary: '/usr/bin/podman', units: ['podman.socket'], endpoint: 'unix:///run/podman/podman.sock' }
    : { name: 'docker', binary: '/usr/bin/docker', units: ['docker.socket', 'docker.service'], endpoint: 'unix:///run/docker.sock' };
}
