import { difference, formatPath, fromFieldsV1, has, intersection, isEmpty, members, pathSet, toFieldsV1, union, withFieldsAsMembers } from '../../../master/api/patch/field-set';

const set = (v1: object) => fromFieldsV1(v1);

describe('FieldSet', () => {
  test('FieldsV1 round-trips, "." marking a path that is a member and has children', () => {
    const v1 = { 'f:data': { '.': {}, 'f:a': {}, 'f:b': {} }, 'f:spec': { 'f:containers': { 'k:{"name":"main"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } };
    const s = set(v1);
    expect(toFieldsV1(s)).toEqual(v1);
    expect(has(s, ['f:data'])).toBe(true);
    expect(has(s, ['f:spec'])).toBe(false);
    expect(has(s, ['f:spec', 'f:containers', 'k:{"name":"main"}', 'f:image'])).toBe(true);
  });

  test('encodes elements in Kubernetes order: fields, keys, values, indexes; "." first', () => {
    const s = union(union(pathSet(['i:0']), pathSet(['v:"x"'])), union(pathSet(['k:{"a":1}']), pathSet(['f:z'])));
    expect(Object.keys(toFieldsV1(s))).toEqual(['f:z', 'k:{"a":1}', 'v:"x"', 'i:0']);
    expect(Object.keys(toFieldsV1(set({ 'f:m': { 'f:b': {}, '.': {}, 'f:a': {} } }))['f:m'])).toEqual(['.', 'f:a', 'f:b']);
  });

  test('rejects what is not FieldsV1, naming the place', () => {
    expect(() => fromFieldsV1({ 'f:a': { 'x:b': {} } })).toThrow('fieldsV1/f:a: "x:b" is not a path element');
    expect(() => fromFieldsV1([])).toThrow('expected an object');
  });

  test('union, difference and intersection work member by member', () => {
    const a = set({ 'f:data': { 'f:a': {}, 'f:b': {} }, 'f:metadata': { 'f:labels': { 'f:x': {} } } });
    const b = set({ 'f:data': { 'f:b': {}, 'f:c': {} } });
    expect(toFieldsV1(union(a, b))).toEqual({ 'f:data': { 'f:a': {}, 'f:b': {}, 'f:c': {} }, 'f:metadata': { 'f:labels': { 'f:x': {} } } });
    expect(toFieldsV1(difference(a, b))).toEqual({ 'f:data': { 'f:a': {} }, 'f:metadata': { 'f:labels': { 'f:x': {} } } });
    expect(toFieldsV1(intersection(a, b))).toEqual({ 'f:data': { 'f:b': {} } });
    expect(isEmpty(intersection(a, set({ 'f:spec': {} })))).toBe(true);
  });

  test('a member does not take the paths below it away in a difference', () => {
    const a = set({ 'f:labels': { '.': {}, 'f:x': {} } });
    expect(toFieldsV1(difference(a, set({ 'f:labels': {} })))).toEqual({ 'f:labels': { 'f:x': {} } });
  });

  test('inputs are not changed by the operations', () => {
    const a = set({ 'f:data': { 'f:a': {} } });
    const before = JSON.stringify(toFieldsV1(a));
    union(a, set({ 'f:data': { 'f:b': {} } }));
    difference(a, set({ 'f:data': { 'f:a': {} } }));
    expect(JSON.stringify(toFieldsV1(a))).toBe(before);
  });

  test('fields with paths below them become members for pruning; list items stay as they are', () => {
    const s = withFieldsAsMembers(set({ 'f:metadata': { 'f:labels': { 'f:x': {} } }, 'f:spec': { 'f:ports': { 'k:{"port":80}': { 'f:port': {} } } } }));
    expect(has(s, ['f:metadata'])).toBe(true);
    expect(has(s, ['f:metadata', 'f:labels'])).toBe(true);
    expect(has(s, ['f:spec', 'f:ports'])).toBe(true);
    expect(has(s, ['f:spec', 'f:ports', 'k:{"port":80}'])).toBe(false);
  });

  test('lists member paths and prints them as Kubernetes does in conflicts', () => {
    const s = set({ 'f:data': { 'f:b': {} }, 'f:spec': { 'f:containers': { 'k:{"name":"main"}': { '.': {}, 'f:image': {} } } }, 'f:metadata': { 'f:finalizers': { 'v:"x"': {} } } });
    expect(members(s).map(formatPath)).toEqual(['.data.b', '.metadata.finalizers[="x"]', '.spec.containers[name="main"]', '.spec.containers[name="main"].image']);
    expect(formatPath(['f:spec', 'f:ports', 'k:{"containerPort":80,"protocol":"TCP"}', 'i:2'])).toBe('.spec.ports[containerPort=80,protocol="TCP"][2]');
  });
});
