/**
 * The process's heap and RSS after three full collections, a short rest after each (so
 * finalizers and weak callbacks run): what is live, not what the collector has yet to reclaim.
 * Needs `node --expose-gc`.
 */
export async function settledHeap(): Promise<{ heapMb: number; heapTotalMb: number; rssMb: number }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc: the figures are heap sizes after a full GC');
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 200));
  }
  const m = process.memoryUsage();
  return { heapMb: m.heapUsed / 2 ** 20, heapTotalMb: m.heapTotal / 2 ** 20, rssMb: m.rss / 2 ** 20 };
}
