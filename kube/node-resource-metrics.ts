/**
 * What an agent reports to the master for the metrics API (metrics.k8s.io): the node's and each
 * running container's CPU rate and memory working set, as the kubelet's resource metrics do for
 * metrics-server.
 */
export const RESOURCE_METRICS_PATH = '/lotse/resource-metrics';

/** CPU in nanocores (1e9 is one core) and the memory working set in bytes. */
export interface Usage {
  cpuNanoCores: number;
  memoryBytes: number;
}

export interface PodUsage {
  namespace: string;
  name: string;
  containers: (Usage & { name: string })[];
}

export interface NodeResourceMetrics {
  /** When the later of the two readings behind the rates was taken. */
  timestamp: string;
  /** The time between the two readings. */
  windowSeconds: number;
  node: Usage;
  pods: PodUsage[];
}
