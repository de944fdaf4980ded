import { hpaV1ToV2, hpaV2ToV1 } from './hpa-conversion';
/** One REST resource the master serves, with what discovery, OpenAPI and the registry need to know. */
export interface ResourceInfo {
  group: string;
  version: string;
  kind: string;
  /** Lower-case plural, the path segment. */
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  /** 'all' makes `kubectl get all` include it. */
  categories?: string[];
  subresources: string[];
  /** Name of the schema in master/api/openapi/schemas.json. */
  schema: string;
  /** Model of the kubernetes-models package that validates it ('apps/v1/Deployment'). */
  validator: string;
  /** Spec changes bump metadata.generation (objects with a spec/status split). */
  hasGeneration?: boolean;
  /**
   * Only `create`: a review that is answered and never stored (SubjectAccessReview, TokenReview,
   * ...); the server answers it before the registry.
   */
  createOnly?: boolean;
  /** Set on a version of a CustomResourceDefinition: what its schema, columns and scale say. */
  custom?: CustomResource;
  /**
   * Only `get` and `list`: figures computed on request from the agents and never stored (the
   * metrics API's NodeMetrics and PodMetrics, which metrics-server serves in Kubernetes).
   */
  computed?: boolean;
  /**
   * Set on a version kept in the store as another (autoscaling/v1 HorizontalPodAutoscalers are
   * stored as v2): how an object moves between this version's form and the stored one.
   */
  conversion?: { toStorage(obj: Record<string, unknown>): Record<string, unknown>; fromStorage(obj: Record<string, unknown>): Record<string, unknown> };
}

/** A JSON schema (OpenAPI v3 subset) as CRDs carry it. */
export type JsonSchema = Record<string, unknown>;

/** One served version of a CustomResourceDefinition, as the request path needs it. */
export interface CustomResource {
  /** metadata.name of the CRD (PLURAL.GROUP). */
  crd: string;
  /** The version's openAPIV3Schema (structural), undefined if it accepts anything. */
  schema: JsonSchema | undefined;
  columns: PrinterColumn[];
  scale?: ScalePaths;
  /** The CRD is being deleted: its objects are being removed and no new one is accepted. */
  terminating: boolean;
}

export interface PrinterColumn {
  name: string;
  type: 'integer' | 'number' | 'string' | 'boolean' | 'date';
  jsonPath: string;
  format?: string;
  description?: string;
  priority?: number;
}

