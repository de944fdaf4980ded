import { hasKey, keysOf, withKey, withoutKey, type OneOrMany } from '../../../master/store/one-or-many';

describe('OneOrMany: a key set that is a Set only from its second key', () => {
  it('holds one key as the key itself, two or more as a Set, and shrinks back', () => {
    let keys: OneOrMany;
    expect(keysOf(keys)).toEqual([]);
    keys = withKey(keys, 'a');
    expect(keys).toBe('a');
    keys = withKey(keys, 'a');
    expect(keys).toBe('a');
    keys = withKey(keys, 'b');
    expect(keys).toBeInstanceOf(Set);
    expect(keysOf(keys).sort()).toEqual(['a', 'b']);
    expect(hasKey(keys, 'b') && hasKey(keys, 'a') && !hasKey(keys, 'c')).toBe(true);
    keys = withoutKey(keys, 'a');
    expect(keysOf(keys)).toEqual(['b']);
    keys = withoutKey(keys, 'b');
    expect(keys).toBeUndefined();
  });

  it('leaves a single key that is not the one removed', () => {
    expect(withoutKey('a', 'b')).toBe('a');
    expect(withoutKey('a', 'a')).toBeUndefined();
    expect(withoutKey(undefined, 'a')).toBeUndefined();
    expect(hasKey(undefined, 'a')).toBe(false);
  });
});
