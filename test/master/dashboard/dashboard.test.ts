import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { Readable } from 'node:stream';
import { startAgent, type RunningAgent } from '../../../agent/agent';
import { hollowFacts } from '../../../agent/node/node-status';
import { FakeRuntime } from '../../../agent/hollow/fake-runtime';
import { masterControllers } from '../../../master/controllers/master-controllers';
import { kubectlOk } from '../../support/kubectl';
import { startTestMaster, type TestMaster } from '../../support/master';

jest.setTimeout(60_000);

const repo = join(__dirname, '..', '..', '..');
const artifacts = join(repo, 'test-artifacts', 'dashboard');
const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];
const podRows = (deployment: string): string => `[data-testid=pods] tbody tr[data-key^="default/${deployment}-"]`;

let built: string;
let agentDir: string;
let master: TestMaster;
let agent: RunningAgent | undefined;
let browser: Browser | undefined;
let context: BrowserContext;
let page: Page;
/** Uncaught exceptions and CSP refusals the page reported; the last test wants none. */
const pageProblems: string[] = [];

beforeAll(async () => {
  built = mkdtempSync(join(tmpdir(), 'lotse-dashboard-'));
  agentDir = mkdtempSync(join(tmpdir(), 'lotse-dashboard-agent-'));
  mkdirSync(artifacts, { recursive: true });
  // The real build script, into a temp dir the server is pointed at, so the test needs no prior npm run build.
  execFileSync(process.execPath, [join(repo, 'scripts', 'build-dashboard.mjs'), '--out', built], { stdio: 'pipe' });
  process.env.LOTSE_DASHBOARD_DIR = built;
  master = await startTestMaster({ controllers: masterControllers() });
  // A real agent (join, kubelet server with its client-certificate check) on the fake runtime,
  // whose containers print a numbered line every 100 ms: logs stream through the master for real.
  agent = await startAgent({ server: master.url, caPem: master.caPem, token: master.joinToken, nodeName: 'node-0', dataDir: agentDir, runtime: new TalkingRuntime('node-0'), addresses: ['127.0.0.1'], kubeletPort: 0, facts: hollowFacts(), plegPeriodMs: 500 });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: chromiumArgs });
  context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  page.on('pageerror', (err) => pageProblems.push(`uncaught: ${err.message}`));
  page.on('console', (m) => {
    if (/Refused to|Content Security Policy/i.test(m.text())) pageProblems.push(`console: ${m.text()}`);
  });
  const container = { name: 'web', image: 'registry.example/web:1', ports: [{ containerPort: 8080 }], resources: { requests: { cpu: '250m', memory: '64Mi' } } };
  const web = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' }, spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [container] } } } };
  await kubectlOk(master.kubeconfigPath, ['create', '-f', '-'], JSON.stringify(web));
});

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await agent?.stop().catch(() => undefined);
  await master?.stop();
  rmSync(built, { recursive: true, force: true });
  rmSync(agentDir, { recursive: true, force: true });
});

