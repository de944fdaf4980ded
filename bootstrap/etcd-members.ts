import type { ClusterPki } from './cluster-pki';
import { NODE_LAYOUT } from '../cluster/node-layout';
import type { SshConnection } from './ssh-connection';
import { tunnelRequest } from './tunnel-http';

/** One entry of etcd's member list; a member added but never started has no name and no client URLs yet. */
export interface EtcdMember {
  /** The uint64 id as etcd's JSON gateway writes it: a decimal string. */
  id: string;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
}

interface GatewayMember {
  ID?: string;
  name?: string;
  peerURLs?: string[];
  clientURLs?: string[];
}

/**
 * etcd's membership API on one master, through its SSH connection. It uses etcd's JSON gateway
 * (the gRPC API as POST /v3/...) on the master's loopback with the etcd client certificate: it
 * needs nothing on the host (Ignition hosts run etcd in a container, with no etcdctl beside it)
 * and no port but SSH, as every other call of the bootstrap.
 */
export class EtcdMembers {
  constructor(
    private readonly conn: SshConnection,
    private readonly pki: ClusterPki,
  ) {}

  /** Answered by any running member from its own view, even while the cluster has no quorum. */
  async list(): Promise<EtcdMember[]> {
    const r = await this.call<{ members?: GatewayMember[] }>('list', {});
    return (r.members ?? []).map(member);
  }

  /** Registers a member that has yet to start; etcd refuses it when too few members have started. */
  async add(peerUrl: string): Promise<{ added: EtcdMember; members: EtcdMember[] }> {
    const r = await this.call<{ member?: GatewayMember; members?: GatewayMember[] }>('add', { peerURLs: [peerUrl] });
    if (!r.member?.ID) throw new Error(`etcd accepted adding ${peerUrl} but named no member id`);
    return { added: member(r.member), members: (r.members ?? []).map(member) };
  }

  async remove(id: string): Promise<void> {
    await this.call('remove', { ID: id });
  }

  private async call<T>(op: 'list' | 'add' | 'remove', body: object): Promise<T> {
    const r = await tunnelRequest(this.conn, {
      port: NODE_LAYOUT.etcdClientPort,
      method: 'POST',
      path: `/v3/cluster/member/${op}`,
      body: JSON.stringify(body),
      ca: this.pki.etcdCa.certPem,
      cert: this.pki.etcdClient.certPem,
      key: this.pki.etcdClient.keyPem,
    });
    const parsed = JSON.parse(r.body || '{}') as T & { error?: string; message?: string };
    if (r.status !== 200 || parsed.error) throw new Error(`etcd member ${op} on ${this.conn.host.name} answered ${r.status}: ${parsed.message ?? parsed.error ?? r.body.slice(0, 200)}`);
    return parsed;
  }
}

function member(m: GatewayMember): EtcdMember {
  return { id: m.ID ?? '', name: m.name ?? '', peerUrls: m.peerURLs ?? [], clientUrls: m.clientURLs ?? [] };
}

/** Whether the member ever started: etcd learns its name and client URLs from its first start. */
export function started(m: EtcdMember): boolean {
  return m.name !== '' || m.clientUrls.length > 0;
}

/** The id as etcdctl prints and takes it (hex). */
export function hexId(id: string): string {
  return BigInt(id).toString(16);
}

/** What to run on a master to remove a member by hand (etcdctl with the client certificate lotse installs there). */
export function removeCommand(m: EtcdMember): string {
  const pki = NODE_LAYOUT.pkiDir;
  return `ETCDCTL_API=3 etcdctl --endpoints https://127.0.0.1:${NODE_LAYOUT.etcdClientPort} --cacert ${NODE_LAYOUT.etcdCa} --cert ${pki}/etcd-client.crt --key ${pki}/etcd-client.key member remove ${hexId(m.id)}`;
}
