import type { ConfigMap } from 'kubernetes-types/core/v1';
import { LeaseRenewer } from '../../agent/node/lease-renewer';
import { Backoff, jittered } from '../../kube/backoff';
import type { KubeClient, WatchHandle, WatchQuery } from '../../kube/client';
import { Informer } from '../../kube/informer';
import { ApiError } from '../../kube/api-error';
import type { ListWatch } from '../../kube/list-watch';
import type { KubeList, KubeObject } from '../../kube/object';
import { core } from '../../kube/resource-path';

const steps = (b: Backoff, n: number): number[] => Array.from({ length: n }, () => b.next());

describe('back-off', () => {
  test('doubles from its first wait up to its cap, each wait drawn from [d, 2d)', () => {
    expect(steps(new Backoff({ initialMs: 800, maxMs: 30_000, random: () => 0 }), 8)).toEqual([800, 1600, 3200, 6400, 12_800, 25_600, 30_000, 30_000]);
    expect(steps(new Backoff({ initialMs: 800, maxMs: 30_000, random: () => 0.5 }), 8)).toEqual([1200, 2400, 4800, 9600, 19_200, 38_400, 45_000, 45_000]);
    expect(steps(new Backoff({ initialMs: 100, maxMs: 400, factor: 3, jitter: 0, random: () => 0.9 }), 4)).toEqual([100, 300, 400, 400]);
  });

  test('clients that fail together are spread over each step instead of retrying in the same instant', () => {
    const firsts = Array.from({ length: 1000 }, () => new Backoff({ initialMs: 800, maxMs: 30_000 }).next());
    expect(Math.min(...firsts)).toBeGreaterThanOrEqual(800);
    expect(Math.max(...firsts)).toBeLessThanOrEqual(1600);
    // 1,000 draws over 800 ms: no 10 ms holds more than a small share of them.
    const perBucket = new Map<number, number>();
    for (const ms of firsts) perBucket.set(Math.floor(ms / 10), (perBucket.get(Math.floor(ms / 10)) ?? 0) + 1);
    expect(Math.max(...perBucket.values())).toBeLessThan(50);
    expect(new Set(firsts).size).toBeGreaterThan(400);
  });

  test('starts again from its first wait after reset(), or once it has not stepped for resetAfterMs', () => {
    let now = 0;
    const b = new Backoff({ initialMs: 800, maxMs: 30_000, resetAfterMs: 120_000, random: () => 0, now: () => now });
    expect(steps(b, 3)).toEqual([800, 1600, 3200]);
    now += 119_000;
    expect(b.next()).toBe(6400);
    now += 120_001;
    expect(b.next()).toBe(800);
    b.next();
    b.reset();
    expect(b.next()).toBe(800);
  });

  test('refuses a first wait that is not positive or a cap below it', () => {
    expect(() => new Backoff({ initialMs: 0, maxMs: 10 })).toThrow(/0 < initialMs <= maxMs, got 0 and 10/);
    expect(() => new Backoff({ initialMs: 100, maxMs: 10 })).toThrow(/got 100 and 10/);
  });

  test('jittered spreads a period over [p, p · (1 + jitter))', () => {
    expect(jittered(10_000, 0.04, () => 0)).toBe(10_000);
    expect(jittered(10_000, 0.04, () => 0.999)).toBe(10_400);
    expect(jittered(300_000, 1, () => 0.5)).toBe(450_000);
  });
});

/**
 * A list-watch whose lists fail `failures` times, recording when each list came and each watch's
 * timeout; its watches last until stopped, or end at once when `watchesEndAtOnce`.
 */
function failingSource(failures: number, watchesEndAtOnce = false): ListWatch & { listsAt: number[]; timeouts: number[] } {
  const listsAt: number[] = [];
  const timeouts: number[] = [];
  return {
    listsAt,
    timeouts,
    async list<T extends KubeObject>(): Promise<KubeList<T>> {
      listsAt.push(performance.now());
      if (listsAt.length <= failures) throw new Error('connect ECONNREFUSED 127.0.0.1:6443');
      return { apiVersion: 'v1', kind: 'ConfigMapList', metadata: { resourceVersion: '7' }, items: [] } as unknown as KubeList<T>;
    },
    watch(_ref: unknown, query: WatchQuery): WatchHandle {
      timeouts.push(query.timeoutSeconds ?? 0);
      let end: () => void = () => undefined;
      const done = new Promise<void>((resolve) => (end = resolve));
      if (watchesEndAtOnce) end();
      return { stop: end, done };
    },
  };
}

