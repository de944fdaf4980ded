import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundle } from '../../payload/lotse-bundle';

jest.setTimeout(60_000);

describe('the lotse bundle', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'lotse-bundle-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('is one JavaScript file without native code that runs outside the checkout', async () => {
    const bundle = await buildBundle(join(dir, 'lotse.js'));
    expect(bundle.inputs.length).toBeGreaterThan(100);
    expect(bundle.inputs.filter((p) => p.endsWith('.node'))).toEqual([]);
    expect(bundle.inputs.some((p) => /better-sqlite3/.test(p))).toBe(false);
    // Neither an ELF object nor a WebAssembly module inside.
    expect(bundle.content.includes(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))).toBe(false);
    expect(bundle.content.includes(Buffer.from('\0asm'))).toBe(false);
    // From a directory with no node_modules above it, the CLI loads with every command.
    const help = execFileSync(process.execPath, [bundle.path, '--help'], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    for (const command of ['master', 'agent', 'bootstrap', 'reset']) expect(help).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
  });
});
