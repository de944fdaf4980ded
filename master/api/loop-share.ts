/**
 * The longest stretch the event loop gives one piece of deferred work (a starved watch fan-out,
 * a large list's encoding) per turn: what any request may wait behind it. At 5,000 hollow nodes a
 * turn of the loop took ~0.4 s (p50): a cap of 10 ms left the watch fan-out 2 % of the master, so
 * pod events waited 24 s (p50) to be written, and a list of the 5,000 nodes, 8 ms a turn, 10.6 s.
 */
export const MAX_SHARE_MS = 50;

/**
 * A fair slice for work that yields between slices: as long as the loop ran other work since its
 * last slice, so it gets up to half of a busy loop, at least minMs and at most MAX_SHARE_MS.
 */
export function fairShareMs(sinceLastSliceMs: number, minMs: number): number {
  return Math.min(MAX_SHARE_MS, Math.max(minMs, sinceLastSliceMs));
}
