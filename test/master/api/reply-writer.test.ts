import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { MAX_SHARE_MS } from '../../../master/api/loop-share';
import { ItemPages } from '../../../master/api/item-pages';
import { MAX_BUFFERED_BYTES, SLICE_BUDGET_MS, writeReply } from '../../../master/api/reply-writer';
import { WireText } from '../../../master/api/wire-text';

const pod = (i: number): Record<string, unknown> => ({
  metadata: { name: `p-${i}`, namespace: 'ns', labels: { app: 'x', 'quote"key': 'a\u2028b' }, annotations: { note: 'n'.repeat(400) } },
  spec: { containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', `echo ${i}`], env: Array.from({ length: 8 }, (_, k) => ({ name: `E${k}`, value: `v${k}` })) }] },
  status: { phase: 'Running' },
});
const list = (n: number): Record<string, unknown> => ({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '42' }, items: Array.from({ length: n }, (_, i) => pod(i)) });

interface Served {
  text: string;
  status: number;
  /** The longest time no timer could run while the answer was written. */
  longestStallMs: number;
}

/** Serves one answer with writeReply (or JSON.stringify at once), timing the gaps between timer ticks while it is written. */
async function serve(kind: 'http1' | 'http2', body: unknown, atOnce = false): Promise<Served> {
  let longestStallMs = -1;
  const handler = (_req: unknown, res: ServerResponse): void => {
    let last = performance.now();
    let longest = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
    }, 1);
    const write = (): Promise<void> | undefined => (atOnce ? void res.end(JSON.stringify(body)) : writeReply(res, { status: 200, body }));
    void Promise.resolve(write()).then(() => {
      longestStallMs = Math.max(longest, performance.now() - last);
      clearInterval(timer);
    });
  };
  const server = kind === 'http1' ? createServer(handler) : http2.createServer(handler as never);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    const { text, status } = await (kind === 'http1' ? getHttp1(port) : getHttp2(port));
    for (let i = 0; i < 100 && longestStallMs < 0; i++) await new Promise((r) => setTimeout(r, 10));
    return { text, status, longestStallMs };
  } finally {
    await new Promise((r) => server.close(r));
  }
}

function getHttp1(port: number): Promise<{ text: string; status: number }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/' }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ text: Buffer.concat(chunks).toString('utf8'), status: res.statusCode ?? 0 }));
    })
      .on('error', reject)
      .end();
  });
}

function getHttp2(port: number): Promise<{ text: string; status: number }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const stream = session.request({ ':path': '/' });
    const chunks: Buffer[] = [];
    let status = 0;
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      session.close();
      resolve({ text: Buffer.concat(chunks).toString('utf8'), status });
    });
    stream.on('error', reject);
  });
}

/** A GET whose client reads nothing until resume(), which reads the rest and gives the whole body. */
function pausedGet(kind: 'http1' | 'http2', port: number): { resume(): Promise<string> } {
  const chunks: Buffer[] = [];
  if (kind === 'http1') {
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/' }, (res) => {
        res.pause();
        resolve(res);
      })
        .on('error', reject)
        .end();
    });
    return {
      resume: async () => {
        const res = await response;
        return new Promise((resolve, reject) => {
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
          res.on('error', reject);
          res.resume();
        });
      },
    };
  }
  const session = http2.connect(`http://127.0.0.1:${port}`);
  const stream = session.request({ ':path': '/' });
  stream.pause();
  return {
    resume: () =>
      new Promise((resolve, reject) => {
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          session.close();
          resolve(Buffer.concat(chunks).toString('utf8'));
        });
        stream.on('error', reject);
        stream.resume();
      }),
  };
}

/** What a client makes of an answer: a whole JSON document, a complete answer that is not JSON, or one cut off by the transport. */
type Outcome = 'a whole list' | 'not JSON' | 'cut off';

function parses(text: string): Outcome {
  try {
    JSON.parse(text);
    return 'a whole list';
  } catch {
    return 'not JSON';
  }
}

function outcomeHttp1(port: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/' }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(parses(Buffer.concat(chunks).toString('utf8'))));
      res.on('error', () => resolve('cut off'));
      res.on('close', () => resolve(res.complete ? parses(Buffer.concat(chunks).toString('utf8')) : 'cut off'));
    });
    req.on('error', () => resolve('cut off')).end();
  });
}