/** Where a custom resource keeps what the scale subresource reads and writes (".spec.replicas"). */
export interface ScalePaths {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

const verbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function verbsOf(r: ResourceInfo): string[] {
  return r.createOnly ? ['create'] : r.computed ? ['get', 'list'] : verbs;
}

/** Resources kept in the store (everything but reviews and computed metrics). */
export const isStored = (r: ResourceInfo): boolean => !r.createOnly && !r.computed;

export const METRICS_GROUP = 'metrics.k8s.io';
const metrics = (kind: string, plural: string, namespaced: boolean): ResourceInfo => ({
  group: METRICS_GROUP, version: 'v1beta1', kind, plural, singular: '', namespaced, subresources: [], schema: '', validator: '', computed: true,
});

const rbac = 'rbac.authorization.k8s.io';
const review = (group: string, kind: string, plural: string, namespaced = false): ResourceInfo => ({
  group, version: 'v1', kind, plural, singular: plural.slice(0, -1), namespaced, subresources: [], schema: `V1${kind}`, validator: `${group}/v1/${kind}`, createOnly: true,
});

export const resources: ResourceInfo[] = [
  { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', singular: 'namespace', namespaced: false, shortNames: ['ns'], subresources: ['status', 'finalize'], schema: 'V1Namespace', validator: 'v1/Namespace' },
  { group: '', version: 'v1', kind: 'Node', plural: 'nodes', singular: 'node', namespaced: false, shortNames: ['no'], subresources: ['status'], schema: 'V1Node', validator: 'v1/Node' },
  { group: '', version: 'v1', kind: 'Pod', plural: 'pods', singular: 'pod', namespaced: true, shortNames: ['po'], categories: ['all'], subresources: ['status', 'log', 'binding', 'exec', 'attach', 'portforward', 'ephemeralcontainers', 'eviction'], schema: 'V1Pod', validator: 'v1/Pod' },
  { group: '', version: 'v1', kind: 'Service', plural: 'services', singular: 'service', namespaced: true, shortNames: ['svc'], categories: ['all'], subresources: ['status'], schema: 'V1Service', validator: 'v1/Service' },
  { group: '', version: 'v1', kind: 'Endpoints', plural: 'endpoints', singular: 'endpoints', namespaced: true, shortNames: ['ep'], subresources: [], schema: 'V1Endpoints', validator: 'v1/Endpoints' },
  { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', singular: 'configmap', namespaced: true, shortNames: ['cm'], subresources: [], schema: 'V1ConfigMap', validator: 'v1/ConfigMap' },
  { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', singular: 'secret', namespaced: true, subresources: [], schema: 'V1Secret', validator: 'v1/Secret' },
  { group: '', version: 'v1', kind: 'Event', plural: 'events', singular: 'event', namespaced: true, shortNames: ['ev'], subresources: [], schema: 'CoreV1Event', validator: 'v1/Event' },
  { group: '', version: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', singular: 'serviceaccount', namespaced: true, shortNames: ['sa'], subresources: ['token'], schema: 'V1ServiceAccount', validator: 'v1/ServiceAccount' },
  { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', plural: 'leases', singular: 'lease', namespaced: true, subresources: [], schema: 'V1Lease', validator: 'coordination.k8s.io/v1/Lease' },
  { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', singular: 'deployment', namespaced: true, shortNames: ['deploy'], categories: ['all'], subresources: ['status', 'scale'], schema: 'V1Deployment', validator: 'apps/v1/Deployment', hasGeneration: true },
  { group: 'apps', version: 'v1', kind: 'ReplicaSet', plural: 'replicasets', singular: 'replicaset', namespaced: true, shortNames: ['rs'], categories: ['all'], subresources: ['status', 'scale'], schema: 'V1ReplicaSet', validator: 'apps/v1/ReplicaSet', hasGeneration: true },
  { group: 'apps', version: 'v1', kind: 'DaemonSet', plural: 'daemonsets', singular: 'daemonset', namespaced: true, shortNames: ['ds'], categories: ['all'], subresources: ['status'], schema: 'V1DaemonSet', validator: 'apps/v1/DaemonSet', hasGeneration: true },
  { group: 'batch', version: 'v1', kind: 'Job', plural: 'jobs', singular: 'job', namespaced: true, categories: ['all'], subresources: ['status'], schema: 'V1Job', validator: 'batch/v1/Job', hasGeneration: true },
  { group: 'batch', version: 'v1', kind: 'CronJob', plural: 'cronjobs', singular: 'cronjob', namespaced: true, shortNames: ['cj'], categories: ['all'], subresources: ['status'], schema: 'V1CronJob', validator: 'batch/v1/CronJob', hasGeneration: true },
  // ReplicationControllers run by the ReplicaSet controller's code, claims provisioned by the
  // local-path provisioner, StatefulSets run by their controller, Ingresses routed by every agent.
  { group: '', version: 'v1', kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', singular: 'persistentvolumeclaim', namespaced: true, shortNames: ['pvc'], subresources: ['status'], schema: 'V1PersistentVolumeClaim', validator: 'v1/PersistentVolumeClaim' },
  { group: '', version: 'v1', kind: 'PersistentVolume', plural: 'persistentvolumes', singular: 'persistentvolume', namespaced: false, shortNames: ['pv'], subresources: ['status'], schema: 'V1PersistentVolume', validator: 'v1/PersistentVolume' },
  { group: '', version: 'v1', kind: 'ResourceQuota', plural: 'resourcequotas', singular: 'resourcequota', namespaced: true, shortNames: ['quota'], subresources: ['status'], schema: 'V1ResourceQuota', validator: 'v1/ResourceQuota' },
  { group: '', version: 'v1', kind: 'LimitRange', plural: 'limitranges', singular: 'limitrange', namespaced: true, shortNames: ['limits'], subresources: [], schema: 'V1LimitRange', validator: 'v1/LimitRange' },
  { group: '', version: 'v1', kind: 'PodTemplate', plural: 'podtemplates', singular: 'podtemplate', namespaced: true, subresources: [], schema: 'V1PodTemplate', validator: 'v1/PodTemplate' },
  { group: '', version: 'v1', kind: 'ReplicationController', plural: 'replicationcontrollers', singular: 'replicationcontroller', namespaced: true, shortNames: ['rc'], categories: ['all'], subresources: ['status', 'scale'], schema: 'V1ReplicationController', validator: 'v1/ReplicationController', hasGeneration: true },
  { group: 'apps', version: 'v1', kind: 'StatefulSet', plural: 'statefulsets', singular: 'statefulset', namespaced: true, shortNames: ['sts'], categories: ['all'], subresources: ['status', 'scale'], schema: 'V1StatefulSet', validator: 'apps/v1/StatefulSet', hasGeneration: true },
  { group: 'apps', version: 'v1', kind: 'ControllerRevision', plural: 'controllerrevisions', singular: 'controllerrevision', namespaced: true, subresources: [], schema: 'V1ControllerRevision', validator: 'apps/v1/ControllerRevision' },
  { group: 'policy', version: 'v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', singular: 'poddisruptionbudget', namespaced: true, shortNames: ['pdb'], subresources: ['status'], schema: 'V1PodDisruptionBudget', validator: 'policy/v1/PodDisruptionBudget', hasGeneration: true },
  { group: 'scheduling.k8s.io', version: 'v1', kind: 'PriorityClass', plural: 'priorityclasses', singular: 'priorityclass', namespaced: false, shortNames: ['pc'], subresources: [], schema: 'V1PriorityClass', validator: 'scheduling.k8s.io/v1/PriorityClass' },
  { group: 'storage.k8s.io', version: 'v1', kind: 'StorageClass', plural: 'storageclasses', singular: 'storageclass', namespaced: false, shortNames: ['sc'], subresources: [], schema: 'V1StorageClass', validator: 'storage.k8s.io/v1/StorageClass' },
  { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress', plural: 'ingresses', singular: 'ingress', namespaced: true, shortNames: ['ing'], subresources: ['status'], schema: 'V1Ingress', validator: 'networking.k8s.io/v1/Ingress', hasGeneration: true },
  { group: 'networking.k8s.io', version: 'v1', kind: 'IngressClass', plural: 'ingressclasses', singular: 'ingressclass', namespaced: false, subresources: [], schema: 'V1IngressClass', validator: 'networking.k8s.io/v1/IngressClass', hasGeneration: true },
  { group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition', plural: 'customresourcedefinitions', singular: 'customresourcedefinition', namespaced: false, shortNames: ['crd', 'crds'], categories: ['api-extensions'], subresources: ['status'], schema: 'V1CustomResourceDefinition', validator: 'apiextensions.k8s.io/v1/CustomResourceDefinition' },
  { group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice', plural: 'endpointslices', singular: 'endpointslice', namespaced: true, subresources: [], schema: 'V1EndpointSlice', validator: 'discovery.k8s.io/v1/EndpointSlice' },
  { group: rbac, version: 'v1', kind: 'ClusterRole', plural: 'clusterroles', singular: 'clusterrole', namespaced: false, subresources: [], schema: 'V1ClusterRole', validator: `${rbac}/v1/ClusterRole` },
  { group: rbac, version: 'v1', kind: 'ClusterRoleBinding', plural: 'clusterrolebindings', singular: 'clusterrolebinding', namespaced: false, subresources: [], schema: 'V1ClusterRoleBinding', validator: `${rbac}/v1/ClusterRoleBinding` },
  { group: rbac, version: 'v1', kind: 'Role', plural: 'roles', singular: 'role', namespaced: true, subresources: [], schema: 'V1Role', validator: `${rbac}/v1/Role` },
  { group: rbac, version: 'v1', kind: 'RoleBinding', plural: 'rolebindings', singular: 'rolebinding', namespaced: true, subresources: [], schema: 'V1RoleBinding', validator: `${rbac}/v1/RoleBinding` },
  review('authorization.k8s.io', 'SelfSubjectAccessReview', 'selfsubjectaccessreviews'),
  review('authorization.k8s.io', 'SelfSubjectRulesReview', 'selfsubjectrulesreviews'),
  review('authorization.k8s.io', 'SubjectAccessReview', 'subjectaccessreviews'),
  review('authorization.k8s.io', 'LocalSubjectAccessReview', 'localsubjectaccessreviews', true),
  review('authentication.k8s.io', 'TokenReview', 'tokenreviews'),
  review('authentication.k8s.io', 'SelfSubjectReview', 'selfsubjectreviews'),
  { group: 'autoscaling', version: 'v2', kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers', singular: 'horizontalpodautoscaler', namespaced: true, shortNames: ['hpa'], categories: ['all'], subresources: ['status'], schema: 'V2HorizontalPodAutoscaler', validator: 'autoscaling/v2/HorizontalPodAutoscaler', hasGeneration: true },
  { group: 'autoscaling', version: 'v1', kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers', singular: 'horizontalpodautoscaler', namespaced: true, shortNames: ['hpa'], categories: ['all'], subresources: ['status'], schema: 'V1HorizontalPodAutoscaler', validator: 'autoscaling/v1/HorizontalPodAutoscaler', hasGeneration: true, conversion: { toStorage: hpaV1ToV2, fromStorage: hpaV2ToV1 } },
  // Last, so a lookup by plural alone finds the core nodes and pods first.
  metrics('NodeMetrics', 'nodes', false),
  metrics('PodMetrics', 'pods', true),
];

export function apiVersionOf(r: { group: string; version: string }): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

export function findResource(group: string, version: string, plural: string): ResourceInfo | undefined {
  return resources.find((r) => r.group === group && r.version === version && r.plural === plural);
}

export function findByKind(apiVersion: string, kind: string): ResourceInfo | undefined {
  return resources.find((r) => apiVersionOf(r) === apiVersion && r.kind === kind);
}

/** Group-versions in discovery order (core first). */
export function groupVersions(): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const r of resources) seen.set(apiVersionOf(r), { group: r.group, version: r.version });
  return [...seen.values()];
}
