import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serveDashboard } from '../../../master/dashboard/serve-dashboard';
import type { RunningMaster } from '../../../master/server';

type Master = Pick<RunningMaster, 'url' | 'caPem' | 'dataDir'>;

export interface DashboardOrigin {
  /** https://127.0.0.1:PORT, serving /dashboard/ and the API on one origin. */
  url: string;
  /** True when the master itself routes /dashboard/ (no stand-in server). */
  servedByMaster: boolean;
  close(): Promise<void>;
}

/**
 * The origin the browser loads the dashboard from. Once master/server.ts routes /dashboard/ to
 * serveDashboard this is the master itself; until then a stand-in on loopback serves the
 * dashboard with the same function and passes everything else to the master, so the page still
 * talks to the API same-origin, as it will in production.
 */
export async function dashboardOrigin(master: Master): Promise<DashboardOrigin> {
  if (await masterServesDashboard(master)) return { url: master.url, servedByMaster: true, close: async () => undefined };
  const cert = readFileSync(join(master.dataDir, 'apiserver.crt'));
  const key = readFileSync(join(master.dataDir, 'apiserver.key'));
  const upstream = new URL(master.url);
  const agent = new https.Agent({ ca: master.caPem, keepAlive: true });
  const server = https.createServer({ cert, key }, (req, res) => {
    if (serveDashboard(req, res)) return;
    const forward = https.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`stand-in proxy: ${err.message}`);
    });
    res.on('close', () => forward.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    servedByMaster: false,
    close: async () => {
      server.closeAllConnections();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function masterServesDashboard(master: Master): Promise<boolean> {
  return new Promise((resolve) => {
    https
      .get(`${master.url}/dashboard/`, { ca: master.caPem }, (res) => {
        res.resume();
        resolve(res.statusCode === 200 && String(res.headers['content-type']).startsWith('text/html'));
      })
      .on('error', () => resolve(false));
  });
}
