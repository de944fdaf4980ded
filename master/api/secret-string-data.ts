/**
 * Merges a Secret's write-only `stringData` into `data`, as the apiserver's conversion does: each
 * key is stored base64-encoded in `data` (overriding a `data` key of the same name) and
 * `stringData` itself is never stored, so reads never echo it back.
 */
export function mergeStringData(secret: Record<string, unknown>): void {
  const stringData = secret.stringData;
  delete secret.stringData;
  if (stringData === undefined || stringData === null || typeof stringData !== 'object' || Array.isArray(stringData)) return;
  const data: Record<string, unknown> = isRecord(secret.data) ? { ...secret.data } : {};
  for (const [key, value] of Object.entries(stringData)) data[key] = Buffer.from(String(value), 'utf8').toString('base64');
  secret.data = data;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
