import { asRoot, fileDigestLine, needsUpdate, parseDigests, sha256, stageFiles, syncFiles, type RootShell } from './file-sync';
import type { HostFacts } from './host-facts';
import type { HostFile } from './host-files';
import { NODE_LAYOUT } from '../cluster/node-layout';
import { fallbackUnit, type ServiceName } from './service-scripts';
import { SshError, tail } from './ssh-connection';

export type ServiceOutcome = 'unchanged' | 'started' | 'restarted' | 'skipped';

export interface ServiceHost extends RootShell {
  name: string;
  facts: HostFacts;
}

const unit = (s: ServiceName): string => `lotse-${s}.service`;

/**
 * Makes one service run with the given env file and inputs. Unchanged inputs and a running service
 * mean no change; otherwise the env file is written and the service (re)started. Under systemd
 * the Ignition unit is used when there is one (else a plain unit is installed); without systemd,
 * a supervisor process with a PID file under /run/lotse.
 */
export async function ensureService(host: ServiceHost, service: ServiceName, env: HostFile, inputsHash: string): Promise<ServiceOutcome> {
  const systemd = host.facts.init === 'systemd';
  if (!systemd && service === 'flannel' && !host.facts.flanneld) return 'skipped';
  if (!systemd && service === 'etcd' && !host.facts.etcd) {
    throw new SshError(`${host.name} has no etcd binary and no systemd to run the etcd unit: install etcd (apt-get install etcd-server) or set store: sqlite in the inventory`, host.name);
  }
  if (systemd && !(await hasUnit(host, service))) {
    if (service === 'flannel' && !host.facts.flanneld) return 'skipped';
    await syncFiles(host, [{ path: `/etc/systemd/system/${unit(service)}`, content: fallbackUnit(service), mode: 0o644 }], `${service} unit`);
    await host.conn.run(asRoot(host, `systemctl daemon-reload && systemctl enable ${unit(service)}`), `enabling ${unit(service)}`);
  }
  const wanted = sha256(`${inputsHash}\n${sha256(env.content)}`);
  const statePath = `${NODE_LAYOUT.stateDir}/${service}.sum`;
  // One round trip for what is there: the applied state, whether it runs, the env file's digest.
  const probe = await host.conn.run(
    asRoot(host, `echo "state=$(cat ${statePath} 2>/dev/null)"\nif ${runningCheck(host, service)}; then echo running=yes; fi\n${fileDigestLine(env.path)}`),
    `checking ${service}`,
  );
  const running = /^running=yes$/m.test(probe);
  if (running && probe.includes(`state=${wanted}\n`)) return 'unchanged';
  const install = needsUpdate(parseDigests(probe), env) ? await stageFiles(host, [env]) : [];
  // Install, (re)start and record in one go, so an interruption leaves no state claiming otherwise.
  await host.conn.run(
    asRoot(host, ['set -e', ...install, ...(running ? [stopScript(host, service)] : []), startScript(host, service), `mkdir -p ${NODE_LAYOUT.stateDir}`, `echo ${wanted} > ${statePath}`].join('\n')),
    `${running ? 'restarting' : 'starting'} ${service}`,
  );
  return running ? 'restarted' : 'started';
}

async function hasUnit(host: ServiceHost, service: ServiceName): Promise<boolean> {
  return (await host.conn.exec(asRoot(host, `systemctl cat ${unit(service)} >/dev/null 2>&1`))).code === 0;
}

function runningCheck(host: ServiceHost, service: ServiceName): string {
  return host.facts.init === 'systemd'
    ? `systemctl is-active --quiet ${unit(service)}`
    : `[ -f ${NODE_LAYOUT.pidFile(service)} ] && kill -0 "$(cat ${NODE_LAYOUT.pidFile(service)})" 2>/dev/null`;
}

function startScript(host: ServiceHost, service: ServiceName): string {
  return host.facts.init === 'systemd'
    ? `systemctl restart ${unit(service)}`
    : `mkdir -p ${NODE_LAYOUT.runDir} ${NODE_LAYOUT.logDir}\nsetsid ${NODE_LAYOUT.supervisor} ${service} >/dev/null 2>&1 </dev/null &`;
}

/** Stops a service and waits until its processes are gone (TERM, then KILL after 15 s). */
function stopScript(host: ServiceHost, service: ServiceName): string {
  const pid = NODE_LAYOUT.pidFile(service);
  return host.facts.init === 'systemd'
    ? `systemctl stop ${unit(service)} 2>/dev/null || true`
    : `if [ -f ${pid} ]; then
p=$(cat ${pid}); kill -TERM -"$p" 2>/dev/null || true
i=0; while kill -0 "$p" 2>/dev/null || kill -0 -"$p" 2>/dev/null; do i=$((i+1)); if [ $i -ge 150 ]; then kill -KILL -"$p" 2>/dev/null || true; break; fi; sleep 0.1; done
rm -f ${pid}
fi`;
}

export async function stopService(host: ServiceHost, service: ServiceName): Promise<void> {
  await stopServices(host, [service]);
}

/** Stops several services at once (each TERM, then KILL after 15 s) and waits for all of them. */
export async function stopServices(host: ServiceHost, services: ServiceName[]): Promise<void> {
  const script = services.map((s) => `(\n${stopScript(host, s)}\n) &`).join('\n') + '\nwait';
  await host.conn.run(asRoot(host, script), `stopping ${services.join(', ')}`);
}

/** The service's last log lines, for error messages. */
export async function serviceLogTail(host: ServiceHost, service: ServiceName, lines = 20): Promise<string> {
  const cmd = host.facts.init === 'systemd' ? `journalctl -u ${unit(service)} -n ${lines} --no-pager 2>&1` : `tail -n ${lines} ${NODE_LAYOUT.logFile(service)} 2>&1`;
  const r = await host.conn.exec(asRoot(host, cmd)).catch(() => ({ stdout: '', stderr: '', code: 1 }));
  return tail(r.stdout + r.stderr, lines);
}
