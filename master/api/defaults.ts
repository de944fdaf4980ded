import { defaultLimitRange } from './limit-ranger';
import { mergeStringData } from './secret-string-data';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- defaulting walks free-form JSON; nothing typed leaves this file

/**
 * Fills the defaults Kubernetes' API server fills, so clients (kubectl describe, rollout status,
 * the agent) see the same objects as on a real cluster.
 */
export function applyDefaults(kind: string, obj: Record<string, unknown>): void {
  const o = obj as Obj;
  switch (kind) {
    case 'Pod':
      defaultPodSpec(o.spec ?? (o.spec = {}));
      o.status ??= { phase: 'Pending', qosClass: qosClass(o.spec) };
      o.status.phase ??= 'Pending';
      break;
    case 'Deployment':
      defaultWorkload(o);
      o.spec.strategy ??= { type: 'RollingUpdate' };
      if (o.spec.strategy.type === 'RollingUpdate') o.spec.strategy.rollingUpdate ??= { maxSurge: '25%', maxUnavailable: '25%' };
      o.spec.revisionHistoryLimit ??= 10;
      o.spec.progressDeadlineSeconds ??= 600;
      break;
    case 'ReplicaSet':
      defaultWorkload(o);
      break;
    case 'DaemonSet':
      defaultWorkload(o);
      o.spec.updateStrategy ??= { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } };
      o.spec.revisionHistoryLimit ??= 10;
      break;
    case 'StatefulSet':
      defaultWorkload(o);
      o.spec.podManagementPolicy ??= 'OrderedReady';
      o.spec.updateStrategy ??= { type: 'RollingUpdate', rollingUpdate: { partition: 0 } };
      o.spec.revisionHistoryLimit ??= 10;
      o.spec.persistentVolumeClaimRetentionPolicy ??= { whenDeleted: 'Retain', whenScaled: 'Retain' };
      break;
    case 'LimitRange':
      defaultLimitRange(o);
      break;
    case 'ReplicationController':
      o.spec ??= {};
      o.spec.replicas ??= 1;
      o.spec.minReadySeconds ??= 0;
      // An RC's selector is a plain map; without one it selects its template's labels.
      if (!o.spec.selector && o.spec.template?.metadata?.labels) o.spec.selector = { ...o.spec.template.metadata.labels };
      if (o.spec.template) defaultPodSpec(o.spec.template.spec ?? (o.spec.template.spec = {}));
      break;
    case 'PersistentVolumeClaim':
      o.spec ??= {};
      o.spec.volumeMode ??= 'Filesystem';
      o.status ??= { phase: 'Pending' };
      break;
    case 'PersistentVolume':
      o.spec ??= {};
      o.spec.persistentVolumeReclaimPolicy ??= 'Retain';
      o.spec.volumeMode ??= 'Filesystem';
      o.status ??= { phase: 'Pending' };
      break;
    case 'Job':
      defaultJob(o);
      break;
    case 'HorizontalPodAutoscaler':
      o.spec ??= {};
      o.spec.minReplicas ??= 1;
      // v2 without metrics means 80% CPU, as Kubernetes defaults it; v1's absent target means the same.
      if (o.apiVersion === 'autoscaling/v2' && !(o.spec.metrics ?? []).length) o.spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
      break;
    case 'CronJob':
      o.spec ??= {};
      o.spec.concurrencyPolicy ??= 'Allow';
      o.spec.suspend ??= false;
      o.spec.successfulJobsHistoryLimit ??= 3;
      o.spec.failedJobsHistoryLimit ??= 1;
      defaultPodSpec(((o.spec.jobTemplate ??= {}).spec ??= {}).template?.spec ?? {});
      break;
    case 'Service':
      defaultService(o.spec ?? (o.spec = {}));
      break;
    case 'Namespace':
      o.spec ??= {};
      o.spec.finalizers ??= ['kubernetes'];
      o.status ??= {};
      o.status.phase ??= 'Active';
      break;
    case 'Secret':
      o.type ??= 'Opaque';
      mergeStringData(o);
      break;
  }
}

function defaultWorkload(o: Obj): void {
  o.spec ??= {};
  if (o.kind !== 'DaemonSet') o.spec.replicas ??= 1;
  o.spec.minReadySeconds ??= 0;
  const tpl = (o.spec.template ??= {});
  tpl.metadata ??= {};
  // A workload without a selector selects its template's labels, as apps/v1 clients expect.
  if (!o.spec.selector && tpl.metadata.labels) o.spec.selector = { matchLabels: { ...tpl.metadata.labels } };
  defaultPodSpec(tpl.spec ?? (tpl.spec = {}));
}

