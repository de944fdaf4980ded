import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../stacks/main';
import { EXAMPLE_PATH, REPO, configWith, ignitionValidate, ignitionsIn, secretFindings } from './helpers';

const STACKS = ['digitalocean', 'gce', 'raspberry-pi', 'scaleway'];

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)]));
}

describe('the cdktf app', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lotse-synth-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('synthesizes one stack per target section, in process', () => {
    const outdir = join(dir, 'in-process');
    buildApp(configWith(), { outdir, baseDir: dir }).synth();
    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as { stacks: Record<string, { synthesizedStackPath: string }> };
    expect(Object.keys(manifest.stacks).sort()).toEqual(STACKS);
    for (const name of STACKS) expect(existsSync(join(outdir, manifest.stacks[name].synthesizedStackPath))).toBe(true);
  });

  test('a cluster.yaml with only some targets makes only those stacks', () => {
    const outdir = join(dir, 'gce-only');
    buildApp(configWith({ digitalocean: undefined, scaleway: undefined, raspberryPi: undefined }), { outdir }).synth();
    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as { stacks: Record<string, unknown> };
    expect(Object.keys(manifest.stacks)).toEqual(['gce']);
  });

  /**
   * What `cdktf synth` does: run the app command (cdktf.json "app") with CDKTF_OUTDIR set. The app
   * is bundled so the run needs nothing but node, inside a network namespace with no interfaces up,
   * in a directory holding only what a clean clone has at its root: cluster.example.yaml.
   */
  test('a clean checkout synthesizes every stack offline from cluster.example.yaml', () => {
    const clone = join(dir, 'clone');
    const app = join(dir, 'app.js');
    execFileSync(join(REPO, 'node_modules/.bin/esbuild'), [join(REPO, 'stacks/main.ts'), '--bundle', '--platform=node', `--outfile=${app}`, '--log-level=warning']);
    execFileSync('mkdir', ['-p', clone]);
    copyFileSync(EXAMPLE_PATH, join(clone, 'cluster.example.yaml'));
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, CDKTF_OUTDIR: join(clone, 'cdktf.out') };
    const run = spawnSync('unshare', ['--net', process.execPath, app], { cwd: clone, env, encoding: 'utf8' });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: expect.stringContaining('synthesizing') });

    const out = join(clone, 'cdktf.out');
    const stackFiles = STACKS.map((s) => join(out, 'stacks', s, 'cdk.tf.json'));
    for (const file of stackFiles) expect(existsSync(file)).toBe(true);

    // Every Ignition config in every stack validates, and no synthesized file holds a secret.
    const ignitions = stackFiles.flatMap((f) => ignitionsIn(readFileSync(f, 'utf8')));
    expect(ignitions).toHaveLength(12); // 3 machines per target in the example
    for (const { where, text } of ignitions) expect({ where, problems: ignitionValidate(text) }).toEqual({ where, problems: '' });
    for (const file of listFiles(out)) expect({ file, findings: secretFindings(readFileSync(file, 'utf8')) }).toEqual({ file, findings: [] });
  });

  test('a user cluster.yaml without credential sources stops synth naming the keys', () => {
    const app = join(dir, 'app.js'); // bundled by the previous test
    const work = join(dir, 'user');
    execFileSync('mkdir', ['-p', work]);
    writeFileSync(join(work, 'cluster.yaml'), readFileSync(EXAMPLE_PATH, 'utf8').replace(/^ {2}projectId: .*$/m, ''));
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, CDKTF_OUTDIR: join(work, 'cdktf.out') };
    const failed = spawnSync(process.execPath, [app], { cwd: work, env, encoding: 'utf8' });
    expect(failed.status).toBe(1);
    expect(failed.stderr).toMatch(/cluster\.yaml is not valid:\n {2}- gce\.credentialsFile: no Google credentials/);
    expect(failed.stderr).toContain('- digitalocean: no DigitalOcean token: export DIGITALOCEAN_TOKEN');
    expect(failed.stderr).toContain('- scaleway.projectId:');
    expect(existsSync(join(work, 'cdktf.out'))).toBe(false);

    const withCredentials = { ...env, GOOGLE_APPLICATION_CREDENTIALS: '/k.json', DIGITALOCEAN_TOKEN: 't', SCW_ACCESS_KEY: 'a', SCW_SECRET_KEY: 'b', SCW_DEFAULT_PROJECT_ID: 'p' };
    expect(spawnSync(process.execPath, [app], { cwd: work, env: withCredentials, encoding: 'utf8' }).status).toBe(0);
    // The credentials themselves never reach the synthesized files.
    const synthesized = listFiles(join(work, 'cdktf.out')).map((f) => readFileSync(f, 'utf8')).join('\n');
    expect(synthesized).not.toContain('/k.json');
  });

  test('a bad cluster.yaml stops synth with the key named', () => {
    const app = join(dir, 'app.js');
    const work = join(dir, 'bad');
    execFileSync('mkdir', ['-p', work]);
    writeFileSync(join(work, 'bad.yaml'), 'name: x\nsshAuthorizedKeys: ["ssh-ed25519 AAAA a"]\ngce: {project: p, masters: 0}\nadminCidrs: [10.0.0.0/8]\n');
    const run = spawnSync(process.execPath, [app], { cwd: work, env: { PATH: process.env.PATH, LOTSE_CONFIG: 'bad.yaml' }, encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/bad\.yaml is not valid:\n {2}- gce\.masters: must be at least 1/);
  });
});

describe('the secret scan itself', () => {
  test('recognises what it must never let through', () => {
    expect(secretFindings('-----BEGIN EC PRIVATE KEY-----\nMHc...')).toEqual(['PEM private key']);
    expect(secretFindings('{"private_key": "x"}')).toEqual(['GCP service account key']);
    expect(secretFindings(`data:,${encodeURIComponent('-----BEGIN CERTIFICATE-----')}`)).toEqual(['PEM certificate']);
    expect(secretFindings('token: 0123456789abcdef0123')).toEqual(['credential assignment']);
    expect(secretFindings('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample you@laptop')).toEqual([]);
  });
});
