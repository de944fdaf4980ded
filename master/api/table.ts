import { mapItems, type Items } from './item-pages';
import type { Obj } from './registry';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- reading free-form objects for display only
type Cell = string | number;

interface Column {
  name: string;
  type: 'string' | 'integer' | 'date';
  priority?: number;
  cell: (o: Any) => Cell;
}

/** Kubernetes' short human durations ("5s", "3m20s", "4h", "12d"). */
export function humanAge(since: string | undefined, nowMs = Date.now()): string {
  if (!since) return '<unknown>';
  const s = Math.max(0, Math.floor((nowMs - Date.parse(since)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (d < 8) return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
  if (d < 365 * 2) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}

const name: Column = { name: 'Name', type: 'string', cell: (o) => o.metadata?.name ?? '' };
const age: Column = { name: 'Age', type: 'string', cell: (o) => humanAge(o.metadata?.creationTimestamp) };
const none = (v: unknown): string => (v === undefined || v === null || v === '' ? '<none>' : String(v));
const containers = (o: Any): Any[] => o.spec?.template?.spec?.containers ?? [];

function podStatus(p: Any): string {
  if (p.metadata?.deletionTimestamp) return 'Terminating';
  const statuses: Any[] = [...(p.status?.initContainerStatuses ?? [])];
  for (const [i, s] of statuses.entries()) {
    if (s.state?.terminated && s.state.terminated.exitCode !== 0) return `Init:${s.state.terminated.reason ?? 'Error'}`;
    if (s.state?.waiting && s.state.waiting.reason && s.state.waiting.reason !== 'PodInitializing') return `Init:${s.state.waiting.reason}`;
    if (!s.state?.terminated) return `Init:${i}/${statuses.length}`;
  }
  let reason: string = p.status?.reason ?? p.status?.phase ?? 'Pending';
  for (const s of (p.status?.containerStatuses ?? []) as Any[]) {
    if (s.state?.waiting?.reason) reason = s.state.waiting.reason;
    else if (s.state?.terminated?.reason) reason = s.state.terminated.reason;
    else if (s.state?.terminated) reason = s.state.terminated.signal ? `Signal:${s.state.terminated.signal}` : `ExitCode:${s.state.terminated.exitCode}`;
  }
  return reason;
}

function restarts(p: Any): string {
  const list: Any[] = p.status?.containerStatuses ?? [];
  const count = list.reduce((n, s) => n + (s.restartCount ?? 0), 0);
  const last = list
    .map((s) => s.lastState?.terminated?.finishedAt as string | undefined)
    .filter((t): t is string => Boolean(t))
    .sort()
    .pop();
  return last && count > 0 ? `${count} (${humanAge(last)} ago)` : String(count);
}

function nodeStatus(n: Any): string {
  const ready = ((n.status?.conditions ?? []) as Any[]).find((c) => c.type === 'Ready');
  const s = ready?.status === 'True' ? 'Ready' : ready?.status === 'False' ? 'NotReady' : 'Unknown';
  return n.spec?.unschedulable ? `${s},SchedulingDisabled` : s;
}

function nodeRoles(n: Any): string {
  const roles = Object.keys(n.metadata?.labels ?? {})
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length));
  return roles.length ? roles.sort().join(',') : '<none>';
}

const address = (n: Any, type: string): string => none(((n.status?.addresses ?? []) as Any[]).find((a) => a.type === type)?.address);

function servicePorts(s: Any): string {
  const ports: Any[] = s.spec?.ports ?? [];
  if (ports.length === 0) return '<none>';
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
}

function endpointsList(e: Any): string {
  const addrs: string[] = [];
  for (const subset of (e.subsets ?? []) as Any[]) {
    for (const a of (subset.addresses ?? []) as Any[]) for (const p of (subset.ports ?? [{}]) as Any[]) addrs.push(p.port ? `${a.ip}:${p.port}` : a.ip);
  }
  if (addrs.length === 0) return '<none>';
  return addrs.length > 3 ? `${addrs.slice(0, 3).join(',')} + ${addrs.length - 3} more...` : addrs.join(',');
}

const selectorText = (sel: Any | undefined): string =>
  sel ? none(Object.entries((sel.matchLabels ?? sel) as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(',')) : '<none>';

const hasCondition = (o: Any, type: string): boolean => ((o.status?.conditions ?? []) as Any[]).some((c) => c.type === type && c.status === 'True');

/** The STATUS kubectl 1.32 prints for a Job: its terminal or interim condition, else Running. */
function jobStatus(j: Any): string {
  if (hasCondition(j, 'Complete')) return 'Complete';
  if (hasCondition(j, 'Failed')) return 'Failed';
  if (j.metadata?.deletionTimestamp) return 'Terminating';
  if (hasCondition(j, 'Suspended')) return 'Suspended';
  if (hasCondition(j, 'FailureTarget')) return 'FailureTarget';
  if (hasCondition(j, 'SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

function jobCompletions(j: Any): string {
  const succeeded = j.status?.succeeded ?? 0;
  if (j.spec?.completions !== undefined && j.spec?.completions !== null) return `${succeeded}/${j.spec.completions}`;
  const parallelism = j.spec?.parallelism ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

/** From start to completion, or to now while the Job runs. */
function jobDuration(j: Any): string {
  const start = j.status?.startTime;
  if (!start) return '';
  const end = j.status?.completionTime ? Date.parse(j.status.completionTime) : Date.now();
  return humanAge(start, end);
}

const jobTemplateContainers = (c: Any): Any[] => c.spec?.jobTemplate?.spec?.template?.spec?.containers ?? [];

/**
 * "cpu: 40%/50%" per metric, as kubectl prints an HPA's targets (current first, <unknown> before
 * the first reading), for a v2 object or a v1 one (its single CPU target).
 */
function hpaTargets(h: Any): string {
  const v1 = h.spec?.targetCPUUtilizationPercentage;
  if (typeof v1 === 'number' || !h.spec?.metrics) {
    const current = h.status?.currentCPUUtilizationPercentage;
    return `cpu: ${current === undefined ? '<unknown>' : `${current}%`}/${v1 ?? 80}%`;
  }
  const current: Any[] = h.status?.currentMetrics ?? [];
  return (h.spec.metrics as Any[])
    .map((m) => {
      if (m.type !== 'Resource') return `${String(m.type).toLowerCase()}: <unknown>`;
      const now = current.find((c) => c.type === 'Resource' && c.resource?.name === m.resource?.name)?.resource?.current;
      const t = m.resource?.target ?? {};
      const utilization = t.type === 'Utilization';
      const got = now ? (utilization ? `${now.averageUtilization}%` : String(now.averageValue ?? now.value)) : '<unknown>';
      return `${m.resource?.name}: ${got}/${utilization ? `${t.averageUtilization}%` : String(t.averageValue ?? t.value)}`;
    })
    .join(', ');
}

/** kubectl's columns for ReplicaSets and ReplicationControllers, which differ only in how the selector reads. */
function replicaColumns(selector: (r: Any) => string): Column[] {
  return [
    name,
    { name: 'Desired', type: 'integer', cell: (r) => r.spec?.replicas ?? 0 },
    { name: 'Current', type: 'integer', cell: (r) => r.status?.replicas ?? 0 },
    { name: 'Ready', type: 'integer', cell: (r) => r.status?.readyReplicas ?? 0 },
    age,
    { name: 'Containers', type: 'string', priority: 1, cell: (r) => containers(r).map((c) => c.name).join(',') },
    { name: 'Images', type: 'string', priority: 1, cell: (r) => containers(r).map((c) => c.image).join(',') },
    { name: 'Selector', type: 'string', priority: 1, cell: selector },
  ];
}

const columns: Record<string, Column[]> = {
  Pod: [
    name,
    { name: 'Ready', type: 'string', cell: (p) => `${((p.status?.containerStatuses ?? []) as Any[]).filter((s) => s.ready).length}/${(p.spec?.containers ?? []).length}` },
    { name: 'Status', type: 'string', cell: podStatus },
    { name: 'Restarts', type: 'string', cell: restarts },
    age,
    { name: 'IP', type: 'string', priority: 1, cell: (p) => none(p.status?.podIP) },
    { name: 'Node', type: 'string', priority: 1, cell: (p) => none(p.spec?.nodeName) },
    { name: 'Nominated Node', type: 'string', priority: 1, cell: (p) => none(p.status?.nominatedNodeName) },
    { name: 'Readiness Gates', type: 'string', priority: 1, cell: (p) => none((p.spec?.readinessGates ?? []).length ? String(p.spec.readinessGates.length) : '') },
  ],
  Node: [
    name,
    { name: 'Status', type: 'string', cell: nodeStatus },
    { name: 'Roles', type: 'string', cell: nodeRoles },
    age,
    { name: 'Version', type: 'string', cell: (n) => none(n.status?.nodeInfo?.kubeletVersion) },
    { name: 'Internal-IP', type: 'string', priority: 1, cell: (n) => address(n, 'InternalIP') },
    { name: 'External-IP', type: 'string', priority: 1, cell: (n) => address(n, 'ExternalIP') },
    { name: 'OS-Image', type: 'string', priority: 1, cell: (n) => none(n.status?.nodeInfo?.osImage) },
    { name: 'Kernel-Version', type: 'string', priority: 1, cell: (n) => none(n.status?.nodeInfo?.kernelVersion) },
    { name: 'Container-Runtime', type: 'string', priority: 1, cell: (n) => none(n.status?.nodeInfo?.containerRuntimeVersion) },
  ],
  Deployment: [
    name,
    { name: 'Ready', type: 'string', cell: (d) => `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}` },
    { name: 'Up-to-date', type: 'integer', cell: (d) => d.status?.updatedReplicas ?? 0 },
    { name: 'Available', type: 'integer', cell: (d) => d.status?.availableReplicas ?? 0 },
    age,
    { name: 'Containers', type: 'string', priority: 1, cell: (d) => containers(d).map((c) => c.name).join(',') },
    { name: 'Images', type: 'string', priority: 1, cell: (d) => containers(d).map((c) => c.image).join(',') },
    { name: 'Selector', type: 'string', priority: 1, cell: (d) => selectorText(d.spec?.selector) },
  ],
  ReplicaSet: replicaColumns((r) => selectorText(r.spec?.selector)),
  // An RC's selector is a plain label map.
  ReplicationController: replicaColumns((r) => Object.entries(r.spec?.selector ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(',')),
  HorizontalPodAutoscaler: [
    name,
    { name: 'Reference', type: 'string', cell: (h) => `${h.spec?.scaleTargetRef?.kind ?? ''}/${h.spec?.scaleTargetRef?.name ?? ''}` },
    { name: 'Targets', type: 'string', cell: hpaTargets },
    { name: 'MinPods', type: 'string', cell: (h) => String(h.spec?.minReplicas ?? 1) },
    { name: 'MaxPods', type: 'integer', cell: (h) => h.spec?.maxReplicas ?? 0 },
    { name: 'Replicas', type: 'integer', cell: (h) => h.status?.currentReplicas ?? 0 },
    age,
  ],
  PodTemplate: [
    { name: 'Template', type: 'string', cell: (t) => t.metadata?.name ?? '' },
    { name: 'Containers', type: 'string', cell: (t) => (t.template?.spec?.containers ?? []).map((c: Any) => c.name).join(',') },
    { name: 'Images', type: 'string', cell: (t) => (t.template?.spec?.containers ?? []).map((c: Any) => c.image).join(',') },
    { name: 'Pod Labels', type: 'string', cell: (t) => Object.entries(t.template?.metadata?.labels ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(',') },
  ],
  DaemonSet: [
    name,
    { name: 'Desired', type: 'integer', cell: (d) => d.status?.desiredNumberScheduled ?? 0 },
    { name: 'Current', type: 'integer', cell: (d) => d.status?.currentNumberScheduled ?? 0 },
    { name: 'Ready', type: 'integer', cell: (d) => d.status?.numberReady ?? 0 },
    { name: 'Up-to-date', type: 'integer', cell: (d) => d.status?.updatedNumberScheduled ?? 0 },
    { name: 'Available', type: 'integer', cell: (d) => d.status?.numberAvailable ?? 0 },
    { name: 'Node Selector', type: 'string', cell: (d) => selectorText(d.spec?.template?.spec?.nodeSelector) },
    age,
  ],
  Job: [
    name,
    { name: 'Status', type: 'string', cell: jobStatus },
    { name: 'Completions', type: 'string', cell: jobCompletions },
    { name: 'Duration', type: 'string', cell: jobDuration },
    age,
    { name: 'Containers', type: 'string', priority: 1, cell: (j) => containers(j).map((c) => c.name).join(',') },
    { name: 'Images', type: 'string', priority: 1, cell: (j) => containers(j).map((c) => c.image).join(',') },
    { name: 'Selector', type: 'string', priority: 1, cell: (j) => selectorText(j.spec?.selector) },
  ],
  CronJob: [
    name,
    { name: 'Schedule', type: 'string', cell: (c) => c.spec?.schedule ?? '' },
    { name: 'Timezone', type: 'string', cell: (c) => none(c.spec?.timeZone) },
    { name: 'Suspend', type: 'string', cell: (c) => (c.spec?.suspend ? 'True' : 'False') },
    { name: 'Active', type: 'integer', cell: (c) => (c.status?.active ?? []).length },
    { name: 'Last Schedule', type: 'string', cell: (c) => (c.status?.lastScheduleTime ? humanAge(c.status.lastScheduleTime) : '<none>') },
    age,
    { name: 'Containers', type: 'string', priority: 1, cell: (c) => jobTemplateContainers(c).map((x) => x.name).join(',') },
    { name: 'Images', type: 'string', priority: 1, cell: (c) => jobTemplateContainers(c).map((x) => x.image).join(',') },
    { name: 'Selector', type: 'string', priority: 1, cell: (c) => selectorText(c.spec?.jobTemplate?.spec?.selector) },
  ],
  Service: [
    name,
    { name: 'Type', type: 'string', cell: (s) => s.spec?.type ?? 'ClusterIP' },
    { name: 'Cluster-IP', type: 'string', cell: (s) => none(s.spec?.clusterIP) },
    { name: 'External-IP', type: 'string', cell: (s) => none((s.spec?.externalIPs ?? []).join(',')) },
    { name: 'Port(s)', type: 'string', cell: servicePorts },
    age,
    { name: 'Selector', type: 'string', priority: 1, cell: (s) => selectorText(s.spec?.selector) },
  ],
  Endpoints: [name, { name: 'Endpoints', type: 'string', cell: endpointsList }, age],
  Ingress: [
    name,
    { name: 'Class', type: 'string', cell: (i) => i.spec?.ingressClassName ?? '<none>' },
    { name: 'Hosts', type: 'string', cell: (i) => (i.spec?.rules ?? []).map((r: Any) => r.host ?? '*').join(',') || '*' },
    { name: 'Address', type: 'string', cell: (i) => (i.status?.loadBalancer?.ingress ?? []).map((a: Any) => a.ip ?? a.hostname ?? '').join(',') },
    { name: 'Ports', type: 'string', cell: (i) => ((i.spec?.tls ?? []).length > 0 ? '80, 443' : '80') },
    age,
  ],
  StatefulSet: [
    name,
    { name: 'Ready', type: 'string', cell: (d) => `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}` },
    age,
    { name: 'Containers', type: 'string', priority: 1, cell: (d) => (d.spec?.template?.spec?.containers ?? []).map((c: Any) => c.name).join(',') },
    { name: 'Images', type: 'string', priority: 1, cell: (d) => (d.spec?.template?.spec?.containers ?? []).map((c: Any) => c.image).join(',') },
  ],
  ControllerRevision: [
    name,
    { name: 'Controller', type: 'string', cell: (r) => { const o = (r.metadata?.ownerReferences ?? []).find((x: Any) => x.controller); return o ? `${String(o.kind).toLowerCase()}.${String(o.apiVersion).split('/')[0]}/${o.name}` : '<none>'; } },
    { name: 'Revision', type: 'integer', cell: (r) => r.revision ?? 0 },
    age,
  ],
  PersistentVolumeClaim: [
    name,
    { name: 'Status', type: 'string', cell: (c) => c.status?.phase ?? 'Pending' },
    { name: 'Volume', type: 'string', cell: (c) => c.spec?.volumeName ?? '' },
    { name: 'Capacity', type: 'string', cell: (c) => c.status?.capacity?.storage ?? '' },
    { name: 'Access Modes', type: 'string', cell: (c) => accessModes(c.status?.accessModes ?? []) },
    { name: 'StorageClass', type: 'string', cell: (c) => c.spec?.storageClassName ?? '<unset>' },
    { name: 'VolumeAttributesClass', type: 'string', cell: () => '<unset>' },
    age,
  ],
  PersistentVolume: [
    name,
    { name: 'Capacity', type: 'string', cell: (v) => v.spec?.capacity?.storage ?? '' },
    { name: 'Access Modes', type: 'string', cell: (v) => accessModes(v.spec?.accessModes ?? []) },
    { name: 'Reclaim Policy', type: 'string', cell: (v) => v.spec?.persistentVolumeReclaimPolicy ?? 'Retain' },
    { name: 'Status', type: 'string', cell: (v) => v.status?.phase ?? 'Pending' },
    { name: 'Claim', type: 'string', cell: (v) => (v.spec?.claimRef ? `${v.spec.claimRef.namespace}/${v.spec.claimRef.name}` : '') },
    { name: 'StorageClass', type: 'string', cell: (v) => v.spec?.storageClassName ?? '' },
    { name: 'VolumeAttributesClass', type: 'string', cell: () => '<unset>' },
    { name: 'Reason', type: 'string', cell: (v) => v.status?.reason ?? '' },
    age,
  ],
  StorageClass: [
    { ...name, cell: (c) => `${c.metadata?.name ?? ''}${c.metadata?.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true' ? ' (default)' : ''}` },
    { name: 'Provisioner', type: 'string', cell: (c) => c.provisioner ?? '' },
    { name: 'ReclaimPolicy', type: 'string', cell: (c) => c.reclaimPolicy ?? 'Delete' },
    { name: 'VolumeBindingMode', type: 'string', cell: (c) => c.volumeBindingMode ?? 'Immediate' },
    { name: 'AllowVolumeExpansion', type: 'string', cell: (c) => String(c.allowVolumeExpansion ?? false) },
    age,
  ],
  PodDisruptionBudget: [
    name,
    { name: 'Min Available', type: 'string', cell: (p) => (p.spec?.minAvailable === undefined ? 'N/A' : String(p.spec.minAvailable)) },
    { name: 'Max Unavailable', type: 'string', cell: (p) => (p.spec?.maxUnavailable === undefined ? 'N/A' : String(p.spec.maxUnavailable)) },
    { name: 'Allowed Disruptions', type: 'integer', cell: (p) => p.status?.disruptionsAllowed ?? 0 },
    age,
  ],
  PriorityClass: [name, { name: 'Value', type: 'integer', cell: (c) => c.value ?? 0 }, { name: 'Global-Default', type: 'string', cell: (c) => String(c.globalDefault ?? false) }, { name: 'PreemptionPolicy', type: 'string', cell: (c) => c.preemptionPolicy ?? 'PreemptLowerPriority' }, age],
  IngressClass: [name, { name: 'Controller', type: 'string', cell: (c) => c.spec?.controller ?? '' }, { name: 'Parameters', type: 'string', cell: (c) => (c.spec?.parameters ? `${c.spec.parameters.kind}/${c.spec.parameters.name}` : '<none>') }, age],
  Namespace: [name, { name: 'Status', type: 'string', cell: (n) => n.status?.phase ?? 'Active' }, age],
  ConfigMap: [name, { name: 'Data', type: 'integer', cell: (c) => Object.keys(c.data ?? {}).length + Object.keys(c.binaryData ?? {}).length }, age],
  Secret: [name, { name: 'Type', type: 'string', cell: (s) => s.type ?? 'Opaque' }, { name: 'Data', type: 'integer', cell: (s) => Object.keys(s.data ?? {}).length }, age],
  ServiceAccount: [name, { name: 'Secrets', type: 'integer', cell: (s) => (s.secrets ?? []).length }, age],
  Lease: [name, { name: 'Holder', type: 'string', cell: (l) => l.spec?.holderIdentity ?? '' }, age],
  EndpointSlice: [
    name,
    { name: 'AddressType', type: 'string', cell: (e) => e.addressType ?? '' },
    { name: 'Ports', type: 'string', cell: (e) => none(((e.ports ?? []) as Any[]).map((p) => p.port).join(',')) },
    { name: 'Endpoints', type: 'string', cell: (e) => none(((e.endpoints ?? []) as Any[]).flatMap((x) => x.addresses ?? []).slice(0, 3).join(',')) },
    age,
  ],
  Event: [
    { name: 'Last Seen', type: 'string', cell: (e) => humanAge(e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp) },
    { name: 'Type', type: 'string', cell: (e) => e.type ?? '' },
    { name: 'Reason', type: 'string', cell: (e) => e.reason ?? '' },
    { name: 'Object', type: 'string', cell: (e) => `${String(e.involvedObject?.kind ?? '').toLowerCase()}/${e.involvedObject?.name ?? ''}` },
    { name: 'Message', type: 'string', cell: (e) => e.message ?? '' },
  ],
};

export type IncludeObject = 'None' | 'Metadata' | 'Object';

function accessModes(modes: string[]): string {
  const short: Record<string, string> = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' };
  return modes.map((m) => short[m] ?? m).join(',');
}

/** A meta.k8s.io/v1 Table, the server-side printing kubectl asks for. */
export function toTable(kind: string, items: Items<Obj>, meta: { resourceVersion?: string; continue?: string }, include: IncludeObject): Record<string, unknown> {
  const cols = columns[kind] ?? [name, age];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: meta,
    columnDefinitions: cols.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.name === 'Name' ? 'name' : '',
      description: '',
      priority: c.priority ?? 0,
    })),
    rows: mapItems(items, (o) => ({
      cells: cols.map((c) => c.cell(o as Any)),
      object:
        include === 'Object'
          ? o
          : include === 'None'
            ? undefined
            : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}
