import { execFile } from 'node:child_process';

/** What wrk measured: requests per second and latency percentiles in ms. */
export interface WrkResult {
  rps: number;
  p50ms: number;
  p99ms: number;
}

export interface WrkOptions {
  connections: number;
  seconds: number;
  /** A Host header (an ingress route). */
  host?: string;
  /** Run wrk inside this network namespace. */
  netns?: string;
}

/** Reads wrk's `--latency` report; refuses a run that saw errors or non-2xx answers. */
export function parseWrk(out: string): WrkResult {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const lat = (p: string): number => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    if (!m) return NaN;
    return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
  };
  if (!Number.isFinite(rps) || /Non-2xx/.test(out)) throw new Error(`wrk saw errors or gave no result: ${out.slice(0, 400)}`);
  return { rps, p50ms: lat('50'), p99ms: lat('99') };
}

/** One wrk run (one thread) against url. */
export function wrk(url: string, o: WrkOptions): Promise<WrkResult> {
  const argv = ['wrk', '-t1', `-c${o.connections}`, `-d${o.seconds}s`, '--latency', ...(o.host ? ['-H', `Host: ${o.host}`] : []), url];
  const [cmd, ...args] = o.netns ? ['ip', 'netns', 'exec', o.netns, ...argv] : argv;
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { timeout: (o.seconds + 20) * 1000 }, (err, stdout) => (err ? reject(err) : resolve(parseWrk(String(stdout))))),
  );
}
