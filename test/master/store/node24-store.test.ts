import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchNodeBuild } from '../../../bootstrap/node-build';

// The store conformance suite on the runtime the hosts get: the pinned official Node.js 24 build
// (fetched from the npm registry, checksum-verified, cached in the repository's git-ignored
// .cache/ so CI downloads it once) runs jest on node-sqlite-store.test.ts, whose conformance
// suite uses node:sqlite. Bounded: the download by its own timeout, the run by RUN_LIMIT_MS.
jest.setTimeout(660_000);
const REPO = join(__dirname, '../../..');
const RUN_LIMIT_MS = 180_000;

interface JestReport {
  numFailedTests: number;
  numPassedTests: number;
  testResults: { assertionResults: { fullName: string; status: string }[] }[];
}

test('the store conformance suite passes on node:sqlite under the Node.js build shipped to hosts', async () => {
  const { node, build } = await fetchNodeBuild('amd64', { cacheDir: join(REPO, '.cache', 'node'), timeoutMs: 480_000 });
  const out = mkdtempSync(join(tmpdir(), 'lotse-node24-'));
  try {
    const reportFile = join(out, 'report.json');
    const run = await runWithin(node, [join(REPO, 'node_modules/jest/bin/jest.js'), '--ci', '--json', `--outputFile=${reportFile}`, 'test/master/store/node-sqlite-store.test.ts'], RUN_LIMIT_MS);
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as JestReport;
    const results = report.testResults.flatMap((file) => file.assertionResults);
    const failed = results.filter((r) => r.status !== 'passed').map((r) => `${r.fullName}: ${r.status}`);
    expect({ code: run.code, failed }).toEqual({ code: 0, failed: [] });
    // The conformance suite itself ran, on node:sqlite, under the pinned version.
    expect(results.filter((r) => r.fullName.startsWith('node:sqlite store conformance')).length).toBeGreaterThanOrEqual(10);
    expect(report.numPassedTests).toBe(results.length);
    expect(run.stderr).not.toMatch(/ExperimentalWarning/);
    expect(run.version).toBe(`v${build.version}`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

/** Runs `node args...` in the repository; kills the process itself (not a shell) past the limit. */
async function runWithin(node: string, args: string[], limitMs: number): Promise<{ code: number | null; stderr: string; version: string }> {
  const version = await new Promise<string>((resolve, reject) => {
    const p = spawn(node, ['--version']);
    let text = '';
    p.stdout.on('data', (c: Buffer) => (text += c.toString()));
    p.on('error', reject);
    p.on('exit', () => resolve(text.trim()));
  });
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.JEST_WORKER_ID;
  delete env.NODE_OPTIONS;
  return new Promise((resolve, reject) => {
    const proc = spawn(node, args, { cwd: REPO, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`jest under ${node} did not finish within ${limitMs} ms; stderr: ${stderr.slice(-2000)}`));
    }, limitMs);
    proc.on('error', reject);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, version });
    });
  });
}