test('the static files load without a token, with their content types, a CSP without inline code and cache headers', async () => {
  const index = await get('/dashboard/');
  expect(index.status).toBe(200);
  expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(index.headers['cache-control']).toBe('no-cache');
  const csp = String(index.headers['content-security-policy']);
  expect(csp).toContain("script-src 'self'");
  expect(csp).not.toContain('unsafe-inline');
  expect(index.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  const script = /src="(app\.js\?v=[0-9a-f]+)"/.exec(index.body)?.[1];
  expect(script).toBeDefined();
  const js = await get(`/dashboard/${script}`);
  expect(js.status).toBe(200);
  expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
  expect(js.headers['cache-control']).toContain('immutable');
  expect((await get('/dashboard/app.css')).headers['content-type']).toBe('text/css; charset=utf-8');
  expect((await get('/dashboard/app.js', { 'if-none-match': String(js.headers.etag) })).status).toBe(304);
  expect((await get('/dashboard/nothing.js')).status).toBe(404);
  expect((await get('/dashboard')).headers.location).toBe('/dashboard/');
  // The API itself still wants a token.
  expect((await get('/api/v1/pods')).status).toBe(401);
});

test('a wrong token is refused with the API 401 message and not kept', async () => {
  await open(page, `${url()}/dashboard/`);
  await page.fill('#token', 'not-a-token');
  await page.click('button[type=submit]');
  const alert = page.locator('[role=alert]');
  await alert.waitFor();
  expect(await alert.textContent()).toMatch(/refused this token \(401 Unauthorized/);
  expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  await page.screenshot({ path: join(artifacts, 'sign-in-refused.png') });
});

test('signing in shows the workloads; the token survives a reload of the tab', async () => {
  await page.fill('#token', master.adminToken);
  await page.click('button[type=submit]');
  await page.locator('[data-testid=deployments] tbody tr[data-key="default/web"]').waitFor();
  await open(page);
  await page.locator('[data-testid=deployments] tbody tr[data-key="default/web"]').waitFor();
  await waitForRows(podRows('web'), 1);
});

test('the pod list follows kubectl scale by itself, without a reload', async () => {
  await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
  await kubectlOk(master.kubeconfigPath, ['scale', 'deployment', 'web', '--replicas=3']);
  await waitForRows(podRows('web'), 3);
  await page.waitForFunction(() => document.querySelector('[data-key="default/web"] [data-testid=ready]')?.textContent === '3/3', undefined, { timeout: 20_000 });
  expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  await dismissNotices();
  await page.screenshot({ path: join(artifacts, 'workloads.png'), fullPage: true });
});

test('scaling from the page changes the deployment kubectl sees', async () => {
  const row = page.locator('[data-testid=deployments] tbody tr[data-key="default/web"]');
  await row.locator('input[aria-label="replicas of web"]').fill('2');
  await row.locator('button', { hasText: 'Scale' }).click();
  await page.locator('.notice', { hasText: 'Scaled default/web to 2' }).waitFor();
  expect(await kubectlOk(master.kubeconfigPath, ['get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}'])).toBe('2');
  await waitForRows(podRows('web'), 2);
});

test('restart a rollout and delete a pod from the page', async () => {
  const row = page.locator('[data-testid=deployments] tbody tr[data-key="default/web"]');
  await row.locator('button', { hasText: 'Restart' }).click();
  await page.locator('.notice', { hasText: 'Restarting default/web' }).waitFor();
  const restartedAt = await kubectlOk(master.kubeconfigPath, ['get', 'deployment', 'web', '-o', 'jsonpath={.spec.template.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}']);
  expect(Date.parse(restartedAt)).toBeGreaterThan(Date.now() - 60_000);
  // Let the restart settle at two new pods, then delete one of them.
  await page.waitForFunction(() => document.querySelector('[data-key="default/web"] .badge')?.textContent === 'Complete', undefined, { timeout: 30_000 });
  await waitForRows(podRows('web'), 2);
  const victim = await page.locator(podRows('web')).first().getAttribute('data-key');
  const pod = page.locator(`[data-testid=pods] tr[data-key="${victim}"]`);
  await pod.locator('button', { hasText: 'Delete' }).click();
  await pod.locator('button', { hasText: 'Confirm delete' }).click();
  await page.waitForFunction((key) => !document.querySelector(`[data-testid=pods] tr[data-key="${key}"]`), victim, { timeout: 20_000 });
  const names = await kubectlOk(master.kubeconfigPath, ['get', 'pods', '-o', 'name']);
  expect(names).not.toContain(`pod/${String(victim).split('/')[1]}\n`);
});

test('a pod log streams into the page through the master and the agent', async () => {
  await page.locator(podRows('web')).first().locator('button', { hasText: 'Logs' }).click();
  await page.locator('[data-testid=log-state]', { hasText: 'streaming' }).waitFor();
  // Lines keep arriving while the panel is open: the count grows past what one response could hold back.
  await page.waitForFunction(() => (document.querySelector('[data-testid=log-text]')?.textContent ?? '').split('\n').length >= 5, undefined, { timeout: 10_000 });
  const first = await page.locator('[data-testid=log-text]').textContent();
  expect(first).toMatch(/^web says 0\nweb says 1\n/);
  const before = (first ?? '').split('\n').length;
  await page.waitForFunction((n) => (document.querySelector('[data-testid=log-text]')?.textContent ?? '').split('\n').length > n + 2, before, { timeout: 10_000 });
  await dismissNotices();
  await page.screenshot({ path: join(artifacts, 'logs.png') });
  await page.locator('.logs button', { hasText: 'Close' }).click();
});

test('logs that cannot be read show the API error in the panel', async () => {
  await kubectlOk(master.kubeconfigPath, ['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ghost', namespace: 'default' }, spec: { nodeName: 'ghost-node', containers: [{ name: 'c', image: 'registry.example/ghost:1' }] } }));
  const row = page.locator('[data-testid=pods] tr[data-key="default/ghost"]');
  await row.locator('button', { hasText: 'Logs' }).click();
  const error = page.locator('[data-testid=log-error]');
  await error.waitFor();
  expect(await error.textContent()).toMatch(/The logs could not be read: \d{3} \w+: .*ghost-node/);
  await page.screenshot({ path: join(artifacts, 'logs-error.png') });
  await page.locator('.logs button', { hasText: 'Close' }).click();
  await kubectlOk(master.kubeconfigPath, ['delete', 'pod', 'ghost', '--grace-period=0', '--force']);
  await row.waitFor({ state: 'detached' });
});

test('services show cluster IP, ports, endpoints and NodePort links to the node', async () => {
  await kubectlOk(master.kubeconfigPath, ['expose', 'deployment', 'web', '--type=NodePort', '--port=80', '--target-port=8080']);
  const nodePort = await kubectlOk(master.kubeconfigPath, ['get', 'service', 'web', '-o', 'jsonpath={.spec.ports[0].nodePort}']);
  await open(page, `${url()}/dashboard/#services`);
  const link = page.locator('[data-testid=services] tr[data-key="default/web"] a.nodeport');
  await link.waitFor();
  expect(await link.getAttribute('href')).toBe(`http://127.0.0.1:${nodePort}`);
  await page.waitForFunction(() => /:8080/.test(document.querySelector('[data-testid=services] tr[data-key="default/web"] td[data-label=Endpoints]')?.textContent ?? ''), undefined, { timeout: 20_000 });
  await dismissNotices();
  await page.screenshot({ path: join(artifacts, 'services.png'), fullPage: true });
});

