/**
 * Small measuring helpers for bench/density.ts: latency histograms of constant size, the figures
 * /proc gives for a process, and a one-line summary of a V8 CPU profile.
 */
import { readFileSync } from 'node:fs';

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Buckets 2 % wide on a log scale: a run of millions of calls costs a few hundred numbers. */
const LOG_STEP = Math.log(1.02);

/** Latencies in milliseconds; quantiles are the upper edge of their bucket (at most 2 % high). */
export class Latencies {
  private readonly buckets = new Map<number, number>();
  count = 0;
  max = 0;

  add(ms: number): void {
    const key = ms <= 0.01 ? -233 : Math.ceil(Math.log(ms) / LOG_STEP);
    this.buckets.set(key, (this.buckets.get(key) ?? 0) + 1);
    this.count++;
    if (ms > this.max) this.max = ms;
  }

  quantile(q: number): number {
    if (this.count === 0) return 0;
    const keys = [...this.buckets.keys()].sort((a, b) => a - b);
    const want = Math.ceil(q * this.count);
    let seen = 0;
    for (const k of keys) {
      seen += this.buckets.get(k) ?? 0;
      if (seen >= want) return Math.min(Math.exp(k * LOG_STEP), this.max);
    }
    return this.max;
  }

  summary(): LatencySummary {
    return { count: this.count, p50: this.quantile(0.5), p90: this.quantile(0.9), p99: this.quantile(0.99), max: this.max };
  }
}

/** A named set of Latencies, created on first use. */
export class LatencyTable {
  private readonly rows = new Map<string, Latencies>();

  add(key: string, ms: number): void {
    let l = this.rows.get(key);
    if (!l) this.rows.set(key, (l = new Latencies()));
    l.add(ms);
  }

  get(key: string): Latencies | undefined {
    return this.rows.get(key);
  }

  clear(): void {
    this.rows.clear();
  }

  summaries(): Record<string, LatencySummary> {
    return Object.fromEntries([...this.rows].sort(([a], [b]) => a.localeCompare(b)).map(([k, l]) => [k, l.summary()]));
  }
}

export interface ProcFigures {
  rssMb: number;
  /** Peak RSS of the process's life (VmHWM). */
  peakRssMb: number;
  /** User plus system CPU seconds so far. */
  cpuSeconds: number;
}

/** Clock ticks per second of /proc/PID/stat; 100 on every Linux this runs on. */
const CLK_TCK = 100;

export function procFigures(pid: number): ProcFigures | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    // The command name may hold spaces and parentheses; the fields start after its closing one.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
    return { rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024, cpuSeconds };
  } catch {
    return undefined;
  }
}

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileLine {
  /** Share of all samples, percent. */
  selfPct: number;
  where: string;
}

/**
 * The source module of each line of an esbuild bundle: esbuild marks where each module starts with a
 * `// path/to/module.ts` line, and a profile of the bundle only knows the bundle's line numbers.
 */
export function bundleModules(bundle: string): (line: number) => string {
  const starts: { line: number; module: string }[] = [];
  readFileSync(bundle, 'utf8').split('\n').forEach((text, line) => {
    const m = /^\/\/ (\S+\.[cm]?[jt]s)$/.exec(text);
    if (m) starts.push({ line, module: m[1] });
  });
  return (line) => {
    let lo = 0;
    let hi = starts.length - 1;
    let found = '';
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid].line <= line) {
        found = starts[mid].module;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  };
}

/** A profiled script's URL as a profile summary names it: node_modules/… for a package, the file's name otherwise. */
function shortUrl(url: string): string {
  return url.replace(/^.*node_modules\//, 'node_modules/').replace(/^(file|node):\/*.*\//, '');
}

/**
 * The functions with the most self time in a .cpuprofile (as DevTools' Bottom-Up view), and the
 * same by source module when the profiled script was the esbuild bundle `bundle`.
 */
export function profileTop(file: string, bundle?: string, n = 25): { functions: ProfileLine[]; files: ProfileLine[]; seconds: number } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const moduleOf = bundle ? bundleModules(bundle) : undefined;
  const byId = new Map(p.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  p.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0) || 1;
  const fn = new Map<string, number>();
  const files = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const f = byId.get(id)?.callFrame;
    if (!f) continue;
    const inBundle = moduleOf && bundle && f.url.endsWith(bundle.split('/').pop() ?? '');
    const short = inBundle ? moduleOf(f.lineNumber) : shortUrl(f.url);
    // A bundle's line numbers mean nothing in the sources: name the module only.
    const where = `${f.functionName || '(anonymous)'} ${short}${f.url && !inBundle ? `:${f.lineNumber + 1}` : ''}`;
    fn.set(where, (fn.get(where) ?? 0) + us);
    const file = f.url ? short : f.functionName;
    files.set(file, (files.get(file) ?? 0) + us);
  }
  const top = (m: Map<string, number>): ProfileLine[] =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([where, us]) => ({ selfPct: Math.round((us / total) * 1000) / 10, where }));
  return { functions: top(fn), files: top(files), seconds: total / 1e6 };
}

/** A node of V8's sampling heap profile (HeapProfiler.getSamplingProfile): bytes still live, by allocation stack. */
interface HeapProfileNode {
  callFrame: ProfileNode['callFrame'];
  selfSize: number;
  children: HeapProfileNode[];
}

export interface HeapLine {
  mb: number;
  where: string;
}

/**
 * Where the live heap was allocated, from a .heapprofile (sampled: the bytes are estimates): by
 * function, and by the innermost `depth` frames of lotse's own code (a JSON.parse means little
 * without who called it). Module names as profileTop gives them for an esbuild bundle.
 */
export function heapProfileTop(file: string, bundle: string, n = 25, depth = 3): { functions: HeapLine[]; stacks: HeapLine[]; totalMb: number } {
  const head = (JSON.parse(readFileSync(file, 'utf8')) as { head: HeapProfileNode }).head;
  const moduleOf = bundleModules(bundle);
  const bundleName = bundle.split('/').pop() ?? '';
  const frameName = (f: ProfileNode['callFrame']): string => {
    const inBundle = f.url.endsWith(bundleName);
    const short = inBundle ? moduleOf(f.lineNumber) : shortUrl(f.url);
    return `${f.functionName || '(anonymous)'} ${short}`.trim();
  };
  const fns = new Map<string, number>();
  const stacks = new Map<string, number>();
  let total = 0;
  const walk = (node: HeapProfileNode, path: string[]): void => {
    const name = frameName(node.callFrame);
    const here = [...path, name];
    if (node.selfSize > 0) {
      total += node.selfSize;
      fns.set(name, (fns.get(name) ?? 0) + node.selfSize);
      const own = here.filter((w) => /\.ts$/.test(w) && !w.includes('node_modules'));
      const key = [...(own.at(-1) === name ? [] : [name]), ...own.slice(-depth).reverse()].join(' ← ');
      stacks.set(key, (stacks.get(key) ?? 0) + node.selfSize);
    }
    for (const c of node.children) walk(c, here);
  };
  walk(head, []);
  const top = (m: Map<string, number>): HeapLine[] => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([where, b]) => ({ mb: b / 2 ** 20, where }));
  return { functions: top(fns), stacks: top(stacks), totalMb: total / 2 ** 20 };
}
