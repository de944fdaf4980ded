import { toFieldsV1, union } from '../../../master/api/patch/field-set';
import { changesBetween } from '../../../master/api/patch/field-ownership';
import { rootType } from '../../../master/api/patch/field-type';
import type { SchemaLookup } from '../../../master/api/patch/strategic-merge';
import { trackedFields, type WriteScope } from '../../../master/api/patch/tracked-fields';
import { allPathsOf, compare, type Json } from '../../../master/api/patch/typed-value';
import type { Obj } from '../../../master/api/registry';
import schemas from '../../../master/api/openapi/schemas.json';

const lookup: SchemaLookup = (n) => (schemas as unknown as Record<string, Record<string, unknown>>)[n];
const podType = rootType('V1Pod', lookup);

/** What changesBetween computed before it compared tracked views: the whole objects, then trackedFields. */
function reference(before: Obj | undefined, after: Obj, scope: WriteScope): { changed: unknown; removed: unknown } {
  if (!before) return { changed: toFieldsV1(trackedFields(allPathsOf(after as unknown as Json, podType), scope)), removed: {} };
  const c = compare(before as unknown as Json, after as unknown as Json, podType);
  return { changed: toFieldsV1(trackedFields(union(c.added, c.modified), scope)), removed: toFieldsV1(trackedFields(c.removed, scope)) };
}

const pod = (): Obj =>
  ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'p',
      namespace: 'default',
      uid: 'u1',
      resourceVersion: '7',
      generation: 1,
      labels: { app: 'a' },
      finalizers: ['x'],
      managedFields: [{ manager: 'kubectl', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { 'f:app': {} } } } }],
    },
    spec: { replicas: 1, containers: [{ name: 'web', image: 'nginx:1', ports: [{ containerPort: 80 }] }] },
    status: { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False' }] },
  }) as unknown as Obj;

type Edit = (o: Record<string, any>) => void; // eslint-disable-line @typescript-eslint/no-explicit-any

const edits: Record<string, Edit> = {
  'nothing': () => undefined,
  'a label': (o) => (o.metadata.labels.tier = 'web'),
  'server metadata and managedFields only': (o) => {
    o.metadata.resourceVersion = '8';
    o.metadata.uid = 'u2';
    o.metadata.generation = 2;
    o.metadata.managedFields = [{ manager: 'other', operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: {} }];
  },
  'apiVersion and kind': (o) => {
    o.apiVersion = 'v2';
    o.kind = 'Other';
  },
  'the image': (o) => (o.spec.containers[0].image = 'nginx:2'),
  'a container added': (o) => o.spec.containers.push({ name: 'side', image: 'busybox' }),
  'the status': (o) => {
    o.status.phase = 'Running';
    o.status.conditions[0].status = 'True';
  },
  'spec and status': (o) => {
    o.spec.replicas = 3;
    o.status.phase = 'Running';
  },
  'status removed': (o) => delete o.status,
  'metadata removed': (o) => delete o.metadata,
  'metadata made null': (o) => (o.metadata = null),
  'labels emptied': (o) => (o.metadata.labels = {}),
  'a new top-level field': (o) => (o.extra = { a: 1 }),
};

const scopes: Record<string, WriteScope> = {
  'main resource with status': { hasStatus: true },
  'main resource without status': { hasStatus: false },
  'status subresource': { subresource: 'status', hasStatus: true },
  'scale subresource': { subresource: 'scale', hasStatus: true },
  'another subresource': { subresource: 'ephemeralcontainers', hasStatus: true },
};

describe('changesBetween compares only what ownership is recorded for, with the same result', () => {
  for (const [scopeName, scope] of Object.entries(scopes)) {
    for (const [editName, edit] of Object.entries(edits)) {
      test(`${editName}, ${scopeName}`, () => {
        const before = pod();
        const after = pod();
        edit(after);
        const c = changesBetween(before, after, podType, scope);
        expect({ changed: toFieldsV1(c.changed), removed: toFieldsV1(c.removed) }).toEqual(reference(before, after, scope));
        const created = changesBetween(undefined, after, podType, scope);
        expect({ changed: toFieldsV1(created.changed), removed: {} }).toEqual(reference(undefined, after, scope));
      });
    }
  }
});