test('nodes show conditions, capacity and requested resources; events are listed', async () => {
  await open(page, `${url()}/dashboard/#nodes`);
  const node = page.locator('[data-testid=nodes] tr[data-key="node-0"]');
  await node.locator('.badge', { hasText: 'Ready' }).waitFor();
  expect(await node.locator('td[data-label="Pods"]').textContent()).toMatch(/^2 \/ \d+$/);
  // Two pods of 250m and 64Mi each on a node with 4 CPUs and 16 GiB.
  expect(await node.locator('td[data-label="CPU requested"]').textContent()).toBe('500m of 4 (13%)');
  expect(await node.locator('td[data-label="Memory requested"]').textContent()).toBe('128 MiB of 16 GiB (1%)');
  await dismissNotices();
  await page.screenshot({ path: join(artifacts, 'nodes.png'), fullPage: true });
  await open(page, `${url()}/dashboard/#events`);
  await page.locator('[data-testid=events] tbody tr', { hasText: 'ScalingReplicaSet' }).first().waitFor();
  await page.screenshot({ path: join(artifacts, 'events.png'), fullPage: true });
});

test('the namespace picker narrows the lists', async () => {
  await open(page, `${url()}/dashboard/#workloads`);
  await waitForRows(podRows('web'), 2);
  await page.selectOption('select[aria-label=namespace]', 'kube-system');
  await waitForRows('[data-testid=pods] tbody tr', 0);
  expect(await page.locator('.empty', { hasText: 'No pods.' }).isVisible()).toBe(true);
  await page.selectOption('select[aria-label=namespace]', '');
  await waitForRows(podRows('web'), 2);
});

test('a dark colour scheme gets the dark palette', async () => {
  const dark = await browser!.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 }, colorScheme: 'dark' });
  try {
    await dark.addInitScript((token) => sessionStorage.setItem('lotse.dashboard.token', token), master.adminToken);
    const p = await dark.newPage();
    await open(p, `${url()}/dashboard/#workloads`);
    await p.locator(podRows('web')).first().waitFor();
    expect(await p.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)).toBe('rgb(16, 20, 27)');
    await p.screenshot({ path: join(artifacts, 'workloads-dark.png') });
  } finally {
    await dark.close();
  }
});

test('on a phone-sized screen the tables become cards that fit the width', async () => {
  const phone = await browser!.newContext({ ignoreHTTPSErrors: true, viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  try {
    await phone.addInitScript((token) => sessionStorage.setItem('lotse.dashboard.token', token), master.adminToken);
    const p = await phone.newPage();
    await open(p, `${url()}/dashboard/#workloads`);
    await p.locator(podRows('web')).first().waitFor();
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await p.locator('[data-testid=pods] thead').isVisible()).toBe(false);
    await p.screenshot({ path: join(artifacts, 'workloads-phone.png') });
  } finally {
    await phone.close();
  }
});

test('the page threw nothing and the CSP refused nothing', () => {
  expect(pageProblems).toEqual([]);
});

/**
 * page.goto (or reload without a target), again when Chromium reports ERR_NETWORK_CHANGED: other suites on this machine create
 * and remove network namespaces and container networks, and Chromium drops a navigation in flight
 * when the host's addresses change.
 */
async function open(p: Page, target?: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await (target ? p.goto(target) : p.reload());
      return;
    } catch (err) {
      // The change shows either as the error itself or as Chromium's error page taking over the navigation.
      if (attempt >= 5 || !/ERR_NETWORK_CHANGED|interrupted by another navigation to "chrome-error:/.test((err as Error).message)) throw err;
    }
  }
}

async function dismissNotices(): Promise<void> {
  while ((await page.locator('.notice').count()) > 0) await page.locator('.notice').first().click();
}

/** The fake runtime, except that a container's log is a line every 100 ms for as long as one follows it. */
class TalkingRuntime extends FakeRuntime {
  override async logs(): Promise<Readable> {
    let n = 0;
    let timer: NodeJS.Timeout | undefined;
    return new Readable({
      read() {
        if (!timer) timer = setInterval(() => this.push(`web says ${n++}\n`), 100);
      },
      destroy(err, done) {
        clearInterval(timer);
        done(err);
      },
    });
  }
}

function url(): string {
  return master.url;
}

async function waitForRows(selector: string, count: number): Promise<void> {
  await page.waitForFunction(([sel, n]) => document.querySelectorAll(sel as string).length === n, [selector, count] as const, { timeout: 20_000 }).catch(async (err: Error) => {
    const seen = await page.locator(selector).count();
    throw new Error(`expected ${count} rows matching ${selector}, the page shows ${seen}: ${err.message}`);
  });
}

function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(`${url()}${path}`, { ca: master.caPem, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}
