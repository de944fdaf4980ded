import dgram from 'node:dgram';
import net from 'node:net';
import { BackendPicker, key } from './backend-picker';
import type { Proxier } from './proxier';
import type { L4Protocol, ServicePortEntry } from './service-table';

export interface UserspaceOptions {
  /** Addresses NodePorts listen on (every node address). */
  nodeAddresses: string[];
  log?: (msg: string) => void;
  /** Idle time after which a UDP client's flow to its backend is forgotten (default 60 s). */
  udpIdleMs?: number;
}

interface Listener {
  picker: BackendPicker;
  close(): Promise<void>;
}

/**
 * The fallback data path where the kernel cannot be programmed: a TCP or UDP listener per
 * ClusterIP:port (when that address is on this node) and per node address:NodePort, relaying
 * each connection to a backend. A service port without ready backends has no listener, so
 * clients are refused at once instead of hanging.
 */
export class UserspaceProxier implements Proxier {
  readonly mode = 'userspace' as const;
  private readonly listeners = new Map<string, Listener>();
  private readonly unbindable = new Set<string>();

  constructor(private readonly options: UserspaceOptions) {}

  async sync(entries: ServicePortEntry[]): Promise<void> {
    const wanted = new Map<string, ServicePortEntry>();
    for (const e of entries) {
      if (e.backends.length === 0) continue;
      if (e.clusterIP) wanted.set(listenKey(e.protocol, e.clusterIP, e.port), e);
      if (e.nodePort) for (const addr of this.options.nodeAddresses) wanted.set(listenKey(e.protocol, addr, e.nodePort), e);
    }
    for (const [k, l] of [...this.listeners]) {
      if (wanted.has(k)) continue;
      this.listeners.delete(k);
      await l.close();
    }
    for (const [k, e] of wanted) {
      let l = this.listeners.get(k);
      if (!l && !this.unbindable.has(k)) {
        l = await this.open(k, e.protocol).catch((err: NodeJS.ErrnoException) => {
          // A ClusterIP is only bindable when some interface carries it; say so once, keep going.
          this.unbindable.add(k);
          this.options.log?.(`userspace proxy: cannot listen on ${k} for ${e.id}: ${err.code ?? err.message}`);
          return undefined;
        });
        if (l) this.listeners.set(k, l);
      }
      if (l) {
        l.picker.backends = e.backends;
        l.picker.affinitySeconds = e.affinitySeconds;
      }
    }
  }

  async stop(): Promise<void> {
    const all = [...this.listeners.values()];
    this.listeners.clear();
    await Promise.all(all.map((l) => l.close()));
  }

  /** Keys (PROTO/ADDR:PORT) currently listened on; for tests and status output. */
  listening(): string[] {
    return [...this.listeners.keys()].sort();
  }

  private open(k: string, protocol: L4Protocol): Promise<Listener> {
    const [, addr, port] = /^\w+\/(.+):(\d+)$/.exec(k) ?? [];
    return protocol === 'TCP' ? openTcp(addr, Number(port)) : openUdp(addr, Number(port), this.options.udpIdleMs ?? 60_000);
  }
}

function listenKey(protocol: L4Protocol, addr: string, port: number): string {
  return `${protocol}/${addr}:${port}`;
}

function openTcp(host: string, port: number): Promise<Listener> {
  const picker = new BackendPicker();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    client.pause();
    relayTcp(client, picker, new Set(), sockets);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve({
        picker,
        close: () =>
          new Promise((done) => {
            // Closing the listener refuses new connections; flows already relayed keep going,
            // as conntrack keeps them in kernel mode.
            server.close(() => done());
            setImmediate(done);
          }),
      });
    });
  });
}

/** Connects to a backend; if it refuses, tries the next one before giving up on the client. */
function relayTcp(client: net.Socket, picker: BackendPicker, tried: Set<string>, sockets: Set<net.Socket>): void {
  const backend = picker.pick(client.remoteAddress ?? '', tried);
  if (!backend) {
    client.resetAndDestroy();
    return;
  }
  const upstream = net.connect({ host: backend.ip, port: backend.port });
  sockets.add(upstream);
  upstream.on('close', () => sockets.delete(upstream));
  upstream.once('connect', () => {
    upstream.setNoDelay(true);
    client.setNoDelay(true);
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  upstream.once('error', () => {
    if (upstream.connecting || !upstream.readable) {
      tried.add(key(backend));
      if (!client.destroyed) relayTcp(client, picker, tried, sockets);
    }
  });
}

interface UdpFlow {
  upstream: dgram.Socket;
  timer: NodeJS.Timeout;
  pending?: Buffer[];
}

function openUdp(host: string, port: number, idleMs: number): Promise<Listener> {
  const picker = new BackendPicker();
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: false });
  const flows = new Map<string, UdpFlow>();
  const closeFlow = (client: string): void => {
    const flow = flows.get(client);
    if (!flow) return;
    flows.delete(client);
    clearTimeout(flow.timer);
    flow.upstream.close();
  };
  const touch = (client: string, flow: UdpFlow): void => {
    clearTimeout(flow.timer);
    flow.timer = setTimeout(() => closeFlow(client), idleMs);
  };
  socket.on('message', (msg, rinfo) => {
    const client = `${rinfo.address}:${rinfo.port}`;
    let flow = flows.get(client);
    if (!flow) {
      const backend = picker.pick(rinfo.address);
      if (!backend) return;
      const upstream = dgram.createSocket('udp4');
      const created: UdpFlow = { upstream, timer: setTimeout(() => closeFlow(client), idleMs), pending: [] };
      upstream.on('message', (reply) => {
        socket.send(reply, rinfo.port, rinfo.address);
        touch(client, created);
      });
      upstream.on('error', () => closeFlow(client));
      // Datagrams that arrive while the socket connects are queued, then sent in order.
      upstream.connect(backend.port, backend.ip, () => {
        created.pending?.forEach((m) => upstream.send(m));
        created.pending = undefined;
      });
      flows.set(client, (flow = created));
    }
    touch(client, flow);
    if (flow.pending) flow.pending.push(msg);
    else flow.upstream.send(msg);
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: host, port }, () => {
      socket.off('error', reject);
      resolve({
        picker,
        close: async () => {
          for (const client of [...flows.keys()]) closeFlow(client);
          await new Promise<void>((done) => socket.close(() => done()));
        },
      });
    });
  });
}
