import type { ServerResponse } from 'node:http';
import { beginForegroundRequest, foregroundRequests } from '../../../master/api/foreground-requests';
import { sliceBudgetMs, WatchStream } from '../../../master/api/watch-stream';

/** A response that records what the stream wrote to it. */
function recordingResponse(): { res: ServerResponse; written: string[] } {
  const written: string[] = [];
  const res = { writableEnded: false, destroyed: false, socket: null, write: (text: string) => written.push(text), end: () => undefined };
  return { res: res as unknown as ServerResponse, written };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('watch fan-out slices', () => {
  test('none while requests are answered, full when idle or when a stream has waited long', () => {
    expect(sliceBudgetMs(0, 0)).toBe(2);
    expect(sliceBudgetMs(3, 5)).toBe(0);
    expect(sliceBudgetMs(3, 99)).toBe(0);
    expect(sliceBudgetMs(3, 100)).toBe(2);
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

  test('lines queued while a request is answered go out as soon as it ends, in order, in one write', async () => {
    const { res, written } = recordingResponse();
    const stream = new WatchStream(res);
    const request = beginForegroundRequest();
    stream.write('a\n');
    stream.write('b\n');
    for (let i = 0; i < 5; i++) await turn();
    expect(written).toEqual([]);
    request.end();
    await turn();
    await turn();
    expect(written).toEqual(['a\nb\n']);
  });

  test('a request that does not end holds the lines back no longer than the starvation bound', async () => {
    const { res, written } = recordingResponse();
    const stream = new WatchStream(res);
    const request = beginForegroundRequest();
    const t0 = performance.now();
    stream.write('x\n');
    while (written.length === 0 && performance.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 5));
    const waited = performance.now() - t0;
    request.end();
    expect(written).toEqual(['x\n']);
    expect(waited).toBeGreaterThanOrEqual(95);
    expect(waited).toBeLessThan(400);
  });
});
