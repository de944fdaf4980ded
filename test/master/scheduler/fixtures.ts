import type { Node, Pod, Taint } from 'kubernetes-types/core/v1';

/** Small builders for scheduler unit tests. */

export function node(name: string, opts: { cpu?: string; memory?: string; pods?: string; labels?: Record<string, string>; taints?: Taint[]; ready?: 'True' | 'False' | 'Unknown'; unschedulable?: boolean } = {}): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(opts.labels ?? {}) } },
    spec: { taints: opts.taints, unschedulable: opts.unschedulable },
    status: {
      allocatable: { cpu: opts.cpu ?? '4', memory: opts.memory ?? '8Gi', pods: opts.pods ?? '110' },
      conditions: [{ type: 'Ready', status: opts.ready ?? 'True' }],
    },
  };
}

export function pod(name: string, opts: { cpu?: string; memory?: string; nodeName?: string; owner?: string; nodeSelector?: Record<string, string>; hostPort?: number; tolerations?: Pod['spec'] extends infer S ? S extends { tolerations?: infer T } ? T : never : never; affinity?: Pod['spec'] extends infer S ? S extends { affinity?: infer A } ? A : never : never } = {}): Pod {
  const requests: Record<string, string> = {};
  if (opts.cpu) requests.cpu = opts.cpu;
  if (opts.memory) requests.memory = opts.memory;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      ownerReferences: opts.owner ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: opts.owner, uid: opts.owner, controller: true }] : undefined,
    },
    spec: {
      nodeName: opts.nodeName,
      nodeSelector: opts.nodeSelector,
      tolerations: opts.tolerations,
      affinity: opts.affinity,
      containers: [{ name: 'c', image: 'x', resources: { requests }, ports: opts.hostPort ? [{ containerPort: 80, hostPort: opts.hostPort }] : undefined }],
    },
  };
}
