import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { embeddableDashboard, serveDashboard } from '../../../master/dashboard/serve-dashboard';

let server: http.Server;
let base: string;
let dir: string;
const saved = { ...process.env };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lotse-dashboard-files-'));
  server = http.createServer((req, res) => {
    if (!serveDashboard(req, res)) {
      res.writeHead(418);
      res.end('not the dashboard');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  process.env = { ...saved };
});

function request(path: string, init: { method?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method: init.method ?? 'GET', headers: init.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('paths outside /dashboard are left to the caller', async () => {
  expect((await request('/api/v1/pods')).status).toBe(418);
  expect((await request('/dashboards')).status).toBe(418);
});

test('an unbuilt dashboard answers 503 with the command that builds it', async () => {
  process.env.LOTSE_DASHBOARD_DIR = join(dir, 'nothing-here');
  const r = await request('/dashboard/');
  expect(r.status).toBe(503);
  expect(r.body.toString()).toMatch(/the dashboard is not built .*run npm run build/);
});

test('built files from a directory: gzip when asked, HEAD without a body, only GET and HEAD', async () => {
  writeFileSync(join(dir, 'index.html'), '<!doctype html><script src="app.js?v=1"></script>');
  writeFileSync(join(dir, 'app.js'), 'console.log(1)');
  writeFileSync(join(dir, 'app.css'), 'body{}');
  process.env.LOTSE_DASHBOARD_DIR = dir;
  const gz = await request('/dashboard/app.js?v=1', { headers: { 'accept-encoding': 'gzip, br' } });
  expect(gz.headers['content-encoding']).toBe('gzip');
  expect(gunzipSync(gz.body).toString()).toBe('console.log(1)');
  expect(gz.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  // Without the version in the URL the file may change under the same name: revalidate.
  expect((await request('/dashboard/app.js')).headers['cache-control']).toBe('no-cache');
  const head = await request('/dashboard/', { method: 'HEAD' });
  expect(head.status).toBe(200);
  expect(head.body.length).toBe(0);
  expect(head.headers['x-content-type-options']).toBe('nosniff');
  expect((await request('/dashboard/app.js', { method: 'POST' })).status).toBe(405);
});

test('a bundle can carry the files inside itself', async () => {
  const embedded = embeddableDashboard(dir);
  expect(embedded).toBeDefined();
  process.env.LOTSE_DASHBOARD_DIR = join(dir, 'nothing-here');
  process.env.LOTSE_DASHBOARD_EMBEDDED = embedded;
  const r = await request('/dashboard/app.css');
  expect(r.status).toBe(200);
  expect(r.body.toString()).toBe('body{}');
  expect(embeddableDashboard(join(dir, 'nothing-here'))).toBeUndefined();
});