function outcomeHttp2(port: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const stream = session.request({ ':path': '/' });
    const chunks: Buffer[] = [];
    const settle = (outcome: Outcome): void => {
      session.close();
      resolve(outcome);
    };
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => settle(parses(Buffer.concat(chunks).toString('utf8'))));
    stream.on('error', () => settle('cut off'));
  });
}

/** Times writeReply's first slice, then its second after busyMs of other work on the loop. */
async function twoSlices(busyMs: number): Promise<{ firstMs: number; secondMs: number }> {
  const ends: number[] = [];
  const res = { writeHead: () => undefined, write: () => ends.push(performance.now()), end: () => ends.push(performance.now()) } as unknown as ServerResponse;
  const body = list(100_000);
  const started = performance.now();
  const finished = writeReply(res, { status: 200, body });
  expect(finished).toBeDefined();
  const firstMs = ends[0] - started;
  const busyUntil = performance.now() + busyMs;
  while (performance.now() < busyUntil);
  const second = performance.now();
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  expect(ends.length).toBeGreaterThanOrEqual(2);
  const secondMs = ends[1] - second;
  await finished;
  return { firstMs, secondMs };
}

describe('answers written by writeReply', () => {
  test.each(['http1', 'http2'] as const)('a large list is the bytes of JSON.stringify, and no stretch of its encoding holds the loop as writing it at once does (%s)', async (kind) => {
    const body = list(40_000);
    const atOnce = await serve(kind, body, true);
    // The test means something only when writing at once stalls the loop for a while.
    expect(atOnce.longestStallMs).toBeGreaterThan(150);
    const { text, status, longestStallMs } = await serve(kind, body);
    expect(status).toBe(200);
    expect(text).toBe(JSON.stringify(body));
    // What is left is the in-process client's reading and the slices, each at most MAX_SHARE_MS.
    expect(longestStallMs).toBeLessThan(atOnce.longestStallMs / 2);
  });

  test('a slice runs SLICE_BUDGET_MS, or as long as the loop ran other work since the last one, up to MAX_SHARE_MS', async () => {
    // A slice's length is a wall-clock time, so a collection or another process on a busy machine can
    // stretch any one of them. The shortest of three tries is what the writer chose; a writer that
    // chose wrongly (a longer first slice, no cap on the share) is over the bound in every try.
    const firsts: number[] = [];
    const seconds: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const { firstMs, secondMs } = await twoSlices(300);
      firsts.push(firstMs);
      seconds.push(secondMs);
    }
    expect(Math.min(...firsts)).toBeGreaterThanOrEqual(SLICE_BUDGET_MS);
    expect(Math.min(...firsts)).toBeLessThan(SLICE_BUDGET_MS + 30);
    // Other work of 300 ms before the next turn: the next slice takes the longest share, not 300 ms.
    expect(Math.min(...seconds)).toBeGreaterThanOrEqual(MAX_SHARE_MS - 1);
    expect(Math.min(...seconds)).toBeLessThan(MAX_SHARE_MS + 40);
  });

  test('short lists, Tables and other bodies are written as JSON.stringify writes them', async () => {
    const table = { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: {}, columnDefinitions: [{ name: 'Name' }], rows: Array.from({ length: 3_000 }, (_, i) => ({ cells: [`p-${i}`], object: pod(i) })) };
    const odd = { items: [...(list(200).items as unknown[]), undefined, () => 1, null] };
    for (const body of [list(10), list(0), { kind: 'Status', code: 404 }, { items: list(600).items, metadata: {} }, list(100), table, odd]) {
      const { text } = await serve('http1', body);
      expect(text).toBe(JSON.stringify(body));
    }
    const fake = { writeHead: () => undefined, end: () => undefined, write: () => true } as unknown as ServerResponse;
    // Within one slice's budget the answer is complete when writeReply returns.
    expect(writeReply(fake, { status: 200, body: list(10) })).toBeUndefined();
    expect(writeReply(fake, { status: 200, body: list(100) })).toBeUndefined();
  });

  test('entries already in their wire text are written as they are, in slices, in pages and in short lists alike', async () => {
    const wire = (i: number): WireText => new WireText(JSON.stringify(pod(i)));
    const mixed = (n: number): unknown[] => Array.from({ length: n }, (_, i) => (i % 3 ? wire(i) : pod(i)));
    const expected = (n: number): string => JSON.stringify(list(n));
    for (const n of [5, 100, 3_000]) expect((await serve('http1', { ...list(0), items: mixed(n) })).text).toBe(expected(n));
    let page = 0;
    const pages = new ItemPages<unknown>(async () => {
      if (page === 4) return undefined;
      const first = page++ * 500;
      return Array.from({ length: 500 }, (_, i) => (i % 2 ? wire(first + i) : pod(first + i)));
    });
    expect((await serve('http2', { ...list(0), items: pages })).text).toBe(expected(2_000));
  });

  test('a client that leaves in the middle ends the writing instead of holding it', async () => {
    let finished: Promise<void> | undefined;
    const server = createServer((_req, res) => {
      finished = writeReply(res, { status: 200, body: list(50_000) });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      await new Promise<void>((resolve) => {
        const req = request({ host: '127.0.0.1', port, path: '/' }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', () => undefined).end();
      });
      expect(finished).toBeDefined();
      await expect(Promise.race([finished, new Promise((r) => setTimeout(() => r('hung'), 5_000))])).resolves.toBeUndefined();
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  /** items in pages of `size`, counting the pages read; `failAt` makes that page's read fail. */
  function paged<T>(items: T[], size: number, failAt = -1): { pages: ItemPages<T>; read: () => number } {
    let read = 0;
    const pages = new ItemPages<T>(async () => {
      if (read === failAt) throw new Error('the store compacted that revision');
      const page = items.slice(read * size, (read + 1) * size);
      if (page.length === 0) return undefined;
      read++;
      return page;
    });
    return { pages, read: () => read };
  }

  test.each(['http1', 'http2'] as const)('a list read a page at a time is the bytes of JSON.stringify of the whole list, and so is a Table of it (%s)', async (kind) => {
    const whole = list(3_000);
    const items = whole.items as Record<string, unknown>[];
    const { text } = await serve(kind, { ...whole, items: paged(items, 250).pages });
    expect(text).toBe(JSON.stringify(whole));
    const row = (o: Record<string, unknown>): unknown => ({ cells: [(o.metadata as { name: string }).name], object: o });
    const table = { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: {}, columnDefinitions: [{ name: 'Name' }] };
    const asTable = await serve(kind, { ...table, rows: paged(items, 250).pages.map(row) });
    expect(asTable.text).toBe(JSON.stringify({ ...table, rows: items.map(row) }));
    for (const n of [0, 1, 250, 251]) {
      const small = list(n);
      expect((await serve(kind, { ...small, items: paged(small.items as unknown[], 250).pages })).text).toBe(JSON.stringify(small));
    }
  });

  test.each(['http1', 'http2'] as const)('a list read a page at a time waits for a client that stops reading, and goes on when it reads again (%s)', async (kind) => {
    const items = list(40_000).items as unknown[];
    const source = paged(items, 250);
    let finished: Promise<void> | undefined;
    const handler = (_req: unknown, res: ServerResponse): void => {
      finished = writeReply(res, { status: 200, body: { kind: 'PodList', items: source.pages } });
    };
    const server = kind === 'http1' ? createServer(handler) : http2.createServer(handler as never);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const client = pausedGet(kind, port);
      await new Promise((r) => setTimeout(r, 1_000));
      const pagesWhilePaused = source.read();
      const text = await client.resume();
      await finished;
      // ~1.2 KB a pod: a client that read nothing has left the master reading a few MB of pages
      // (MAX_BUFFERED_BYTES, plus what the socket buffers and HTTP/2's window took), not 48 MB.
      expect(pagesWhilePaused * 250 * (JSON.stringify(items[0]).length + 1)).toBeLessThan(MAX_BUFFERED_BYTES + 12 * 2 ** 20);
      expect(pagesWhilePaused).toBeLessThan(160 / 2);
      expect(source.read()).toBe(160);
      expect((JSON.parse(text) as { items: unknown[] }).items).toHaveLength(40_000);
    } finally {
      if ('closeAllConnections' in server) server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  test.each(['http1', 'http2'] as const)('a page that cannot be read cuts the answer off: the client sees a broken transfer, never a short list (%s)', async (kind) => {
    const items = list(2_000).items as unknown[];
    let finished: Promise<void> | undefined;
    const handler = (_req: unknown, res: ServerResponse): void => {
      finished = writeReply(res, { status: 200, body: { kind: 'PodList', items: paged(items, 250, 3).pages } });
      finished?.catch(() => undefined);
    };
    const server = kind === 'http1' ? createServer(handler) : http2.createServer(handler as never);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const outcome = await (kind === 'http1' ? outcomeHttp1(port) : outcomeHttp2(port));
      expect(outcome).toBe('cut off');
      await expect(finished).rejects.toThrow('compacted');
    } finally {
      if ('closeAllConnections' in server) server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
