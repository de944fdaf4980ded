import type { DetectedRuntime } from './runtime-detection';

/**
 * Where pods of a local cluster reach this machine: the gateway of the engine's default bridge
 * (podman's `podman` network, docker's `bridge`). Cluster DNS and the master's pod-facing address
 * live there, since the master's own 127.0.0.1 is not reachable from a pod.
 */
export function podGateway(kind: DetectedRuntime['kind']): string {
  return kind === 'docker' ? '172.17.0.1' : '10.88.0.1';
}
