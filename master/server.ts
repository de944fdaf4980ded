import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIPv4, type AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { serverTlsPolicy } from '../kube/tls-policy';
import { ServiceAccountTokens } from './auth/service-account-token';
import { loadOrCreateState, writeClientFiles } from './data-dir';
import { createApiHttpServer } from './api-http-server';
import { listenAlso } from './extra-listener';
import { apiServerServiceIp, ServiceAllocator } from './api/service-allocator';
import { MasterEndpoints } from './api/master-endpoints';
import { errors } from './api/status';
import { createLogger, type Logger } from './log';
import { Compactor } from './store/compactor';
import { defaultStoreSpec, openStore } from './store/open-store';
import type { Store } from './store/store';
import { ApiServer } from './api/api-server';
import type { MaxInFlightOptions } from './api/max-in-flight';

export interface MasterOptions {
  dataDir: string;
  /** HOST:PORT; default 0.0.0.0:6443 (tests use 127.0.0.1:0). */
  listen?: string;
  /**
   * More HOST:PORT addresses served like `listen` (a port of 0 means listen's port); one that is
   * not on this machine yet is bound once it appears. A local cluster's pods reach the master there.
   */
  alsoListen?: string[];
  /** sqlite:PATH | etcd://HOST:PORT[,...]; default sqlite:DATA_DIR/state.db. */
  store?: string;
  etcdCa?: string;
  etcdCert?: string;
  etcdKey?: string;
  /** Deadline of one store call (etcd; default 5 s). */
  storeCallTimeoutMs?: number;
  /** Deadline of one store list (etcd; default 30 s, the SLO of a cluster-wide list). */
  storeListTimeoutMs?: number;
  advertiseAddress?: string;
  tlsSans?: string[];
  /**
   * Starts the scheduler and controllers once the API serves; they reach it as a client with the
   * admin token. The CLI passes master/controllers' manager; tests may leave it out.
   */
  controllers?: ControllerStarter;
  serviceCidr?: string;
  nodePortRange?: [number, number];
  /** How long a node credential holds (default one year); agents renew at 80% of it. */
  nodeCredentialTtlMs?: number;
  /** Bounds on the requests answered at once (kube-apiserver's max-in-flight; defaults 400 reads, 200 writes). */
  maxInFlight?: MaxInFlightOptions;
  /**
   * Interval of watch BOOKMARK events (default 60 s, as kube-apiserver's watch cache sends them).
   * Each is a write to its watch: at 1,000 nodes, 10 s made ~1,000 writes a second of idle
   * ConfigMap watches, which held the pod watches' events back.
   */
  bookmarkIntervalMs?: number;
  logger?: Logger;
}

/**
 * Connections the kernel holds for the master before it accepts them (capped by
 * net.core.somaxconn; Go's servers, kube-apiserver among them, ask for that cap too). Node's
 * default is 511, and Node accepts one connection per turn of its event loop: a burst of new
 * connections while the loop is busy overflowed it, and a dropped SYN is retried only after 1, 3,
 * 7... s.
 */
export const LISTEN_BACKLOG = 4096;
/**
 * `store` is for allocations that must be atomic across masters (pod CIDR claims) and for the
 * informers' reads (StoreListWatch); every write of an object goes through the API.
 */
export type ControllerStarter = (api: { url: string; caPem: string; token: string; log: Logger; store: Store }) => Promise<{ stop(): Promise<void> }>;

export interface RunningMaster {
  url: string;
  port: number;
  caPem: string;
  adminToken: string;
  viewerToken: string;
  joinToken: string;
  dataDir: string;
  kubeconfigPath: string;
  store: Store;
  close(): Promise<void>;
}

