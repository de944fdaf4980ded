import { copyJson } from '../../../master/api/json-copy';
import { sameContent } from '../../../master/api/same-content';

describe('sameContent', () => {
  test('key order does not matter, a null or undefined field is an absent one', () => {
    expect(sameContent({ a: 1, b: { c: [1, 'x'] } }, { b: { c: [1, 'x'] }, a: 1 })).toBe(true);
    expect(sameContent({ a: 1, creationTimestamp: null }, { a: 1 })).toBe(true);
    expect(sameContent({ a: 1 }, { a: 1, b: undefined })).toBe(true);
    expect(sameContent(null, undefined)).toBe(true);
  });

  test('any difference in a value, an array or a present field is a difference', () => {
    expect(sameContent({ a: 1 }, { a: 2 })).toBe(false);
    expect(sameContent({ a: 1 }, { a: '1' })).toBe(false);
    expect(sameContent({ a: 1 }, { a: 1, b: 0 })).toBe(false);
    expect(sameContent({ a: 1, b: false }, { a: 1 })).toBe(false);
    expect(sameContent([1, 2], [2, 1])).toBe(false);
    expect(sameContent([1], [1, 1])).toBe(false);
    expect(sameContent({ a: [] }, { a: {} })).toBe(false);
    expect(sameContent({ a: {} }, { a: null })).toBe(false);
    expect(sameContent({ s: { x: { y: 'deep' } } }, { s: { x: { y: 'deeper' } } })).toBe(false);
  });
});

describe('copyJson', () => {
  test('a deep copy that shares nothing with its source', () => {
    const src = { a: { b: [1, { c: 'x' }] }, n: null, u: undefined };
    const copy = copyJson(src);
    expect(copy).toEqual(src);
    expect(Object.keys(copy)).toEqual(['a', 'n', 'u']);
    (copy.a.b[1] as { c: string }).c = 'y';
    (copy.a.b as unknown[]).push(2);
    expect(src).toEqual({ a: { b: [1, { c: 'x' }] }, n: null, u: undefined });
  });

  test('a "__proto__" field from JSON stays a field and does not become the prototype', () => {
    const src = JSON.parse('{"metadata":{"__proto__":{"polluted":true}}}') as { metadata: Record<string, unknown> };
    const copy = copyJson(src);
    expect(Object.getPrototypeOf(copy.metadata)).toBe(Object.prototype);
    expect((copy.metadata as { polluted?: boolean }).polluted).toBeUndefined();
    expect(Object.keys(copy.metadata)).toEqual(['__proto__']);
    expect(JSON.stringify(copy)).toBe(JSON.stringify(src));
  });
});
