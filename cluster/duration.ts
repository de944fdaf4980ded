const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A duration as kubectl and kubeadm write them (Go's form: `24h`, `90m`, `1h30m`, `45s`), in
 * milliseconds. Throws with the offending text and an example, so a flag's typo is a message.
 */
export function parseDuration(text: string, what = 'duration'): number {
  const parts = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/.test(text) ? [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)] : [];
  if (parts.length === 0) throw new Error(`${what} "${text}" is not a duration: write it as a number and a unit (ms, s, m, h), for example 24h, 90m or 1h30m`);
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * units[unit], 0);
}
