import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { acquireLock } from '../../../cli/local/up-lock';

describe('acquireLock', () => {
  let dir: string;
  let lockFile: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lotse-lock-'));
    lockFile = path.join(dir, 'local', 'up.lock');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('holds the lock with its pid and releases it', () => {
    const lock = acquireLock(lockFile, 'up');
    expect(fs.readFileSync(lockFile, 'utf8')).toBe(`${process.pid} up\n`);
    lock.release();
    expect(fs.existsSync(lockFile)).toBe(false);
  });

  it('refuses while a live lotse process holds it, naming what it does', async () => {
    // A live process whose command line says lotse, as a running `lotse up` would.
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)', 'lotse'], { stdio: 'ignore' });
    try {
      fs.mkdirSync(path.dirname(lockFile), { recursive: true });
      fs.writeFileSync(lockFile, `${holder.pid} down\n`);
      await new Promise((r) => setTimeout(r, 100));
      expect(() => acquireLock(lockFile, 'up')).toThrow(`another "lotse down" (pid ${holder.pid}) is already starting or stopping this cluster`);
      expect(fs.readFileSync(lockFile, 'utf8')).toBe(`${holder.pid} down\n`);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('takes over a lock whose owner died (or whose pid now belongs to something else)', () => {
    fs.mkdirSync(path.dirname(lockFile), { recursive: true });
    fs.writeFileSync(lockFile, '999999999 up\n');
    acquireLock(lockFile, 'up').release();
    fs.writeFileSync(lockFile, '1 up\n'); // init: alive, but not lotse
    const lock = acquireLock(lockFile, 'up');
    expect(fs.readFileSync(lockFile, 'utf8')).toBe(`${process.pid} up\n`);
    lock.release();
  });

  it('does not remove a lock another process took meanwhile', () => {
    const lock = acquireLock(lockFile, 'up');
    fs.writeFileSync(lockFile, '12345 up\n');
    lock.release();
    expect(fs.readFileSync(lockFile, 'utf8')).toBe('12345 up\n');
  });
});
