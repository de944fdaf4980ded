import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

interface Asset {
  type: string;
  body: Buffer;
  gzipped: Buffer;
  etag: string;
}

const files: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

/**
 * Scripts and styles only from the master itself, API calls only to it, no inline code, no
 * framing: a page that holds a cluster token must not run anything else.
 */
const csp = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const securityHeaders = {
  'content-security-policy': csp,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

let cache: { source: string; assets: Map<string, Asset> } | undefined;

/**
 * Serves the dashboard's static files under /dashboard/ without authentication (they hold no
 * data; every API call the page makes carries the user's token). Answers false when the request
 * is not for the dashboard, so the caller goes on routing it.
 */
export function serveDashboard(req: IncomingMessage, res: ServerResponse): boolean {
  const url = new URL(req.url ?? '/', 'http://dashboard');
  if (url.pathname !== '/dashboard' && !url.pathname.startsWith('/dashboard/')) return false;
  if (url.pathname === '/dashboard') {
    res.writeHead(301, { location: '/dashboard/', ...securityHeaders });
    res.end();
    return true;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8', ...securityHeaders });
    res.end('the dashboard only answers GET and HEAD\n');
    return true;
  }
  const name = url.pathname.slice('/dashboard/'.length) || 'index.html';
  const assets = loadAssets();
  if (!assets) {
    res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...securityHeaders });
    res.end(`the dashboard is not built (no ${join(dashboardDir(), 'index.html')}): run npm run build, or set LOTSE_DASHBOARD_DIR to a built dashboard\n`);
    return true;
  }
  const asset = assets.get(name);
  if (!asset) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', ...securityHeaders });
    res.end(`no dashboard file ${name}\n`);
    return true;
  }
  sendAsset(req, res, asset, name !== 'index.html' && url.searchParams.has('v'));
  return true;
}

function sendAsset(req: IncomingMessage, res: ServerResponse, asset: Asset, versioned: boolean): void {
  // index.html is revalidated each time so a new build shows at once; the assets it names carry
  // their content hash in ?v=, so those may be kept for good.
  const headers: Record<string, string> = {
    'content-type': asset.type,
    'cache-control': versioned ? 'public, max-age=31536000, immutable' : 'no-cache',
    etag: asset.etag,
    vary: 'accept-encoding',
    ...securityHeaders,
  };
  if (req.headers['if-none-match'] === asset.etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const body = gzip ? asset.gzipped : asset.body;
  if (gzip) headers['content-encoding'] = 'gzip';
  headers['content-length'] = String(body.length);
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * The built files, read once. A single-file lotse bundle (bootstrap) has no dist/ next to it, so
 * its builder may carry the files inside: esbuild `define` of process.env.LOTSE_DASHBOARD_EMBEDDED
 * to the JSON string embeddableDashboard() answers. A missing build is looked for again on the
 * next request.
 */
function loadAssets(): Map<string, Asset> | undefined {
  const embedded = process.env.LOTSE_DASHBOARD_EMBEDDED;
  const source = embedded ? 'embedded' : dashboardDir();
  if (cache?.source === source) return cache.assets;
  const contents = embedded ? parseEmbedded(embedded) : readBuilt(source);
  if (!contents) return undefined;
  const assets = new Map<string, Asset>();
  for (const [name, type] of Object.entries(files)) {
    const body = contents[name];
    assets.set(name, { type, body, gzipped: gzipSync(body), etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"` });
  }
  cache = { source, assets };
  return assets;
}

function readBuilt(dir: string): Record<string, Buffer> | undefined {
  if (!Object.keys(files).every((name) => existsSync(join(dir, name)))) return undefined;
  return Object.fromEntries(Object.keys(files).map((name) => [name, readFileSync(join(dir, name))]));
}

function parseEmbedded(json: string): Record<string, Buffer> {
  const parsed = JSON.parse(json) as Record<string, string>;
  const missing = Object.keys(files).filter((name) => typeof parsed[name] !== 'string');
  if (missing.length) throw new Error(`the embedded dashboard lacks ${missing.join(', ')}: rebuild the bundle after npm run build`);
  return Object.fromEntries(Object.keys(files).map((name) => [name, Buffer.from(parsed[name], 'utf8')]));
}

/** The built dashboard as one JSON string, for bundlers to embed (see loadAssets); undefined when not built. */
export function embeddableDashboard(dir: string = dashboardDir()): string | undefined {
  const built = readBuilt(dir);
  return built ? JSON.stringify(Object.fromEntries(Object.entries(built).map(([name, body]) => [name, body.toString('utf8')]))) : undefined;
}

/** dist/dashboard of the package this file belongs to (from source or from dist), or LOTSE_DASHBOARD_DIR. */
export function dashboardDir(): string {
  if (process.env.LOTSE_DASHBOARD_DIR) return process.env.LOTSE_DASHBOARD_DIR;
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) return join(__dirname, 'dashboard');
    dir = up;
  }
  return join(dir, 'dist', 'dashboard');
}
