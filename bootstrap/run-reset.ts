import { dirname, join } from 'node:path';
import { clusterDir } from '../cluster/lotse-home';
import { asRoot } from './file-sync';
import { detectHost } from './host-facts';
import type { Inventory, InventoryHost } from './inventory';
import { runStep, StepError, type StepListener } from './host-steps';
import { NODE_LAYOUT } from '../cluster/node-layout';
import { stopServices, type ServiceHost } from './services';
import type { ServiceName } from './service-scripts';
import { SshConnection } from './ssh-connection';

export interface ResetOptions {
  onStep: StepListener;
  onNotice: (message: string) => void;
  connectTimeoutMs?: number;
}

const SERVICES: ServiceName[] = ['agent', 'flannel', 'master', 'etcd'];

/**
 * What `lotse reset` removes: everything the bootstrap put on a host and the state its services
 * made (etcd data, the master's store, agent state), but not Ignition's own runtime.env or units.
 */
function removeScript(systemd: boolean): string {
  const ours = SERVICES.map((s) => `/etc/systemd/system/lotse-${s}.service`).join(' ');
  return [
    'set -e',
    `rm -f ${NODE_LAYOUT.masterEnv} ${NODE_LAYOUT.agentEnv} ${NODE_LAYOUT.etcdEnv} ${NODE_LAYOUT.flannelEnv}`,
    `rm -rf ${NODE_LAYOUT.pkiDir} ${NODE_LAYOUT.subnetEnv} ${dirname(NODE_LAYOUT.flannelNetConf)}`,
    // The lotse directories may be mount points (test hosts): empty them, keep them.
    ...[NODE_LAYOUT.optDir, NODE_LAYOUT.dataDir, NODE_LAYOUT.runDir].map((d) => `[ -d ${d} ] && find ${d} -mindepth 1 -delete || true`),
    ...(systemd
      ? [
          `if systemctl cat lotse-etcd.service >/dev/null 2>&1 && [ -d ${NODE_LAYOUT.etcdDataDir} ]; then find ${NODE_LAYOUT.etcdDataDir} -mindepth 1 -delete; fi`,
          `for u in ${ours}; do if grep -q 'Written by lotse bootstrap' "$u" 2>/dev/null; then systemctl disable "$(basename "$u")" 2>/dev/null || true; rm -f "$u"; fi; done`,
          'systemctl daemon-reload',
        ]
      : []),
  ].join('\n');
}

/** Stops lotse's services on every host (agents first) and removes its files; hosts in parallel. */
export async function runReset(inv: Inventory, options: ResetOptions): Promise<void> {
  const dir = clusterDir(inv.name);
  const results = await Promise.allSettled(inv.hosts.map((h) => resetHost(h, inv, dir, options)));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
  if (failures.length > 0) throw new Error(failures.map((f) => f.message).join('\n'));
}

async function resetHost(host: InventoryHost, inv: Inventory, dir: string, options: ResetOptions): Promise<void> {
  let conn: SshConnection | undefined;
  try {
    await runStep(options.onStep, host.name, 'connect', async () => {
      conn = await SshConnection.connect(host, {
        connectTimeoutMs: options.connectTimeoutMs,
        knownHosts: inv.knownHosts,
        pinnedHosts: join(dir, 'known_hosts'),
        onPinned: (c, name) => options.onNotice(`pinned the host key of ${name} (${c.hostId}) on first use: ${c.keyType} ${c.fingerprint}`),
      });
      return { changed: false };
    });
    const c = conn as SshConnection;
    const facts = await detectHost(c);
    const target: ServiceHost = { conn: c, root: facts.root, name: host.name, facts };
    await runStep(options.onStep, host.name, 'stop services', async () => {
      await stopServices(target, SERVICES);
      return { changed: true };
    });
    await runStep(options.onStep, host.name, 'remove files', async () => {
      await c.run(asRoot(target, removeScript(facts.init === 'systemd')), 'removing lotse files');
      return { changed: true };
    });
  } catch (err) {
    throw err instanceof StepError ? err : new StepError(host.name, 'reset', (err as Error).message);
  } finally {
    conn?.close();
  }
}
