/**
 * The longest stretches of a V8 CPU profile in which the thread never went idle, and what ran in
 * each: a summary's per-function shares cannot tell one 9 s task from 9,000 tasks of 1 ms, and a
 * long task is what holds an event loop (every request, lease and watch waits behind it).
 *
 *   npx esbuild bench/profile-stalls.ts --bundle --platform=node --packages=external --outfile=bench/.out/profile-stalls.js
 *   node bench/.out/profile-stalls.js PROFILE.cpuprofile [--bundle bench/.out/density.js] [--top 8] [--frames 14]
 *
 * --bundle names the esbuild bundle the profiled process ran, so that its functions are named
 * with their source module. A busy stretch ends at the first "(idle)" sample; "(program)" and the
 * garbage collector count as busy, since the loop cannot run either way. A saturated loop never
 * goes idle, so the stretches of one call path are printed too: consecutive samples whose stacks
 * share their frame at --depth (3 unless told; garbage collection and "(program)" samples in
 * between do not end one). Such a run is one task, or tasks of that one path back to back.
 * "(idle)" is what the embedder told V8: native work between callbacks while the loop polls may
 * be counted idle too, so compare with the loop's own utilization (performance.eventLoopUtilization).
 */
import { readFileSync } from 'node:fs';
import { bundleModules, type CpuProfile, type ProfileNode } from './density-stats';

interface Stretch {
  /** Index of its first sample and one past its last. */
  from: number;
  to: number;
  /** Milliseconds from the profile's start to its first sample, and its length. */
  startMs: number;
  ms: number;
}

interface Options {
  file: string;
  bundle?: string;
  top: number;
  frames: number;
  depth: number;
}

function options(argv: string[]): Options {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const file = argv.find((a, i) => !a.startsWith('--') && !argv[i - 1]?.startsWith('--'));
  if (!file) throw new Error('usage: profile-stalls PROFILE.cpuprofile [--bundle BUNDLE.js] [--top 8] [--frames 14] [--depth 3]');
  return { file, bundle: value('--bundle'), top: Number(value('--top') ?? 8), frames: Number(value('--frames') ?? 14), depth: Number(value('--depth') ?? 3) };
}

/**
 * Stretches of consecutive non-idle samples with the same key, longest first: one key for every
 * sample gives the busy stretches, the stack's frame at a depth gives the runs of one call path.
 * A sample's delta is the time since the one before, so it counts toward the stretch it ends.
 */
function stretchesOf(p: CpuProfile, idle: Set<number>, key: (id: number) => number | undefined): Stretch[] {
  const runs: Stretch[] = [];
  let at = 0;
  let current: (Stretch & { key: number }) | undefined;
  p.samples.forEach((id, i) => {
    const delta = (p.timeDeltas[i] ?? 0) / 1000;
    at += delta;
    if (idle.has(id)) {
      if (current) runs.push(current);
      current = undefined;
      return;
    }
    const k = key(id);
    if (k === undefined) {
      // Neutral: collection or unattributed native time inside whatever runs.
      if (current) current.ms += delta;
      return;
    }
    if (current?.key === k) {
      current.ms += delta;
      current.to = i + 1;
      return;
    }
    if (current) runs.push(current);
    current = { key: k, from: i, to: i + 1, startMs: at, ms: delta };
  });
  if (current) runs.push(current);
  return runs.sort((a, b) => b.ms - a.ms);
}

/** Each function's inclusive share of a stretch: counted once per sample however deep it recurs. */
function inclusive(p: CpuProfile, s: Stretch, parentOf: Map<number, number>, byId: Map<number, ProfileNode>, name: (n: ProfileNode) => string): [string, number][] {
  const counts = new Map<string, number>();
  for (let i = s.from; i < s.to; i++) {
    const seen = new Set<string>();
    for (let id: number | undefined = p.samples[i]; id !== undefined; id = parentOf.get(id)) {
      const node = byId.get(id);
      if (!node) break;
      const n = name(node);
      if (!seen.has(n)) {
        seen.add(n);
        counts.set(n, (counts.get(n) ?? 0) + 1);
      }
    }
  }
  return [...counts].sort((a, b) => b[1] - a[1]);
}

function main(): void {
  const o = options(process.argv.slice(2));
  const p = JSON.parse(readFileSync(o.file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
  const idle = new Set(p.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  const moduleOf = o.bundle ? bundleModules(o.bundle) : undefined;
  const bundleName = o.bundle?.split('/').pop();
  const name = (n: ProfileNode): string => {
    const f = n.callFrame;
    const inBundle = moduleOf && bundleName && f.url.endsWith(bundleName);
    const where = inBundle ? moduleOf(f.lineNumber) : f.url.replace(/^.*node_modules\//, '').replace(/^.*\//, '');
    return `${f.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
  };
  const neutral = new Set(p.nodes.filter((n) => ['(garbage collector)', '(program)'].includes(n.callFrame.functionName)).map((n) => n.id));
  const depthOf = new Map<number, number>();
  const depth = (id: number): number => {
    let d = depthOf.get(id);
    if (d === undefined) {
      const parent = parentOf.get(id);
      d = parent === undefined ? 0 : depth(parent) + 1;
      depthOf.set(id, d);
    }
    return d;
  };
  const keyAt = (id: number): number | undefined => {
    if (neutral.has(id)) return undefined;
    let at = id;
    while (depth(at) > o.depth) at = parentOf.get(at) ?? at;
    return at;
  };
  const stretches = stretchesOf(p, idle, () => 0);
  const totalMs = p.timeDeltas.reduce((a, b) => a + b, 0) / 1000;
  const over = (ms: number): number => stretches.filter((s) => s.ms >= ms).length;
  console.log(`${o.file}: ${(totalMs / 1000).toFixed(0)} s sampled; busy stretches of ≥ 1 s: ${over(1000)}, ≥ 2 s: ${over(2000)}, ≥ 5 s: ${over(5000)}`);
  const print = (s: Stretch, what: string): void => {
    const samples = s.to - s.from;
    console.log(`\n${(s.ms / 1000).toFixed(2)} s ${what} from ${(s.startMs / 1000).toFixed(1)} s (${samples} samples); functions by inclusive share:`);
    for (const [fn, n] of inclusive(p, s, parentOf, byId, name).slice(0, o.frames)) console.log(`  ${((n / samples) * 100).toFixed(0).padStart(3)} %  ${fn}`);
  };
  for (const s of stretches.slice(0, o.top)) print(s, 'busy');
  const runs = stretchesOf(p, idle, keyAt);
  console.log(`\nruns of one call path at depth ${o.depth}: ≥ 1 s: ${runs.filter((r) => r.ms >= 1000).length}, ≥ 2 s: ${runs.filter((r) => r.ms >= 2000).length}`);
  for (const r of runs.slice(0, o.top)) print(r, 'of one path');
}

main();
