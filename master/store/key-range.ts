/**
 * Byte-order key ranges shared by the store backends. Both SQLite (BINARY collation, memcmp over
 * UTF-8) and etcd order keys by their UTF-8 bytes, which differs from JavaScript's UTF-16
 * string order for characters outside the BMP; computing bounds on bytes keeps both exact.
 */

/** The smallest byte string greater than every key that starts with prefix. */
export function prefixEnd(prefix: string): Buffer {
  // An empty prefix covers every key; 0xF5 can never begin a UTF-8 sequence, so it is above all.
  if (prefix === '') return Buffer.from([0xf5]);
  const bytes = Buffer.from(prefix, 'utf8');
  // UTF-8 never contains 0xFF, so bumping the last byte always terminates the range correctly.
  bytes[bytes.length - 1] += 1;
  return bytes;
}

/** The byte string just above `key`: the first possible key strictly after it. */
export function keyAfter(key: string): Buffer {
  return Buffer.concat([Buffer.from(key, 'utf8'), Buffer.from([0])]);
}

/** Byte-order comparison of two keys (negative, zero, positive). */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
