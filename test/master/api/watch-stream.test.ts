import { beginForegroundRequest, foregroundRequests } from '../../../master/api/foreground-requests';
import type { ServerResponse } from 'node:http';
import { MAX_SHARE_MS } from '../../../master/api/loop-share';
import { sliceBudgetMs, WatchStream } from '../../../master/api/watch-stream';

const busy = (ms: number): void => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

/** A response whose write costs what a TLS write costs, and that notes how long its oldest line waited. */
class CostlyResponse {
  writableEnded = false;
  destroyed = false;
  constructor(private readonly waits: number[]) {}
  write(text: string): boolean {
    busy(0.1);
    this.waits.push(performance.now() - Number(text.slice(0, text.indexOf('\n'))));
    return true;
  }
  end(): void {
    this.writableEnded = true;
  }
  on(): this {
    return this;
  }
}

describe('watch fan-out slices', () => {
  test('short while requests are answered, full when idle, as long as the loop ran other work once a stream has waited long', () => {
    expect(sliceBudgetMs(0, 0)).toBe(2);
    expect(sliceBudgetMs(3, 5)).toBe(0.25);
    expect(sliceBudgetMs(3, 99)).toBe(0.25);
    expect(sliceBudgetMs(3, 100)).toBe(2);
    expect(sliceBudgetMs(3, 100, 7)).toBe(7);
    expect(sliceBudgetMs(0, 250, 30)).toBe(30);
    expect(sliceBudgetMs(0, 250, 500)).toBe(MAX_SHARE_MS);
  });

  test('a master busy with requests still writes every watch within a few turns of its loop', async () => {
    const waits: number[] = [];
    const streams = Array.from({ length: 500 }, () => new WatchStream(new CostlyResponse(waits) as unknown as ServerResponse));
    const request = beginForegroundRequest();
    try {
      // Turns of 30 ms of request work, each with an event for every watch: 50 ms of writes a turn.
      for (let turn = 0; turn < 40; turn++) {
        await new Promise((r) => setImmediate(r));
        busy(30);
        for (const stream of streams) stream.write(`${performance.now()}\n`);
      }
    } finally {
      request.end();
    }
    for (const stream of streams) stream.end();
    waits.sort((a, b) => a - b);
    // A fixed 2 ms slice a turn wrote 20 watches a turn, so the last ones waited 25 turns (> 750 ms).
    expect(waits[Math.floor(waits.length * 0.99)]).toBeLessThan(400);
  });

  test('a request counts until it ends, once, however often end is called', () => {
    const before = foregroundRequests();
    const a = beginForegroundRequest();
    const b = beginForegroundRequest();
    expect(foregroundRequests()).toBe(before + 2);
    a.end();
    a.end(); // a watch ends its count when it starts streaming, and again when it is over
    expect(foregroundRequests()).toBe(before + 1);
    b.end();
    expect(foregroundRequests()).toBe(before);
  });
});
