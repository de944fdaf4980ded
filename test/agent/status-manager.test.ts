import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { StatusManager } from '../../agent/pods/status-manager';
import { KubeClient } from '../../kube/client';
import { makeTestPki } from '../support/test-certs';

interface Seen {
  path: string;
  phase: string;
  at: number;
}

/**
 * A master stand-in for pods/status: answers each PATCH after delayMs, failing the first `failures`
 * of each pod with 504, and refusing the first `refusals` of all with 429 (no Retry-After, so the
 * client does not resend: the status manager sees each refusal).
 */
async function statusServer(pki: ReturnType<typeof makeTestPki>, o: { failures?: number; delayMs?: number; refusals?: number }) {
  const seen: Seen[] = [];
  const failedFor = new Map<string, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  let refused = 0;
  const server = http2.createSecureServer({ cert: pki.server.cert, key: pki.server.key, allowHTTP1: true }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { status: { phase: string } };
      const path = req.url ?? '';
      seen.push({ path, phase: body.status.phase, at: Date.now() });
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      setTimeout(() => {
        inFlight--;
        if (refused < (o.refusals ?? 0)) {
          refused++;
          res.writeHead(429, { 'content-type': 'application/json' });
          return void res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 429, reason: 'TooManyRequests', message: 'too many requests' }));
        }
        const failed = failedFor.get(path) ?? 0;
        if (failed < (o.failures ?? 0)) {
          failedFor.set(path, failed + 1);
          res.writeHead(504, { 'content-type': 'application/json' });
          return void res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 504, reason: 'Timeout', message: 'the store did not answer in time' }));
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Pod', apiVersion: 'v1', metadata: { name: 'p' }, status: body.status }));
      }, o.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `https://127.0.0.1:${port}`, seen, maxInFlight: () => maxInFlight, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('StatusManager', () => {
  const pki = makeTestPki();

  test('a failed write is tried again after retryMs with the newest status, and does not hold back other pods', async () => {
    const server = await statusServer(pki, { failures: 1 });
    const client = new KubeClient({ server: server.url, ca: pki.ca.cert, token: 't', http2: true });
    const errors: string[] = [];
    const status = new StatusManager(client, { retryMs: 600, batchMs: 5, onError: (e) => errors.push(e.message) });
    try {
      status.set('u1', 'default', 'p1', { phase: 'Pending' });
      await new Promise((r) => setTimeout(r, 100)); // the first write failed by now
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain('writing status of pod default/p1 failed');
      status.set('u1', 'default', 'p1', { phase: 'Running' });
      status.set('u2', 'default', 'p2', { phase: 'Pending' }); // fails once too, but is written at once
      await new Promise((r) => setTimeout(r, 100));
      expect(server.seen.map((s) => `${s.path.split('/')[6]} ${s.phase}`)).toEqual(['p1 Pending', 'p2 Pending']);
      await new Promise((r) => setTimeout(r, 1000));
      const p1 = server.seen.filter((s) => s.path.includes('/p1/'));
      expect(p1.map((s) => s.phase)).toEqual(['Pending', 'Running']); // not replayed: the newest status, once
      expect(p1[1].at - p1[0].at).toBeGreaterThanOrEqual(550);
      expect(server.seen.filter((s) => s.path.includes('/p2/')).map((s) => s.phase)).toEqual(['Pending', 'Pending']);
      await status.idle();
    } finally {
      status.stop();
      client.close();
      await server.close();
    }
  });

  test('no more than `concurrency` writes are in flight, and a burst of changes to one pod becomes its latest status', async () => {
    const server = await statusServer(pki, { delayMs: 50 });
    const client = new KubeClient({ server: server.url, ca: pki.ca.cert, token: 't', http2: true });
    const status = new StatusManager(client, { concurrency: 3, batchMs: 5 });
    try {
      for (let i = 0; i < 12; i++) status.set(`u${i}`, 'default', `p${i}`, { phase: 'Pending' });
      for (let i = 0; i < 12; i++) status.set(`u${i}`, 'default', `p${i}`, { phase: 'Running' });
      await status.idle();
      expect(server.maxInFlight()).toBe(3);
      expect(server.seen).toHaveLength(12);
      expect(server.seen.every((s) => s.phase === 'Running')).toBe(true);
      // Written: the same status again is not sent.
      status.set('u0', 'default', 'p0', { phase: 'Running' });
      await status.idle();
      expect(server.seen).toHaveLength(12);
    } finally {
      status.stop();
      client.close();
      await server.close();
    }
  });

  test('a write refused as overloaded (429) pauses every write, longer with each refusal in a row, then one probes before the rest follow', async () => {
    const server = await statusServer(pki, { refusals: 4, delayMs: 20 });
    const client = new KubeClient({ server: server.url, ca: pki.ca.cert, token: 't', http2: true });
    const status = new StatusManager(client, { retryMs: 300, batchMs: 5, random: () => 0 });
    try {
      const t0 = Date.now();
      for (let i = 0; i < 3; i++) status.set(`u${i}`, 'default', `p${i}`, { phase: 'Running' });
      await new Promise((r) => setTimeout(r, 1_500));
      const at = server.seen.map((s) => s.at - t0);
      // Three refused together make one pause of 300 ms, not three doubling it; the probe after it
      // is refused (600 ms more); the next probe is answered, and the two others follow it.
      expect(at).toHaveLength(7);
      expect(at[2]).toBeLessThan(150);
      expect(at[3]).toBeGreaterThanOrEqual(300);
      expect(at[3]).toBeLessThan(500);
      expect(at[4] - at[3]).toBeGreaterThanOrEqual(600);
      expect(at[4] - at[3]).toBeLessThan(800);
      expect(at[5]).toBeGreaterThanOrEqual(at[4] + 20); // after the probe's answer, not beside it
      await status.idle();
      expect(new Set(server.seen.slice(4).map((s) => s.path)).size).toBe(3);
    } finally {
      status.stop();
      client.close();
      await server.close();
    }
  });

  test('idle() does not wait for a failed write whose master does not answer', async () => {
    const server = await statusServer(pki, { failures: 100 });
    const client = new KubeClient({ server: server.url, ca: pki.ca.cert, token: 't', http2: true });
    const status = new StatusManager(client, { retryMs: 60_000, batchMs: 5 });
    try {
      status.set('u1', 'default', 'p1', { phase: 'Running' });
      const t0 = Date.now();
      await status.idle();
      expect(Date.now() - t0).toBeLessThan(2_000);
      expect(server.seen).toHaveLength(1);
    } finally {
      status.stop();
      client.close();
      await server.close();
    }
  });
});
