/** An IntOrString as Kubernetes specs carry it (maxSurge, maxUnavailable): a count or "NN%". */
export type IntOrString = number | string;

/** The value scaled against total, as apimachinery's GetScaledValueFromIntOrPercent; fallback stands in for an absent value. */
export function resolveIntOrPercent(value: IntOrString | undefined, total: number, roundUp: boolean, fallback: string): number {
  const v = value ?? fallback;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) {
    const n = Number(v);
    if (Number.isInteger(n)) return n;
    throw new Error(`"${v}" is neither an integer nor a percentage like "25%"`);
  }
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}