/** batch/v1 Job defaults as upstream's SetDefaults_Job: a Job without counts runs one pod once. */
function defaultJob(o: Obj): void {
  const spec = (o.spec ??= {});
  if (spec.completions === undefined && spec.parallelism === undefined) spec.completions = 1;
  spec.parallelism ??= 1;
  spec.backoffLimit ??= spec.backoffLimitPerIndex === undefined ? 6 : 2147483647;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  spec.podReplacementPolicy ??= spec.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed';
  for (const rule of spec.podFailurePolicy?.rules ?? []) for (const c of rule.onPodConditions ?? []) c.status ??= 'True';
  const tpl = (spec.template ??= {});
  tpl.metadata ??= {};
  if (!o.metadata?.labels && tpl.metadata.labels) (o.metadata ??= {}).labels = { ...tpl.metadata.labels };
  defaultPodSpec(tpl.spec ?? (tpl.spec = {}));
}

function defaultPodSpec(spec: Obj): void {
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  spec.enableServiceLinks ??= true;
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? []), ...(spec.ephemeralContainers ?? [])]) defaultContainer(c);
  for (const v of spec.volumes ?? []) defaultVolume(v);
}

/** A volume naming no source is an emptyDir, as the apiserver defaults it. */
function defaultVolume(v: Obj): void {
  if (!v || typeof v !== 'object') return;
  if (!Object.keys(v).some((k) => k !== 'name')) v.emptyDir = {};
  for (const source of [v.downwardAPI, ...(v.projected?.sources ?? []).map((s: Obj) => s?.downwardAPI)]) {
    for (const item of source?.items ?? []) defaultFieldRef(item?.fieldRef);
  }
}

/** fieldRef.apiVersion defaults to v1 (describe prints "(v1:metadata.name)"). */
function defaultFieldRef(ref: Obj | undefined): void {
  if (ref && typeof ref === 'object') ref.apiVersion ??= 'v1';
}

function defaultContainer(c: Obj): void {
  const image = String(c.image ?? '');
  const tag = image.includes('@') ? 'digest' : /:[^/]+$/.test(image) ? image.slice(image.lastIndexOf(':') + 1) : 'latest';
  c.imagePullPolicy ??= tag === 'latest' ? 'Always' : 'IfNotPresent';
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  c.resources ??= {};
  for (const e of c.env ?? []) defaultFieldRef(e?.valueFrom?.fieldRef);
  for (const p of c.ports ?? []) p.protocol ??= 'TCP';
  for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
    if (!probe) continue;
    probe.timeoutSeconds ??= 1;
    probe.periodSeconds ??= 10;
    probe.successThreshold ??= 1;
    probe.failureThreshold ??= 3;
    if (probe.httpGet) probe.httpGet.scheme ??= 'HTTP';
  }
}

function defaultService(spec: Obj): void {
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  spec.ipFamilies ??= ['IPv4'];
  spec.ipFamilyPolicy ??= 'SingleStack';
  spec.internalTrafficPolicy ??= 'Cluster';
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') spec.externalTrafficPolicy ??= 'Cluster';
  for (const p of spec.ports ?? []) {
    p.protocol ??= 'TCP';
    p.targetPort ??= p.port;
  }
}

export function qosClass(spec: Obj): string {
  const containers: Obj[] = spec.containers ?? [];
  const hasAny = containers.some((c) => Object.keys(c.resources?.requests ?? {}).length || Object.keys(c.resources?.limits ?? {}).length);
  if (!hasAny) return 'BestEffort';
  const guaranteed = containers.every((c) => {
    const l = c.resources?.limits ?? {};
    const r = c.resources?.requests ?? l;
    return l.cpu !== undefined && l.memory !== undefined && String(r.cpu) === String(l.cpu) && String(r.memory) === String(l.memory);
  });
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/**
 * The status an object created without one comes back with: Kubernetes' typed structs serialize
 * their non-omitempty fields, so a ReplicaSet shows `replicas: 0` and a Deployment `status: {}`.
 */
const emptyStatus: Record<string, () => Obj> = {
  Deployment: () => ({}),
  ReplicaSet: () => ({ replicas: 0 }),
  DaemonSet: () => ({ currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 }),
  Service: () => ({ loadBalancer: {} }),
};

export function defaultStatus(kind: string, obj: Record<string, unknown>): void {
  const empty = emptyStatus[kind];
  if (empty && (obj.status === undefined || obj.status === null)) obj.status = empty();
}