/** Starts the API server: TLS, auth, the REST resources, discovery, OpenAPI, metrics. */
export async function startMaster(options: MasterOptions): Promise<RunningMaster> {
  const log = options.logger ?? createLogger('lotse-master');
  const [host, portText] = splitHostPort(options.listen ?? '0.0.0.0:6443');
  const advertise = options.advertiseAddress ?? (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);
  const serviceCidr = options.serviceCidr ?? '10.96.0.0/12';
  // Pods reach the API at the `kubernetes` service's ClusterIP and verify the certificate against it.
  const extra = (options.alsoListen ?? []).map(splitHostPort);
  const sans = [...new Set(['localhost', '127.0.0.1', hostname(), advertise, ...extra.map(([h]) => h), apiServerServiceIp(serviceCidr), ...(options.tlsSans ?? []), 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'])];
  const store = await openStore(options.store ?? defaultStoreSpec(options.dataDir), {
    dataDir: options.dataDir,
    etcdCa: options.etcdCa,
    etcdCert: options.etcdCert,
    etcdKey: options.etcdKey,
    callTimeoutMs: options.storeCallTimeoutMs,
    listTimeoutMs: options.storeListTimeoutMs,
  });
  // Certificates exist before the port opens, so no client ever meets a server without one.
  const state = loadOrCreateState(options.dataDir, sans);
  // Client certificates are asked for, not required: one signed by the cluster CA signs its user in
  // (CN user, O groups); without one (or with a foreign one) the bearer token decides.
  const tls: https.ServerOptions = { ...serverTlsPolicy, cert: state.serving.certPem, key: state.serving.keyPem, ca: state.ca.certPem, requestCert: true, rejectUnauthorized: false };
  let api: ApiServer | undefined;
  // Until the API is wired (port known, namespaces made), answer 503 rather than leave clients hanging.
  const { server, closeAllConnections } = createApiHttpServer(tls, (req: IncomingMessage, res: ServerResponse) => {
    if (api) return void api.serve(req, res);
    res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
    res.end(JSON.stringify(errors.unavailable('the master is starting').toStatus()));
  });
  // A client that cannot agree on TLS sees only an alert; the reason is here.
  server.on('tlsClientError', (err, socket) => log.debug({ err: err.message, from: socket.remoteAddress }, 'TLS handshake failed'));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (api) return void api.upgrade(req, socket, head);
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`cannot listen on ${options.listen ?? '0.0.0.0:6443'}: ${err.message}${(err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? ' (another process uses that port: stop it or pass --listen HOST:OTHER_PORT)' : ''}`)));
    server.listen({ port: Number(portText), host, backlog: LISTEN_BACKLOG }, () => resolve());
  }).catch(async (err: Error) => {
    await store.close();
    throw err;
  });
  const port = (server.address() as AddressInfo).port;
  const extraListeners = extra.map(([h, p]) => listenAlso(server, tls, h, Number(p) || port, log));
  // Clients on this machine use the listen address when it is a specific one (a local cluster's
  // 127.0.0.1), else the advertised one; pods always get the advertised one (the kubernetes Service).
  const clientHost = host === '0.0.0.0' || host === '::' ? advertise : host;
  const url = `https://${clientHost.includes(':') ? `[${clientHost}]` : clientHost}:${port}`;
  // The kubeconfig needs the port, which with :0 is known only after listen().
  writeClientFiles(options.dataDir, url, state);

  const allocator = new ServiceAllocator(store, { serviceCidr, nodePortRange: options.nodePortRange ?? [30000, 32767] });
  const saTokens = await ServiceAccountTokens.open(options.dataDir, store);
  const wired = new ApiServer(store, state, allocator, saTokens, log, { bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000, nodeCredentialTtlMs: options.nodeCredentialTtlMs, maxInFlight: options.maxInFlight }, `${advertise}:${port}`);
  await wired.bootstrap();
  api = wired;
  const masterEndpoints = isIPv4(advertise) ? new MasterEndpoints(store, wired.registry, { ip: advertise, port, onError: (err) => log.warn({ err: err.message }, 'could not renew this master in the kubernetes endpoints') }) : undefined;
  if (!masterEndpoints) log.warn({ advertise }, 'the advertise address is not an IPv4 address: pods cannot reach the API through the kubernetes service (pass --advertise-address IP)');
  await masterEndpoints?.start();
  const compactor = new Compactor(store, { onError: (err) => log.error({ err: err.message }, 'compaction failed') }).start();
  const controllers = options.controllers ? await options.controllers({ url, caPem: state.ca.certPem, token: state.tokens.admin, log, store }) : undefined;
  log.info({ url, store: store.kind, dataDir: options.dataDir }, 'lotse master is serving');

  return {
    url,
    port,
    caPem: state.ca.certPem,
    adminToken: state.tokens.admin,
    viewerToken: state.tokens.viewer,
    joinToken: state.tokens.join,
    dataDir: options.dataDir,
    kubeconfigPath: join(options.dataDir, 'admin.kubeconfig'),
    store,
    close: async () => {
      await masterEndpoints?.stop().catch((err: Error) => log.warn({ err: err.message }, 'could not take this master out of the kubernetes endpoints'));
      await controllers?.stop();
      await compactor.stop();
      wired.stop();
      await Promise.all(extraListeners.map((l) => l.close()));
      closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
    },
  };
}

function splitHostPort(listen: string): [string, string] {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(listen);
  if (!m) throw new Error(`--listen "${listen}" is not HOST:PORT (for example 0.0.0.0:6443)`);
  return [m[1] || '0.0.0.0', m[2]];
}
