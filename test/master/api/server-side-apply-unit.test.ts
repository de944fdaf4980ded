import { applyPatch } from '../../../master/api/patch/apply-patch';
import { toFieldsV1 } from '../../../master/api/patch/field-set';
import { recordUpdate } from '../../../master/api/patch/field-ownership';
import { rootType } from '../../../master/api/patch/field-type';
import { serverSideApply } from '../../../master/api/patch/server-side-apply';
import type { SchemaLookup } from '../../../master/api/patch/strategic-merge';
import { compare, fieldSetOf, removeFields, type Json } from '../../../master/api/patch/typed-value';
import type { Obj } from '../../../master/api/registry';
import { HttpError } from '../../../master/api/status';
import schemas from '../../../master/api/openapi/schemas.json';

const lookup: SchemaLookup = (n) => (schemas as unknown as Record<string, Record<string, unknown>>)[n];
const cmType = rootType('V1ConfigMap', lookup);
const deployType = rootType('V1Deployment', lookup);
const cmScope = { hasStatus: false };

const cm = (data: Record<string, string>, labels?: Record<string, string>): Obj => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', ...(labels ? { labels } : {}) }, data });

function apply(live: Obj | undefined, config: Obj, manager: string, force = false, type = cmType, schema = 'V1ConfigMap'): Obj {
  return serverSideApply({
    live,
    config: structuredClone(config),
    identity: { manager, operation: 'Apply', apiVersion: String(config.apiVersion) },
    force,
    scope: schema === 'V1ConfigMap' ? cmScope : { hasStatus: true },
    type,
    merge: (l, c) => applyPatch('apply', l, c, schema, lookup),
  });
}

function update(live: Obj, next: Obj, manager: string): Obj {
  recordUpdate(live, next, { identity: { manager, operation: 'Update', apiVersion: 'v1' }, scope: cmScope, type: cmType });
  return next;
}

const entry = (obj: Obj, manager: string): Record<string, unknown> | undefined => (obj.metadata?.managedFields as Record<string, unknown>[] | undefined)?.find((e) => e.manager === manager);

function conflictOf(fn: () => unknown): HttpError {
  try {
    fn();
  } catch (err) {
    if (err instanceof HttpError) return err;
    throw err;
  }
  throw new Error('expected a conflict');
}

describe('typed values', () => {
  test('the field set of a configuration has its leaves and list items, keyed by merge key', () => {
    const d = { spec: { template: { spec: { containers: [{ name: 'main', image: 'x', ports: [{ containerPort: 80 }] }] } }, selector: { matchLabels: { a: 'b' } } } } as Json;
    expect(toFieldsV1(fieldSetOf(d, deployType))).toEqual({
      'f:spec': {
        'f:selector': {},
        'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"main"}': { '.': {}, 'f:image': {}, 'f:name': {}, 'f:ports': { 'k:{"containerPort":80}': { '.': {}, 'f:containerPort': {} } } } } } },
      },
    });
  });

  test('compare reports added, modified and removed paths; a removed map takes its keys along', () => {
    const c = compare({ data: { a: '1', b: '2' }, metadata: { labels: { x: 'y' } } }, { data: { a: '1', b: '3', c: '4' }, metadata: {} }, cmType);
    expect(toFieldsV1(c.added)).toEqual({ 'f:data': { 'f:c': {} } });
    expect(toFieldsV1(c.modified)).toEqual({ 'f:data': { 'f:b': {} } });
    expect(toFieldsV1(c.removed)).toEqual({ 'f:metadata': { 'f:labels': { '.': {}, 'f:x': {} } } });
  });

  test('removeFields drops keyed list items and map keys, keeping the rest and duplicates', () => {
    const v = { data: { a: '1', b: '2' }, list: ['x'] } as Json;
    expect(removeFields(v, fieldSetOf({ data: { b: '' } }, cmType), cmType)).toEqual({ data: { a: '1' }, list: ['x'] });
    const pod = { spec: { template: { spec: { containers: [{ name: 'a' }, { name: 'b' }] } } } } as Json;
    expect(removeFields(pod, fieldSetOf({ spec: { template: { spec: { containers: [{ name: 'a' }] } } } }, deployType), deployType)).toEqual({ spec: { template: { spec: { containers: [{ name: 'b' }] } } } });
  });
});

