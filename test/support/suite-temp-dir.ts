import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A directory for the calling suite, removed after it. Call it at a suite's top level or in a
 * describe block (it registers an afterAll): files a suite leaves in /tmp pile up on a machine
 * that runs CI all day (238 cdktf outdirs and 30 other directories after one day).
 */
export function suiteTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
