import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, killAndWait, waitHealthy } from './etcd';

const ETCD = process.env.LOTSE_ETCD_BIN ?? '/usr/bin/etcd';

export interface EtcdMember {
  name: string;
  /** `127.0.0.1:PORT` of its client URL. */
  hostPort: string;
  /** The pid of the etcd process itself (spawned directly, no shell). */
  pid(): number | undefined;
  /** SIGKILL, as a machine losing power. */
  kill9(): Promise<void>;
  /** Starts it again on its data dir: it rejoins the cluster. */
  start(): Promise<void>;
}

export interface EtcdCluster {
  members: EtcdMember[];
  /** `etcd://a,b,c` as lotse master's --store takes it. */
  storeSpec: string;
  /** The member that leads now, asked from any member that answers. */
  leader(): Promise<EtcdMember>;
  stop(): Promise<void>;
}

/** A real etcd cluster of `size` members on loopback, data on /dev/shm (fsync is free there, as in the one-member helper). */
export async function startEtcdCluster(size = 3): Promise<EtcdCluster> {
  if (!existsSync(ETCD)) throw new Error(`etcd is not installed at ${ETCD}: run \`apt-get install -y etcd-server\` (or set LOTSE_ETCD_BIN)`);
  const root = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'lotse-etcd-cluster-'));
  const ports = await freePorts(size * 2);
  const specs = Array.from({ length: size }, (_, i) => ({ name: `m${i}`, client: ports[2 * i], peer: ports[2 * i + 1] }));
  const initialCluster = specs.map((s) => `${s.name}=http://127.0.0.1:${s.peer}`).join(',');
  const members = specs.map((s): EtcdMember & { proc?: ChildProcess; stderr: string } => {
    const clientUrl = `http://127.0.0.1:${s.client}`;
    const member: EtcdMember & { proc?: ChildProcess; stderr: string } = {
      name: s.name,
      hostPort: `127.0.0.1:${s.client}`,
      stderr: '',
      pid: () => member.proc?.pid,
      kill9: () => killAndWait(member.proc, 'SIGKILL'),
      start: async () => {
        const proc = spawn(ETCD, [
          `--name=${s.name}`, `--data-dir=${join(root, s.name)}`,
          `--listen-client-urls=${clientUrl}`, `--advertise-client-urls=${clientUrl}`,
          `--listen-peer-urls=http://127.0.0.1:${s.peer}`, `--initial-advertise-peer-urls=http://127.0.0.1:${s.peer}`,
          `--initial-cluster=${initialCluster}`, '--initial-cluster-state=new', '--initial-cluster-token=lotse-test',
          '--logger=zap', '--log-level=error',
        ], { stdio: ['ignore', 'ignore', 'pipe'] });
        member.proc = proc;
        proc.stderr?.on('data', (c: Buffer) => (member.stderr = (member.stderr + c.toString()).slice(-4000)));
        await waitHealthy(proc, clientUrl, undefined, () => member.stderr);
      },
    };
    return member;
  });
  // Members wait for a quorum before they report healthy: start them together.
  await Promise.all(members.map((m) => m.start()));
  const stop = async (): Promise<void> => {
    await Promise.all(members.map((m) => killAndWait(m.proc)));
    rmSync(root, { recursive: true, force: true });
  };
  /** Each member's status once; the leader is the member whose id the others name as leader. */
  const leader = async (): Promise<EtcdMember> => {
    const statuses = await Promise.all(members.map((m) => fetch(`http://${m.hostPort}/v3/maintenance/status`, { method: 'POST', body: '{}' }).then((r) => r.json() as Promise<{ leader?: string; header?: { member_id?: string } }>).catch(() => undefined)));
    const leaderId = statuses.find((st) => st?.leader)?.leader;
    const index = statuses.findIndex((st) => leaderId !== undefined && st?.header?.member_id === leaderId);
    if (index < 0) throw new Error('no etcd member knows a leader');
    return members[index];
  };
  return { members, storeSpec: `etcd://${members.map((m) => m.hostPort).join(',')}`, leader, stop };
}
