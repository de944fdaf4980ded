import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { run } from './command-runner';

/** One file of an image: copied from this machine, or written from text. */
export type ImageFile = { readonly to: string; readonly mode?: number } & ({ readonly from: string } | { readonly text: string });

/** An image lotse builds here, from files of this machine and the host image, without a registry. */
export interface LocalImageSpec {
  /** The reference the stack's unit runs, e.g. cluster.yaml's `images.etcd`. */
  readonly reference: string;
  /** The rehearsal's host image, whose loader and libraries the programs are given. */
  readonly rootfs: string;
  readonly files: readonly ImageFile[];
  /** Paths inside the image of dynamically linked programs whose libraries must come along. */
  readonly programs: readonly string[];
  readonly entrypoint: string;
  /** busybox applets linked into /bin (a shell for scripts); needs busybox-static. */
  readonly applets?: readonly string[];
}

const LABEL = 'io.lotse.rehearse-image';
const LOADER = '/lib64/ld-linux-x86-64.so.2';

/**
 * Builds the image into this machine's podman unless an image with the same inputs is there (their
 * digest is a label on it). Returns whether it was built.
 */
export async function ensureLocalImage(spec: LocalImageSpec): Promise<boolean> {
  const digest = specDigest(spec);
  const existing = await run(['podman', 'image', 'inspect', '--format', `{{index .Labels "${LABEL}"}}`, spec.reference], { allowFailure: true });
  if (existing.code === 0 && existing.stdout.trim() === digest) return false;
  const work = mkdtempSync(join(tmpdir(), 'lotse-image-'));
  try {
    const root = join(work, 'root');
    await layOut(root, spec);
    const archive = join(work, 'rootfs.tar');
    await run(['tar', '-C', root, '-cf', archive, '.']);
    await run(['podman', 'rmi', '-f', spec.reference], { allowFailure: true });
    await run(['podman', 'import', '--change', `ENTRYPOINT=["${spec.entrypoint}"]`, '--change', 'ENV=PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', '--change', `LABEL=${LABEL}=${digest}`, archive, spec.reference]);
    return true;
  } catch (err) {
    throw new Error(`building the image ${spec.reference} here failed: ${(err as Error).message}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function specDigest(spec: LocalImageSpec): string {
  const hash = createHash('sha256').update(JSON.stringify({ ...spec, files: spec.files.map((f) => ({ to: f.to, mode: f.mode })) }));
  for (const f of spec.files) hash.update('from' in f ? readFileSync(f.from) : f.text);
  return hash.digest('hex');
}

async function layOut(root: string, spec: LocalImageSpec): Promise<void> {
  for (const d of ['bin', 'tmp', 'run', 'proc', 'sys', 'dev', 'etc', 'var/lib']) mkdirSync(join(root, d), { recursive: true });
  for (const f of spec.files) {
    const target = join(root, f.to);
    mkdirSync(dirname(target), { recursive: true });
    if ('from' in f) {
      if (!existsSync(f.from)) throw new Error(`${f.from} is missing on this machine`);
      copyFileSync(f.from, target);
    } else {
      writeFileSync(target, f.text);
    }
    chmodSync(target, f.mode ?? 0o644);
  }
  if (spec.applets?.length) {
    if (!existsSync('/bin/busybox')) throw new Error('the image needs busybox-static for its shell: apt-get install busybox-static');
    copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
    chmodSync(join(root, 'bin/busybox'), 0o755);
    for (const applet of spec.applets) symlinkSync('busybox', join(root, 'bin', applet));
  }
  const libraries = new Set<string>();
  for (const program of spec.programs) for (const lib of await sharedLibraries(spec.rootfs, join(root, program))) libraries.add(lib);
  for (const lib of libraries) {
    mkdirSync(dirname(join(root, lib)), { recursive: true });
    copyFileSync(join(spec.rootfs, lib), join(root, lib));
  }
}

/** Library paths (inside the host image) a program needs, the loader included, resolved by the host image's own loader. */
async function sharedLibraries(rootfs: string, program: string): Promise<string[]> {
  const libDirs = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu'].map((d) => join(rootfs, d)).join(':');
  const out = await run([join(rootfs, LOADER), '--library-path', libDirs, '--list', program], { allowFailure: true });
  // A static program: the loader says so and there is nothing to copy.
  if (out.code !== 0) return /not a dynamic executable/.test(out.stderr + out.stdout) ? [] : Promise.reject(new Error(`cannot list the libraries of ${program}: ${out.stderr.trim()}`));
  const found = out.stdout
    .split('\n')
    .map((line) => /=>\s+(\S+)/.exec(line)?.[1])
    .filter((p): p is string => p !== undefined && p.startsWith(rootfs))
    .map((p) => p.slice(rootfs.length));
  return [LOADER, ...found];
}
