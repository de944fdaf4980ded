import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { project, type ProjectionRecords } from '../../../agent/volumes/projection';
import { VolumeManager, type MemoryVolumeRuntime } from '../../../agent/volumes/volume-manager';
import type { ObjectSource } from '../../../agent/object-source';

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lotse-projection-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** What a resync could change about a file: its inode, its content and its metadata (ctime). */
const identity = (p: string): string => {
  const s = fs.statSync(p);
  return `${s.ino}|${s.ctimeMs}|${s.mode & 0o7777}|${fs.readFileSync(p, 'utf8')}`;
};

test('files are written with their modes, items map keys to paths, and nothing else stays in the volume', () => {
  const dir = path.join(tmp, 'conf');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'stale'), 'from an older version');
  project(dir, { 'app.conf': 'mode=fast\n', other: 'x' }, [{ key: 'app.conf', path: 'etc/app.conf', mode: 0o600 }], 0o644, 'configmap "settings"');
  expect(fs.readdirSync(dir)).toEqual(['etc']);
  expect(fs.readFileSync(path.join(dir, 'etc/app.conf'), 'utf8')).toBe('mode=fast\n');
  expect(fs.statSync(path.join(dir, 'etc/app.conf')).mode & 0o7777).toBe(0o600);
});

test('projecting the same files again leaves them untouched: same inode, no metadata write', async () => {
  const dir = path.join(tmp, 'token');
  const data = { token: 'eyJ...', 'ca.crt': Buffer.from('-----BEGIN CERTIFICATE-----\n'), namespace: 'default' };
  project(dir, data, undefined, 0o644, 'projected volume');
  const before = Object.keys(data).map((f) => identity(path.join(dir, f)));
  await sleep(20); // a chmod or a rewrite now would give another ctime
  project(dir, data, undefined, 0o644, 'projected volume');
  expect(Object.keys(data).map((f) => identity(path.join(dir, f)))).toEqual(before);
});

test('a file changed on disk, or its mode, is put back at the next projection', () => {
  const dir = path.join(tmp, 'secret');
  project(dir, { password: 's3cret' }, undefined, 0o640, 'secret "db"');
  const file = path.join(dir, 'password');
  fs.writeFileSync(file, 's3creT'); // same length: the content is compared, not only the size
  project(dir, { password: 's3cret' }, undefined, 0o640, 'secret "db"');
  expect(fs.readFileSync(file, 'utf8')).toBe('s3cret');
  fs.chmodSync(file, 0o666);
  project(dir, { password: 's3cret' }, undefined, 0o640, 'secret "db"');
  expect(fs.statSync(file).mode & 0o7777).toBe(0o640);
  project(dir, { password: 'rotated' }, undefined, 0o640, 'secret "db"');
  expect(fs.readFileSync(file, 'utf8')).toBe('rotated');
  expect(fs.readdirSync(dir)).toEqual(['password']);
});

test('a missing key and a path leaving the volume are refused, naming the volume', () => {
  expect(() => project(path.join(tmp, 'a'), { a: '1' }, [{ key: 'b', path: 'b' }], undefined, 'configmap "settings"')).toThrow('configmap "settings" has no key "b"');
  expect(() => project(path.join(tmp, 'a'), { '../escape': '1' }, undefined, undefined, 'configmap "settings"')).toThrow('path "../escape" must be relative and stay inside the volume');
  expect(fs.existsSync(path.join(tmp, 'escape'))).toBe(false);
});

test("an emptyDir is world-writable when made, and a container's own chmod of it outlives the next sync", async () => {
  const noObjects = {} as ObjectSource; // an emptyDir reads no object
  const noRuntime = {} as MemoryVolumeRuntime; // nor is it a memory volume
  const volumes = new VolumeManager(path.join(tmp, 'pods'), noObjects, noRuntime);
  const pod = { metadata: { uid: 'u1', name: 'p', namespace: 'default' }, spec: { containers: [], volumes: [{ name: 'scratch', emptyDir: {} }] } };
  const first = await volumes.setUp(pod);
  const source = first.get('scratch');
  if (source?.kind !== 'bind') throw new Error(`emptyDir set up as ${JSON.stringify(source)}`);
  expect(fs.statSync(source.path).mode & 0o777).toBe(0o777);
  fs.chmodSync(source.path, 0o700);
  await volumes.setUp(pod);
  expect(fs.statSync(source.path).mode & 0o777).toBe(0o700);
});

describe("with the pod's records", () => {
  const data = { token: 'eyJ...', 'ca.crt': Buffer.from('-----BEGIN CERTIFICATE-----\n'), namespace: 'default' };
  // Past the window in which a file's times cannot be trusted to show a change (RACY_MS).
  const settle = (): Promise<void> => sleep(150);

  test('a resync of files as the last projection left them stats them and reads nothing', async () => {
    const dir = path.join(tmp, 'token');
    const records: ProjectionRecords = new Map();
    project(dir, data, undefined, 0o644, 'projected volume', records);
    await settle();
    project(dir, data, undefined, 0o644, 'projected volume', records); // compared in full once: the first stat was racy
    const calls = (['readFileSync', 'readdirSync', 'mkdirSync', 'openSync', 'writeFileSync', 'chmodSync'] as const).map((name) => jest.spyOn(fs, name));
    try {
      for (let i = 0; i < 3; i++) project(dir, data, undefined, 0o644, 'projected volume', records);
      expect(calls.map((c) => c.mock.calls.length)).toEqual([0, 0, 0, 0, 0, 0]);
    } finally {
      for (const c of calls) c.mockRestore();
    }
    // New content is written.
    project(dir, { ...data, token: 'eyJ.rotated' }, undefined, 0o644, 'projected volume', records);
    expect(fs.readFileSync(path.join(dir, 'token'), 'utf8')).toBe('eyJ.rotated');
  });

  test('a file changed on disk, at once or later, is still put back, and a stray file still goes', async () => {
    const dir = path.join(tmp, 'secret');
    const file = path.join(dir, 'password');
    const records: ProjectionRecords = new Map();
    project(dir, { password: 's3cret' }, undefined, 0o640, 'secret "db"', records);
    fs.writeFileSync(file, 's3creT'); // in the same clock tick as the projection, maybe: same size, same inode
    project(dir, { password: 's3cret' }, undefined, 0o640, 'secret "db"', records);
    expect(fs.readFileSync(file, 'utf8')).toBe('s3cret');
    await settle();
    project(dir, { password: 's3cret' }, undefined, 0o640, 'secret "db"', records);
    await settle();
    fs.writeFileSync(file, 's3creT');
    project(dir, { password: 's3cret' }, undefined, 0o640, 'secret "db"', records);
    expect(fs.readFileSync(file, 'utf8')).toBe('s3cret');
    await settle();
    project(dir, { password: 's3cret' }, undefined, 0o640, 'secret "db"', records);
    await settle();
    fs.chmodSync(file, 0o666);
    fs.writeFileSync(path.join(dir, 'stray'), 'x');
    project(dir, { password: 's3cret' }, undefined, 0o640, 'secret "db"', records);
    expect(fs.statSync(file).mode & 0o7777).toBe(0o640);
    expect(fs.readdirSync(dir)).toEqual(['password']);
  });
});