describe('server-side apply', () => {
  test('a key dropped from the configuration is removed; labels too', () => {
    const first = apply(undefined, cm({ a: '1', b: '2' }, { x: '1' }), 'm');
    expect(entry(first, 'm')).toMatchObject({ operation: 'Apply', fieldsV1: { 'f:data': { 'f:a': {}, 'f:b': {} }, 'f:metadata': { 'f:labels': { 'f:x': {} } } } });
    const second = apply(first, cm({ a: '1' }), 'm');
    expect(second.data).toEqual({ a: '1' });
    expect(second.metadata?.labels).toBeUndefined();
    expect(entry(second, 'm')?.fieldsV1).toEqual({ 'f:data': { 'f:a': {} } });
  });

  test('a field another manager owns survives the drop', () => {
    const first = apply(undefined, cm({ a: '1', b: '2' }, { x: '1' }), 'm');
    const labelled = update(first, { ...structuredClone(first), metadata: { ...first.metadata, labels: { x: '1', team: 'core' } } }, 'kubectl-label');
    expect(entry(labelled, 'kubectl-label')?.fieldsV1).toEqual({ 'f:metadata': { 'f:labels': { 'f:team': {} } } });
    const shared = apply(labelled, cm({ a: '1', b: '2' }), 'other');
    expect(entry(shared, 'other')?.fieldsV1).toEqual({ 'f:data': { 'f:a': {}, 'f:b': {} } });
    const dropped = apply(shared, cm({}), 'm');
    expect(dropped.data).toEqual({ a: '1', b: '2' }); // still applied by "other"
    expect(dropped.metadata?.labels).toEqual({ team: 'core' });
  });

  test('changing a value owned by another manager conflicts; force takes it over; the same value is shared', () => {
    const first = apply(undefined, cm({ k: '1' }), 'a');
    const err = conflictOf(() => apply(first, cm({ k: '2' }), 'b'));
    expect(err.code).toBe(409);
    expect(err.toStatus()).toMatchObject({ reason: 'Conflict', message: 'Apply failed with 1 conflict: conflict with "a": .data.k', details: { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "a"', field: '.data.k' }] } });
    const same = apply(first, cm({ k: '1' }), 'b');
    expect(entry(same, 'a')).toBeDefined();
    expect(entry(same, 'b')).toBeDefined();
    const forced = apply(first, cm({ k: '2' }), 'b', true);
    expect(forced.data).toEqual({ k: '2' });
    expect(entry(forced, 'a')).toBeUndefined();
    expect(entry(forced, 'b')?.fieldsV1).toEqual({ 'f:data': { 'f:k': {} } });
  });

  test('an updater is named with its version in conflicts, several conflicts are grouped', () => {
    const created: Obj = { ...cm({ k: '1', j: '1' }) };
    recordUpdate(undefined, created, { identity: { manager: 'kubectl-create', operation: 'Update', apiVersion: 'v1' }, scope: cmScope, type: cmType });
    expect(entry(created, 'kubectl-create')?.fieldsV1).toEqual({ 'f:data': { '.': {}, 'f:j': {}, 'f:k': {} } });
    expect(conflictOf(() => apply(created, cm({ k: '2' }), 'b')).message).toBe('Apply failed with 1 conflict: conflict with "kubectl-create" using v1: .data.k');
    expect(conflictOf(() => apply(created, cm({ k: '2', j: '2' }), 'b')).message).toBe('Apply failed with 2 conflicts: conflicts with "kubectl-create" using v1:\n- .data.j\n- .data.k');
  });

  test('kubectl takes over from client-side apply the fields its annotation vouches for, not others', () => {
    const last = JSON.stringify(cm({ k: '1' }));
    const created: Obj = { ...cm({ k: '1', extra: 'x' }), metadata: { name: 'c', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': last } } };
    recordUpdate(undefined, created, { identity: { manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'v1' }, scope: cmScope, type: cmType });
    expect(conflictOf(() => apply(created, cm({ k: '2' }), 'mine')).message).toContain('conflict with "kubectl-client-side-apply" using v1: .data.k');
    const upgraded = apply(created, cm({ k: '2' }), 'kubectl');
    expect(upgraded.data).toEqual({ k: '2', extra: 'x' });
    expect(JSON.parse(String(upgraded.metadata?.annotations?.['kubectl.kubernetes.io/last-applied-configuration'])).data).toEqual({ k: '2' });
    expect(conflictOf(() => apply(created, cm({ k: '1', extra: 'y' }), 'kubectl')).message).toContain('.data.extra');
  });

  test('updates move changed fields to their manager and keep entries merged; no-ops change nothing', () => {
    const first = apply(undefined, cm({ k: '1' }), 'a');
    const edited = update(first, { ...structuredClone(first), data: { k: '2', n: '1' } }, 'kubectl-edit');
    expect(entry(edited, 'a')).toBeUndefined();
    expect(entry(edited, 'kubectl-edit')?.fieldsV1).toEqual({ 'f:data': { 'f:k': {}, 'f:n': {} } });
    const again = update(edited, { ...structuredClone(edited), data: { k: '2', n: '1', m: '1' } }, 'kubectl-edit');
    expect((again.metadata?.managedFields as unknown[]).length).toBe(1);
    const noop = update(again, structuredClone(again), 'someone');
    expect(noop.metadata?.managedFields).toEqual(again.metadata?.managedFields);
  });

  test('a dropped container port and env var go, the container stays', () => {
    const dep = (ports: number[], env: string[]): Obj => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd' },
      spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'main', image: 'i', ports: ports.map((containerPort) => ({ containerPort })), env: env.map((name) => ({ name, value: '1' })) }] } } },
    });
    const first = apply(undefined, dep([80, 90], ['A', 'B']), 'm', false, deployType, 'V1Deployment');
    const second = apply(first, dep([80], ['A']), 'm', false, deployType, 'V1Deployment');
    const c = (second.spec as { template: { spec: { containers: { ports: unknown[]; env: unknown[] }[] } } }).template.spec.containers[0];
    expect(c.ports).toEqual([{ containerPort: 80 }]);
    expect(c.env).toEqual([{ name: 'A', value: '1' }]);
  });
});
