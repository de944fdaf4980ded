/** The engine's own words from a dockerode error, without the HTTP preamble. */
export function engineMessage(err: unknown): string {
  const e = err as { json?: { message?: string }; message?: string };
  return e.json?.message ?? e.message ?? String(err);
}

/** Not found, as docker says it (404) or as podman sometimes does mid-removal (500 "no such container"). */
export function isGone(err: unknown): boolean {
  const code = (err as { statusCode?: number }).statusCode;
  return code === 404 || /no such container|does not exist in database/i.test(engineMessage(err));
}

/** A create refused because the name is taken: docker answers 409, podman 500 "that name is already in use". */
export function isNameInUse(err: unknown): boolean {
  const code = (err as { statusCode?: number }).statusCode;
  return code === 409 || /name .*is already in use/i.test(engineMessage(err));
}
