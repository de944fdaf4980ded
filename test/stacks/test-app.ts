import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { App, Testing } from 'cdktf';
import { suiteTempDir } from '../support/suite-temp-dir';

/**
 * cdktf's Testing.app for one suite: each app's outdir is made inside one directory removed after
 * the suite, where Testing.app() alone makes a directory in /tmp per call and leaves it there.
 * Call at the suite's top level; then `app()` wherever Testing.app() would be.
 */
export function suiteApps(): { app: () => App } {
  const dir = suiteTempDir('lotse-cdktf-');
  return { app: () => Testing.app({ outdir: mkdtempSync(join(dir, 'app-')) }) };
}
