import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../../kube/client';
import { core } from '../../kube/resource-path';
import { freePort, startMasterProcess, type MasterProcess } from '../support/master-process';

jest.setTimeout(60_000);

// The health check's periods, scaled down from client-go's 30 s / 15 s.
const health = { readIdleMs: 2_000, pingTimeoutMs: 1_000 };

let dataDir: string;
let master: MasterProcess;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'lotse-h2-health-'));
  master = await startMasterProcess(dataDir, await freePort(), ['--no-controllers']);
});

afterAll(async () => {
  if (master?.child.pid) process.kill(master.child.pid, 'SIGCONT');
  await master?.kill();
  rmSync(dataDir, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Stops the master's process (the node process itself, not a wrapper) for `ms`, as a loaded master stalls. */
async function stall(ms: number): Promise<void> {
  const pid = master.child.pid as number;
  process.kill(pid, 'SIGSTOP');
  try {
    await sleep(ms);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}

/** Requests every 200 ms until `until` settles, as an agent's heartbeats and status writes keep a session busy. */
async function busy(client: KubeClient, until: Promise<void>): Promise<void> {
  let done = false;
  void until.finally(() => (done = true));
  const calls: Promise<unknown>[] = [];
  while (!done) {
    calls.push(client.list(core('namespaces')));
    await sleep(200);
  }
  await Promise.all(calls);
}

test('a master that stalls for longer than the ping timeout keeps the session of a client it was answering', async () => {
  const client = new KubeClient({ server: master.url, ca: master.caPem, token: master.adminToken, http2: true, http2Health: health });
  try {
    await client.list(core('namespaces'));
    // Stalled 1.8 s: longer than the ping timeout. Pinging on a fixed period regardless of traffic,
    // a ping sent into the stall would drop the session (and every request on it would fail).
    await busy(client, stall(1_800));
    expect(client.http2Sessions).toEqual({ sessions: 1, resumed: 0 });
  } finally {
    client.close();
  }
});

test('a session that stays silent is pinged, and given up when the master does not answer', async () => {
  const client = new KubeClient({ server: master.url, ca: master.caPem, token: master.adminToken, http2: true, http2Health: health });
  try {
    await client.list(core('namespaces'));
    // Idle: pinged every ~2 s and answered, so the session stays.
    await sleep(5_000);
    expect(client.http2Sessions).toEqual({ sessions: 1, resumed: 0 });
    // Silent past read-idle + ping timeout (at most 2.7 s + 1 s): the session is dropped, and the
    // next request opens a new one (which resumes the TLS session: the master is the same).
    await stall(5_000);
    await client.list(core('namespaces'));
    expect(client.http2Sessions).toEqual({ sessions: 2, resumed: 1 });
  } finally {
    client.close();
  }
});
