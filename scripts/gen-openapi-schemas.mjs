// Generates master/api/openapi/schemas.json: JSON schemas for the kinds lotse serves, derived from
// the model type maps of @kubernetes/client-node (a dev dependency), so the master ships no
// Kubernetes client at run time. Also generates master/api/openapi/descriptions.json, the models'
// and fields' descriptions (for `kubectl explain`), kept apart because only the served OpenAPI
// documents need them and the master reads them on the first such request, not at start.
// Re-run after upgrading @kubernetes/client-node:
//   node scripts/gen-openapi-schemas.mjs
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { modelDescriptions } from './model-descriptions.mjs';

const require = createRequire(import.meta.url);
const modelsDir = path.join(path.dirname(require.resolve('@kubernetes/client-node/package.json')), 'dist', 'gen', 'models');

const roots = [
  'V1Namespace', 'V1Node', 'V1Pod', 'V1Service', 'V1Endpoints', 'V1ConfigMap', 'V1Secret', 'CoreV1Event',
  'V1ServiceAccount', 'V1Lease', 'V1Deployment', 'V1ReplicaSet', 'V1DaemonSet', 'V1EndpointSlice', 'V1Job', 'V1CronJob',
  'V1PersistentVolumeClaim', 'V1PersistentVolume', 'V1ReplicationController', 'V1StatefulSet', 'V1Ingress',
  'V1ClusterRole', 'V1ClusterRoleBinding', 'V1Role', 'V1RoleBinding', 'V1SelfSubjectAccessReview',
  'V1SelfSubjectRulesReview', 'V1SubjectAccessReview', 'V1LocalSubjectAccessReview', 'V1TokenReview',
  'V1SelfSubjectReview', 'AuthenticationV1TokenRequest',
  'V1CustomResourceDefinition', 'V1IngressClass', 'V1ControllerRevision', 'V1StorageClass', 'V1PodDisruptionBudget', 'V1PriorityClass', 'V1Eviction', 'V1LimitRange', 'V1ResourceQuota', 'V1Binding', 'V1Scale', 'V1Status', 'V1DeleteOptions', 'V1PodTemplate', 'EventsV1Event', 'V1HorizontalPodAutoscaler', 'V2HorizontalPodAutoscaler',
];

// Strategic-merge-patch metadata (x-kubernetes-patch-merge-key / -strategy) for the lists users edit.
// Keyed by "Model.field"; value: [mergeKey | null, strategy].
const patchMeta = {
  'V1PodSpec.containers': ['name', 'merge'],
  'V1PodSpec.initContainers': ['name', 'merge'],
  'V1PodSpec.ephemeralContainers': ['name', 'merge'],
  'V1PodSpec.volumes': ['name', 'merge,retainKeys'],
  'V1PodSpec.imagePullSecrets': ['name', 'merge'],
  'V1PodSpec.hostAliases': ['ip', 'merge'],
  'V1PodSpec.topologySpreadConstraints': ['topologyKey', 'merge'],
  'V1Container.ports': ['containerPort', 'merge'],
  'V1Container.env': ['name', 'merge'],
  'V1Container.volumeMounts': ['mountPath', 'merge'],
  'V1Container.volumeDevices': ['devicePath', 'merge'],
  'V1ObjectMeta.ownerReferences': ['uid', 'merge'],
  'V1ObjectMeta.finalizers': [null, 'merge'],
  'V1ServiceSpec.ports': ['port', 'merge'],
  'V1PodStatus.conditions': ['type', 'merge'],
  'V1PodStatus.podIPs': ['ip', 'merge'],
  'V1NodeStatus.conditions': ['type', 'merge'],
  'V1NodeStatus.addresses': ['type', 'merge'],
  'V1DeploymentStatus.conditions': ['type', 'merge'],
  'V1ReplicaSetStatus.conditions': ['type', 'merge'],
  'V1DaemonSetStatus.conditions': ['type', 'merge'],
  'V1JobStatus.conditions': ['type', 'merge'],
  'V1DeploymentSpec.strategy': [null, 'retainKeys'],
  'V1NodeSpec.taints': [null, 'atomic'],
};

