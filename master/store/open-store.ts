import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Store } from './store';

export interface OpenStoreOptions {
  /** The master's data dir; a bare `sqlite` spec means DIR/state.db. */
  dataDir: string;
  /** Paths of PEM files (--etcd-ca, --etcd-cert, --etcd-key); a CA switches etcd to https. */
  etcdCa?: string;
  etcdCert?: string;
  etcdKey?: string;
  /** Deadline of one etcd call (default 5 s): past it a request fails with 504, not a hang. */
  callTimeoutMs?: number;
  /** Deadline of one etcd list, a range over a prefix (default 30 s). */
  listTimeoutMs?: number;
}

export type StoreSpec =
  | { kind: 'sqlite'; path: string }
  | { kind: 'etcd'; endpoints: string[]; keyPrefix: string };

/** The SQLite file in the master's data dir when --store names no path (or is not given). */
export const DEFAULT_SQLITE_FILE = 'state.db';

/** The store a master opens without --store: SQLite in its data dir. */
export function defaultStoreSpec(dataDir: string): string {
  return `sqlite:${join(dataDir, DEFAULT_SQLITE_FILE)}`;
}

const SPEC_HELP = 'expected sqlite:PATH or etcd://HOST:PORT[,HOST:PORT...][/KEY-PREFIX]';

/**
 * Opens the store named by `lotse master --store`. An etcd store is asked for its revision
 * before this returns, so a wrong address or certificate fails at startup, not at first request.
 */
export async function openStore(spec: string, options: OpenStoreOptions): Promise<Store> {
  const parsed = parseStoreSpec(spec, options);
  if (parsed.kind === 'sqlite') {
    mkdirSync(dirname(parsed.path), { recursive: true });
    // Each backend loads only when chosen: the etcd client (gRPC) costs startup time, and
    // SQLite's native addon is absent from the portable bundle that runs etcd-backed masters.
    const { SqliteStore } = await import('./sqlite-store');
    return new SqliteStore(parsed.path);
  }
  const { EtcdStore } = await import('./etcd-store');
  const store = new EtcdStore({ endpoints: parsed.endpoints, keyPrefix: parsed.keyPrefix, tls: readTls(options), callTimeoutMs: options.callTimeoutMs, listTimeoutMs: options.listTimeoutMs });
  try {
    await store.revision();
  } catch (err) {
    await store.close();
    throw new Error(`cannot use the store ${spec}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return store;
}

/** Parses a --store value; throws an error that quotes the spec and shows the accepted forms. */
export function parseStoreSpec(spec: string, options: Pick<OpenStoreOptions, 'dataDir' | 'etcdCa'>): StoreSpec {
  const trimmed = spec.trim();
  if (trimmed === 'sqlite' || trimmed === 'sqlite:') return { kind: 'sqlite', path: join(resolve(options.dataDir), DEFAULT_SQLITE_FILE) };
  if (trimmed.startsWith('sqlite:')) {
    const path = trimmed.slice('sqlite:'.length);
    if (path.startsWith('//')) throw new Error(`bad --store "${spec}": write sqlite:/absolute/path or sqlite:relative/path, not a URL`);
    return { kind: 'sqlite', path: resolve(path) };
  }
  if (trimmed === 'etcd' || trimmed.startsWith('etcd://')) {
    const rest = trimmed === 'etcd' ? '' : trimmed.slice('etcd://'.length);
    const slash = rest.indexOf('/');
    const hosts = slash < 0 ? rest : rest.slice(0, slash);
    const keyPrefix = slash < 0 ? '' : rest.slice(slash).replace(/\/+$/, '');
    if (hosts === '') throw new Error(`bad --store "${spec}": no etcd host given; ${SPEC_HELP}`);
    const scheme = options.etcdCa ? 'https' : 'http';
    const endpoints = hosts.split(',').map((hostPort) => `${scheme}://${parseHostPort(hostPort, spec)}`);
    return { kind: 'etcd', endpoints, keyPrefix };
  }
  throw new Error(`bad --store "${spec}": ${SPEC_HELP}`);
}

function parseHostPort(hostPort: string, spec: string): string {
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d+))?$/.exec(hostPort.trim());
  if (!match) throw new Error(`bad --store "${spec}": "${hostPort}" is not HOST:PORT; ${SPEC_HELP}`);
  const port = match[2] === undefined ? 2379 : Number(match[2]);
  if (port < 1 || port > 65535) throw new Error(`bad --store "${spec}": port ${match[2]} is out of range`);
  return `${match[1]}:${port}`;
}

function readTls(options: OpenStoreOptions): { ca: Buffer; cert?: Buffer; key?: Buffer } | undefined {
  const { etcdCa, etcdCert, etcdKey } = options;
  if (!etcdCa && !etcdCert && !etcdKey) return undefined;
  if (!etcdCa) throw new Error('--etcd-cert/--etcd-key need --etcd-ca too (the CA that signed etcd\'s serving certificate)');
  if (Boolean(etcdCert) !== Boolean(etcdKey)) throw new Error('--etcd-cert and --etcd-key go together: give both or neither');
  return {
    ca: readPem(etcdCa, '--etcd-ca'),
    cert: etcdCert ? readPem(etcdCert, '--etcd-cert') : undefined,
    key: etcdKey ? readPem(etcdKey, '--etcd-key') : undefined,
  };
}

function readPem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`cannot read ${flag} ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