describe("the informer's retries and watch lifetimes", () => {
  test('an unreachable server is re-listed after waits that double, drawn from [d, 2d)', async () => {
    const source = failingSource(3);
    const informer = new Informer<ConfigMap>(source, core('configmaps'), { backoffMs: 100, random: () => 0.5 });
    await informer.start();
    informer.stop();
    const gaps = source.listsAt.slice(1).map((t, i) => t - source.listsAt[i]);
    expect(gaps).toHaveLength(3);
    // 150, 300, 600 ms (timers may fire late, never early).
    [150, 300, 600].forEach((want, i) => {
      expect(gaps[i]).toBeGreaterThanOrEqual(want - 2);
      expect(gaps[i]).toBeLessThan(want + 150);
    });
  });

  test.each([
    ['a refused connection', 're-watched from its resourceVersion', (): Error => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' }), 1],
    ['429 Too Many Requests', 're-watched from its resourceVersion', (): Error => new ApiError(429, 'TooManyRequests', 'too many requests, retry after 1 s'), 1],
    ['a 500', 'listed again', (): Error => new ApiError(500, 'InternalError', 'boom'), 4],
    ['a reset connection', 'listed again', (): Error => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), 4],
  ])('a watch that cannot start for %s is %s', async (_what, _outcome, failure, lists) => {
    const source = failingSource(0);
    const watchedFrom: (string | undefined)[] = [];
    const watch = source.watch.bind(source);
    source.watch = (ref, query, onEvent, onError) => {
      watchedFrom.push(query.resourceVersion);
      if (watchedFrom.length > 3) return watch(ref, query, onEvent, onError);
      onError?.(failure());
      return { stop: () => undefined, done: Promise.resolve() };
    };
    const informer = new Informer<ConfigMap>(source, core('configmaps'), { backoffMs: 10, random: () => 0 });
    await informer.start();
    for (let i = 0; i < 100 && watchedFrom.length < 4; i++) await new Promise((r) => setTimeout(r, 10));
    informer.stop();
    // Three failed watches, then one that stays: re-watched from the list's resourceVersion
    // (client-go's reflector for a refused connection or a 429), or listed again before each.
    expect(watchedFrom).toEqual(['7', '7', '7', '7']);
    expect(source.listsAt).toHaveLength(lists);
  });

  test('a watch that ends at once without an event is a failure, backed off, not asked again in a tight loop', async () => {
    const source = failingSource(0, true);
    const errors: string[] = [];
    const informer = new Informer<ConfigMap>(source, core('configmaps'), { backoffMs: 100, random: () => 0, onError: (e) => errors.push(e.message) });
    await informer.start();
    await new Promise((r) => setTimeout(r, 450));
    informer.stop();
    // Lists at 0, 100 and 300 ms (then 700): not thousands.
    expect(source.listsAt.length).toBeGreaterThanOrEqual(2);
    expect(source.listsAt.length).toBeLessThanOrEqual(4);
    expect(errors[0]).toMatch(/the watch of configmaps ended after \d+ ms without an event; listing again after a back-off/);
  });

  test('each watch asks the server to end it after 5 to 10 minutes, at random, as client-go does', async () => {
    for (const [random, want] of [[0, 300], [0.5, 450], [0.9999, 599]] as const) {
      const source = failingSource(0);
      const informer = new Informer<ConfigMap>(source, core('configmaps'), { random: () => random });
      await informer.start();
      await new Promise((r) => setImmediate(r));
      informer.stop();
      expect(source.timeouts).toEqual([want]);
    }
  });
});

describe("the Lease renewer's retries", () => {
  test('a failing renewal is retried from 200 ms doubling, jittered, never past half the interval; a success goes back to the period', async () => {
    const waits: number[] = [];
    let failing = true;
    const fake = {
      get: async () => {
        if (failing) throw new Error('connect ECONNREFUSED');
        return { metadata: { name: 'n1', namespace: 'kube-node-lease', resourceVersion: '1' }, spec: {} };
      },
      update: async (_ref: unknown, lease: unknown) => lease,
      create: async () => ({}),
    } as unknown as KubeClient;
    const renewer = new LeaseRenewer(fake, 'n1', { intervalMs: 1000, random: () => 0.5, onError: (e) => waits.push(Number(/retry in (\d+) ms/.exec(e.message)?.[1])) });
    renewer.start();
    await new Promise((r) => setTimeout(r, 2500));
    failing = false;
    await new Promise((r) => setTimeout(r, 1200));
    renewer.stop();
    // [d, 2d) at 0.5: 300, 600, then the cap: half the interval (500) · 1.5, bounded by the interval.
    expect(waits.slice(0, 4)).toEqual([300, 600, 750, 750]);
    expect(renewer.lastRenewed).toBeGreaterThan(0);
  });
});
