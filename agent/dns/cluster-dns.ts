import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket, { type Answer, type DecodedPacket, type RecordType } from 'dns-packet';
import type { Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import type { KubeClient } from '../../kube/client';
import { Informer } from '../../kube/informer';
import { core } from '../../kube/resource-path';
import { lookupClusterName, RECORD_TTL, SERVICE_NAME_LABEL } from './cluster-records';
import { readUpstreams, type Upstream } from './resolv-conf';
import { forwardQuery, frame } from './upstream-forwarder';

export interface ClusterDnsOptions {
  client: KubeClient;
  /** The agent's Service informer, shared with its other readers: started here if need be, never stopped here. */
  services?: Informer<Service>;
  /** Address pods can reach: the bridge gateway (10.88.0.1 on podman's default network). */
  address: string;
  /** Default 53; tests use a free port. */
  port?: number;
  /** Cluster domain (default cluster.local). */
  domain?: string;
  /** Resolvers for other names (default: the nameservers of /etc/resolv.conf). */
  upstreams?: Upstream[];
  /** Per-upstream wait before trying the next one (default 2 s). */
  upstreamTimeoutMs?: number;
  /**
   * When the address is not (yet) on this node, retry every this many ms in the background
   * instead of failing (podman creates its bridge, and so the gateway address, with the first
   * container). Unset: fail at once.
   */
  waitForAddressMs?: number;
  log?: (msg: string) => void;
}

export interface RunningClusterDns {
  address: string;
  port: number;
  /** Resolves once the sockets are bound (at once unless waitForAddressMs made it wait). */
  ready: Promise<void>;
  stop(): Promise<void>;
}

const NOERROR = 0;
const SERVFAIL = 2;
const NXDOMAIN = 3;
const REFUSED = 5;

/**
 * The cluster's DNS server on UDP and TCP: cluster names from informers on Services and
 * EndpointSlices, everything else relayed to the node's resolvers.
 */
export async function startClusterDns(options: ClusterDnsOptions): Promise<RunningClusterDns> {
  const log = options.log ?? (() => undefined);
  const domain = (options.domain ?? 'cluster.local').replace(/\.$/, '');
  const upstreams = (options.upstreams ?? readUpstreams()).filter((u) => !(u.address === options.address && u.port === (options.port ?? 53)));
  const timeoutMs = options.upstreamTimeoutMs ?? 2000;
  const services = options.services ?? new Informer<Service>(options.client, core('services'), { onError: (e) => log(`dns: services watch: ${e.message}`) });
  const slices = new Informer<EndpointSlice>(options.client, { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' }, {
    onError: (e) => log(`dns: endpointslices watch: ${e.message}`),
  });
  await Promise.all([services.start(), slices.start()]);

  const answer = async (query: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> => {
    let packet: DecodedPacket;
    try {
      packet = dnsPacket.decode(query) as DecodedPacket;
    } catch {
      return undefined; // not DNS: drop, as any server would
    }
    const question = packet.questions?.[0];
    if (!question || packet.type !== 'query') return respond(packet, REFUSED);
    const result = lookupClusterName(question.name, question.type, domain, (ns, name) => services.get(`${ns}/${name}`), (ns, name) =>
      slices.list().filter((s) => s.metadata?.namespace === ns && s.metadata?.labels?.[SERVICE_NAME_LABEL] === name),
    );
    switch (result.kind) {
      case 'answer':
        return respond(packet, NOERROR, result.answers);
      case 'nodata':
        return respond(packet, NOERROR, [], [soa(domain)]);
      case 'nxdomain':
        return respond(packet, NXDOMAIN, [], [soa(domain)]);
      case 'forward': {
        const reply = await forwardQuery(query, upstreams, transport, timeoutMs);
        return reply ?? respond(packet, SERVFAIL);
      }
    }
  };

  const open = async (): Promise<{ udp: dgram.Socket; tcp: net.Server; port: number }> => {
    const udp = dgram.createSocket('udp4');
    udp.on('message', (msg, rinfo) => {
      void answer(msg, 'udp').then((reply) => reply && udp.send(reply, rinfo.port, rinfo.address));
    });
    const tcp = net.createServer((socket) => serveTcp(socket, (q) => answer(q, 'tcp')));
    try {
      const port = await bindBoth(udp, tcp, options.address, options.port ?? 53);
      udp.on('error', (err) => log(`dns: udp socket: ${err.message}`));
      return { udp, tcp, port };
    } catch (err) {
      udp.close();
      tcp.close();
      throw err;
    }
  };
  let stopped = false;
  let sockets: { udp: dgram.Socket; tcp: net.Server; port: number } | undefined;
  const announce = (port: number): void =>
    log(`dns: serving ${domain} on ${options.address}:${port} (udp+tcp), forwarding to ${upstreams.map((u) => `${u.address}:${u.port}`).join(', ') || 'nobody'}`);
  let ready: Promise<void>;
  if (options.waitForAddressMs) {
    // The bridge gateway appears only when the first container joins the bridge; keep trying.
    ready = (async () => {
      for (;;) {
        try {
          sockets = await open();
          announce(sockets.port);
          if (stopped) await closeSockets(sockets);
          return;
        } catch (err) {
          if (stopped || !/EADDRNOTAVAIL/.test((err as Error).message)) throw err;
          await new Promise((r) => setTimeout(r, options.waitForAddressMs));
        }
      }
    })();
    ready.catch((err: Error) => log(`dns: ${err.message}`));
  } else {
    sockets = await open();
    announce(sockets.port);
    ready = Promise.resolve();
  }

  return {
    address: options.address,
    port: sockets?.port ?? options.port ?? 53,
    ready,
    stop: async () => {
      stopped = true;
      if (!options.services) services.stop();
      slices.stop();
      if (sockets) await closeSockets(sockets);
    },
  };
}

async function closeSockets(s: { udp: dgram.Socket; tcp: net.Server }): Promise<void> {
  await new Promise<void>((r) => s.udp.close(() => r()));
  await new Promise<void>((r) => s.tcp.close(() => r()));
}

function respond(query: DecodedPacket, rcode: number, answers: Answer[] = [], authorities: Answer[] = []): Buffer {
  // Echo the RD bit, claim authority for our zone, offer recursion (we forward).
  const flags = (query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0) | dnsPacket.RECURSION_AVAILABLE | dnsPacket.AUTHORITATIVE_ANSWER | rcode;
  return dnsPacket.encode({ type: 'response', id: query.id, flags, questions: query.questions, answers, authorities });
}

function soa(domain: string): Answer {
  return {
    type: 'SOA',
    name: domain,
    ttl: RECORD_TTL,
    data: { mname: `ns.dns.${domain}`, rname: `hostmaster.${domain}`, serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: RECORD_TTL },
  };
}

function serveTcp(socket: net.Socket, handle: (query: Buffer) => Promise<Buffer | undefined>): void {
  let buf = Buffer.alloc(0);
  socket.on('error', () => socket.destroy());
  socket.setTimeout(10_000, () => socket.destroy());
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
      buf = buf.subarray(2 + msg.length);
      void handle(msg).then((reply) => reply && !socket.destroyed && socket.write(frame(reply)));
    }
  });
}

/** UDP and TCP on the same port; with port 0 the TCP port is picked first and UDP follows it. */
async function bindBoth(udp: dgram.Socket, tcp: net.Server, address: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', (err) => reject(new Error(`cluster DNS cannot listen on tcp ${address}:${port}: ${err.message}; pick another --dns-address or free the port`)));
    tcp.listen({ host: address, port }, () => resolve());
  });
  const actual = (tcp.address() as net.AddressInfo).port;
  await new Promise<void>((resolve, reject) => {
    udp.once('error', (err) => reject(new Error(`cluster DNS cannot listen on udp ${address}:${actual}: ${err.message}`)));
    udp.bind({ address, port: actual }, () => resolve());
  });
  return actual;
}

export type { RecordType };