// Quantities are strings on the wire but YAML users write `cpu: 1`; the API accepts both.
const quantityFields = new Set([
  'V1ResourceRequirements.limits', 'V1ResourceRequirements.requests', 'V1NodeStatus.capacity', 'V1NodeStatus.allocatable',
]);

const schemas = {};
const loaded = new Map();

async function load(name) {
  if (!loaded.has(name)) {
    const file = path.join(modelsDir, `${name}.js`);
    const mod = existsSync(file) ? await import(file) : {};
    loaded.set(name, mod[name]);
  }
  return loaded.get(name);
}

async function typeSchema(type, format) {
  if (type === 'string') return format === 'byte' ? { type: 'string', format: 'byte' } : { type: 'string' };
  if (type === 'number') return { type: 'integer', ...(format ? { format } : {}) };
  if (type === 'boolean') return { type: 'boolean' };
  if (type === 'Date' || type === 'V1MicroTime') return { type: 'string', format: 'date-time' };
  if (type === 'any' || type === 'object') return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  if (type === 'IntOrString') return { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] };
  const arr = /^Array<(.+)>$/.exec(type);
  if (arr) return { type: 'array', items: await typeSchema(arr[1], '') };
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) return { type: 'object', additionalProperties: await typeSchema(map[1], '') };
  await define(type);
  return { $ref: `#/components/schemas/${type}` };
}

async function define(name) {
  if (schemas[name]) return;
  schemas[name] = {};
  const model = await load(name);
  if (!model || !model.attributeTypeMap) {
    schemas[name] = { type: 'string' }; // enums are plain strings in the client's model
    return;
  }
  const properties = {};
  for (const attr of model.attributeTypeMap) {
    const prop = quantityFields.has(`${name}.${attr.baseName}`)
      ? { type: 'object', additionalProperties: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] } }
      : await typeSchema(attr.type, attr.format);
    const meta = patchMeta[`${name}.${attr.baseName}`];
    if (meta) {
      if (meta[0]) prop['x-kubernetes-patch-merge-key'] = meta[0];
      prop['x-kubernetes-patch-strategy'] = meta[1];
      if (meta[0]) {
        prop['x-kubernetes-list-type'] = 'map';
        prop['x-kubernetes-list-map-keys'] = [meta[0]];
      }
    }
    properties[attr.baseName] = prop;
  }
  schemas[name] = { type: 'object', properties };
}

/** Model -> { "": model description, field (as on the wire) -> description }, for the object schemas. */
async function describe(names) {
  const out = {};
  for (const name of names) {
    const model = await load(name);
    if (!model || !model.attributeTypeMap) continue;
    const found = modelDescriptions(path.join(modelsDir, `${name}.d.ts`));
    const entry = {};
    if (found.has('')) entry[''] = found.get('');
    // The declarations use the TypeScript name (e.g. "ref"); the API uses the wire name ("$ref").
    for (const attr of model.attributeTypeMap) if (found.has(attr.name)) entry[attr.baseName] = found.get(attr.name);
    if (Object.keys(entry).length) out[name] = entry;
  }
  return out;
}

for (const root of roots) await define(root);
const outDir = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'master', 'api', 'openapi');
writeFileSync(path.join(outDir, 'schemas.json'), JSON.stringify(schemas) + '\n');
console.log(`${Object.keys(schemas).length} schemas -> ${path.join(outDir, 'schemas.json')}`);
const descriptions = await describe(Object.keys(schemas).sort());
writeFileSync(path.join(outDir, 'descriptions.json'), JSON.stringify(descriptions) + '\n');
console.log(`${Object.keys(descriptions).length} described models -> ${path.join(outDir, 'descriptions.json')}`);
