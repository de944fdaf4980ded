/**
 * Kubernetes resource quantities ("100m", "1.5", "128Mi", "1G", "2e3") as plain numbers.
 * The scheduler and the agent compare requests against allocatable, so both parse the same way.
 */

const binary: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const decimal: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** Parses a quantity into its base unit (cores for cpu, bytes for memory). Throws on malformed input. */
export function parseQuantity(value: string | number | undefined | null): number {
  if (value === undefined || value === null || value === '') return 0;
  if (typeof value === 'number') return value;
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?)$/.exec(value.trim());
  if (!m) throw new Error(`quantity "${value}" is malformed: expected a number with an optional suffix (m, k, M, G, Ki, Mi, Gi, ...)`);
  const num = Number(m[1]);
  if (m[2]) return num * 10 ** Number(m[2].slice(1));
  const suffix = m[3] ?? '';
  return num * (binary[suffix] ?? decimal[suffix]);
}

/** CPU in millicores, rounded up as Kubernetes does (0.0001 cores counts as 1m). */
export function cpuMillis(value: string | number | undefined | null): number {
  return Math.ceil(Math.round(parseQuantity(value) * 1e9) / 1e6);
}

/** Memory (or any integer resource) in whole units, rounded up. */
export function quantityInt(value: string | number | undefined | null): number {
  return Math.ceil(parseQuantity(value));
}

/** Formats millicores back to Kubernetes' canonical text ("250m", "2"). */
export function formatCpuMillis(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}

/** Formats bytes with the largest binary suffix that divides them ("128Mi", "1Gi", "1000"). */
export function formatBytes(bytes: number): string {
  for (const s of ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki']) {
    if (bytes !== 0 && bytes % binary[s] === 0) return `${bytes / binary[s]}${s}`;
  }
  return String(bytes);
}
