import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newToken, type StaticTokens } from '../cluster/tokens';
import { certificateSans, createCa, issueCertificate, type KeyPair } from '../cluster/certificates';
import { apiEndpoint, type Inventory, type InventoryHost } from './inventory';

/** Everything secret about a cluster, made on the user's machine and kept in `clusters/NAME/pki`. */
export interface ClusterPki {
  /** Signs the API serving certificate, agents' certificates and the master's client certificate. */
  ca: KeyPair;
  /** Signs etcd's serving/peer certificates and its one client, the masters. */
  etcdCa: KeyPair;
  tokens: StaticTokens;
  /** API serving certificate valid for every master's names and addresses. */
  apiserver: KeyPair;
  /** Per master: etcd serving + peer certificate (server and client auth). */
  etcdPeers: Map<string, KeyPair>;
  /** The masters' client certificate for etcd. */
  etcdClient: KeyPair;
  /** Files this call wrote (new or re-issued); empty when everything was there already. */
  written: string[];
}

const DEFAULT_API_SANS = ['localhost', '127.0.0.1', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];

/**
 * The `kubernetes` Service's ClusterIP, the first address of the inventory's serviceCidr: pods
 * connect to it, and the master would otherwise re-issue the certificate to add it.
 */
function kubernetesServiceIp(serviceCidr: string): string {
  const [base, bits] = serviceCidr.split('/');
  const n = base.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
  const size = 2 ** (32 - Number(bits));
  const first = n - (n % size) + 1;
  return [24, 16, 8, 0].map((shift) => Math.floor(first / 2 ** shift) % 256).join('.');
}

/** Names and addresses the API serving certificate must carry: every master's, plus in-cluster names. */
export function apiSans(inv: Inventory, masterHostnames: string[] = []): string[] {
  const masters = inv.hosts.filter((h) => h.role === 'master');
  // The master adds its own hostname to the names it wants; carrying them here keeps it from re-issuing.
  return [...new Set([...DEFAULT_API_SANS, kubernetesServiceIp(inv.network.serviceCidr), ...masters.flatMap((m) => [m.name, m.address, m.privateAddress]), ...[apiEndpoint(inv)?.host].filter((h): h is string => h !== undefined), ...masterHostnames.filter(Boolean)])];
}

function etcdSans(host: InventoryHost): string[] {
  return [...new Set(['localhost', '127.0.0.1', host.name, host.address, host.privateAddress])];
}

/**
 * Loads the cluster's PKI, creating what is missing; certificates whose names no longer cover the
 * inventory (a master added or readdressed) are re-issued from the same CA, so nothing already
 * deployed stops trusting anything.
 */
export function ensureClusterPki(dir: string, inv: Inventory, masterHostnames: string[] = []): ClusterPki {
  const pkiDir = join(dir, 'pki');
  mkdirSync(pkiDir, { recursive: true, mode: 0o700 });
  chmodSync(pkiDir, 0o700);
  const store = new PairStore(pkiDir);
  const ca = store.ca('ca', `${inv.name}-ca`);
  const etcdCa = store.ca('etcd-ca', `${inv.name}-etcd-ca`);
  const tokens = store.tokens();
  const apiserver = store.leaf('apiserver', ca, { commonName: 'lotse-apiserver', sans: apiSans(inv, masterHostnames), serverAuth: true });
  const etcdPeers = new Map<string, KeyPair>();
  for (const m of inv.hosts.filter((h) => h.role === 'master')) {
    etcdPeers.set(m.name, store.leaf(`etcd-peer-${m.name}`, etcdCa, { commonName: m.name, sans: etcdSans(m), serverAuth: true, clientAuth: true }));
  }
  const etcdClient = store.leaf('etcd-client', etcdCa, { commonName: 'lotse-master', clientAuth: true });
  return { ca, etcdCa, tokens, apiserver, etcdPeers, etcdClient, written: store.written };
}

class PairStore {
  readonly written: string[] = [];

  constructor(private readonly dir: string) {}

  ca(name: string, commonName: string): KeyPair {
    return this.read(name) ?? this.write(name, createCa(commonName));
  }

  leaf(name: string, ca: KeyPair, req: Parameters<typeof issueCertificate>[1]): KeyPair {
    const existing = this.read(name);
    const have = new Set(existing ? certificateSans(existing.certPem) : []);
    if (existing && (req.sans ?? []).every((s) => have.has(s))) return existing;
    return this.write(name, issueCertificate(ca, req));
  }

  tokens(): StaticTokens {
    const path = join(this.dir, 'tokens.json');
    if (existsSync(path)) return JSON.parse(readFileSync(path, 'utf8')) as StaticTokens;
    const tokens: StaticTokens = { admin: newToken(), viewer: newToken(), join: newToken() };
    secret(path, JSON.stringify(tokens, null, 2) + '\n');
    this.written.push('tokens.json');
    return tokens;
  }

  private read(name: string): KeyPair | undefined {
    const cert = join(this.dir, `${name}.crt`);
    const key = join(this.dir, `${name}.key`);
    if (!existsSync(cert) || !existsSync(key)) return undefined;
    return { certPem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key, 'utf8') };
  }

  private write(name: string, pair: KeyPair): KeyPair {
    secret(join(this.dir, `${name}.crt`), pair.certPem);
    secret(join(this.dir, `${name}.key`), pair.keyPem);
    this.written.push(name);
    return pair;
  }
}

function secret(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o600 });
  chmodSync(path, 0o600);
}
