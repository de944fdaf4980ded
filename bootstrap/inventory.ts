import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, resolve } from 'node:path';
import Ajv, { type ErrorObject } from 'ajv';
import YAML from 'yaml';
import { CLUSTER_NETWORK_SCHEMA, parseClusterOutputs, type ClusterNetwork, type HostRole, type StoreKind } from '../cluster/cluster-outputs-document';
import { describeSchemaError } from '../cluster/schema-errors';
export type AgentRuntime = 'docker' | 'podman' | 'fake';

export interface JumpHost {
  user: string;
  host: string;
  port: number;
}

export interface InventoryHost {
  name: string;
  /** Where the bootstrap connects over SSH. */
  address: string;
  /** Where the other machines reach this one (VPC address); `address` when not given. */
  privateAddress: string;
  port: number;
  user: string;
  role: HostRole;
  /** Private key file; without it the user's ssh-agent (SSH_AUTH_SOCK) is asked. */
  identityFile?: string;
  jump?: JumpHost;
}

/**
 * Where lotse.js gets its Node.js on a host. `shipped` (the default): the pinned official build the
 * bootstrap uploads, so Fedora CoreOS and Flatcar (which have none) pull nothing at boot and every
 * host runs the same current LTS. `host`: a Node.js the host already has (a Debian server).
 */
export type NodeSource = 'shipped' | 'host';

export interface Inventory {
  name: string;
  store: StoreKind;
  agent: { runtime?: AgentRuntime };
  network: ClusterNetwork;
  /** A known_hosts file to verify host keys against; without it, keys are pinned on first use. */
  knownHosts?: string;
  /** Where lotse.js gets Node.js on the hosts: the pinned build the bootstrap ships (default) or the host's own. */
  node: NodeSource;
  /** An npm registry mirror serving the pinned Node.js builds (default registry.npmjs.org). */
  nodeRegistry?: string;
  /**
   * A stable address in front of every master (a load balancer or virtual IP): the kubeconfig
   * points there and the masters' serving certificate names it. Without it, the first master.
   */
  apiAddress?: string;
  hosts: InventoryHost[];
}

const NAME = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

/** JSON schema of the inventory YAML (docs/design.md, "Bootstrap inventory"). */
const schema = {
  type: 'object',
  required: ['name', 'hosts'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: NAME, maxLength: 63 },
    store: { enum: ['etcd', 'sqlite'] },
    agent: { type: 'object', additionalProperties: false, properties: { runtime: { enum: ['docker', 'podman', 'fake'] } } },
    // Every key optional here (defaults below); the same patterns as in a stack's outputs.
    network: { type: 'object', additionalProperties: false, properties: CLUSTER_NETWORK_SCHEMA.properties },
    knownHosts: { type: 'string', minLength: 1 },
    node: { enum: ['shipped', 'host'] },
    nodeRegistry: { type: 'string', pattern: '^https?://', maxLength: 2048 },
    apiAddress: { type: 'string', minLength: 1, maxLength: 253 },
    hosts: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['name', 'address', 'role'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', pattern: NAME, maxLength: 63 },
          address: { type: 'string', minLength: 1 },
          privateAddress: { type: 'string', minLength: 1 },
          port: { type: 'integer', minimum: 1, maximum: 65535 },
          user: { type: 'string', minLength: 1 },
          role: { enum: ['master', 'worker'] },
          identityFile: { type: 'string', minLength: 1 },
          jump: { type: 'string', pattern: '^([^@\\s]+@)?[^@:\\s]+(:\\d+)?$' },
        },
      },
    },
  },
} as const;

interface RawHost {
  name: string;
  address: string;
  privateAddress?: string;
  port?: number;
  user?: string;
  role: HostRole;
  identityFile?: string;
  jump?: string;
}

interface RawInventory {
  name: string;
  store?: StoreKind;
  agent?: { runtime?: AgentRuntime };
  network?: Partial<ClusterNetwork>;
  knownHosts?: string;
  node?: NodeSource;
  nodeRegistry?: string;
  apiAddress?: string;
  hosts: RawHost[];
}

const ajv = new Ajv({ allErrors: true, verbose: true });
const validate = ajv.compile<RawInventory>(schema);

/** The same defaults as cluster.yaml's network section. */
export const DEFAULT_NETWORK: ClusterNetwork = { podCidr: '10.244.0.0/16', serviceCidr: '10.96.0.0/12', dnsAddress: '169.254.20.10', clusterDomain: 'cluster.local' };

/** The host and port of `apiAddress` (HOST or HOST:PORT, port 6443 when absent), or undefined without one. */
export function apiEndpoint(inv: Pick<Inventory, 'apiAddress'>): { host: string; port: number } | undefined {
  if (!inv.apiAddress) return undefined;
  const m = /^(.+?)(?::(\d{1,5}))?$/.exec(inv.apiAddress) as RegExpExecArray;
  return { host: m[1], port: m[2] ? Number(m[2]) : 6443 };
}

/** Reads and validates an inventory YAML file; relative identity/known_hosts paths are relative to it. */
export function loadInventory(path: string): Inventory {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the inventory ${path}: ${(err as Error).message}`);
  }
  return parseInventory(text, path);
}

export function parseInventory(text: string, source: string): Inventory {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    throw new Error(`inventory ${source} is not valid YAML: ${(err as Error).message}`);
  }
  return normalize(doc, source);
}

/** The document a cloud stack hands to `lotse bootstrap --outputs`, as an inventory. */
export function loadOutputs(path: string): Inventory {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read the stack outputs ${path} as JSON: ${(err as Error).message}`);
  }
  const outputs = parseClusterOutputs(doc, path);
  const identityFile = outputs.sshIdentityFile;
  const inventory: RawInventory = {
    name: outputs.clusterName,
    store: outputs.store,
    network: { ...outputs.clusterNetwork },
    ...(outputs.apiAddress ? { apiAddress: outputs.apiAddress } : {}),
    ...(outputs.nodeRegistry ? { nodeRegistry: outputs.nodeRegistry } : {}),
    hosts: outputs.hosts.map((h) => ({ ...h, ...(identityFile ? { identityFile } : {}) })),
  };
  return normalize(inventory, `${path} (stack outputs)`);
}

function normalize(doc: unknown, source: string): Inventory {
  if (doc && typeof doc === 'object' && 'nodeImage' in doc) {
    throw new Error(`inventory ${source} is invalid:\n  - nodeImage: no longer used; lotse ships a pinned Node.js build to the hosts and pulls no image (remove the key; node: host uses a Node.js the hosts already have, nodeRegistry a mirror of the builds)`);
  }
  if (!validate(doc)) throw new Error(`inventory ${source} is invalid:\n${(validate.errors ?? []).map((e) => `  - ${describe(e)}`).join('\n')}`);
  const base = dirname(resolve(source.replace(/ \(stack outputs\)$/, '')));
  const hosts = doc.hosts.map((h): InventoryHost => ({
    name: h.name,
    address: h.address,
    privateAddress: h.privateAddress ?? h.address,
    port: h.port ?? 22,
    user: h.user ?? 'root',
    role: h.role,
    identityFile: h.identityFile ? resolve(base, expandHome(h.identityFile)) : undefined,
    jump: h.jump ? parseJump(h.jump) : undefined,
  }));
  const inventory: Inventory = {
    name: doc.name,
    store: doc.store ?? 'etcd',
    agent: { runtime: doc.agent?.runtime },
    network: { ...DEFAULT_NETWORK, ...doc.network },
    knownHosts: doc.knownHosts ? resolve(base, expandHome(doc.knownHosts)) : undefined,
    node: doc.node ?? 'shipped',
    nodeRegistry: doc.nodeRegistry,
    apiAddress: doc.apiAddress,
    hosts,
  };
  checkConsistency(inventory, source);
  return inventory;
}

function checkConsistency(inv: Inventory, source: string): void {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  inv.hosts.forEach((h, i) => {
    if (seen.has(h.name)) problems.push(`hosts[${i}].name "${h.name}" is already used by hosts[${seen.get(h.name)}]; host names become node names and must be unique`);
    seen.set(h.name, i);
  });
  const masters = inv.hosts.filter((h) => h.role === 'master');
  if (masters.length === 0) problems.push('hosts: no host has role: master; at least one master runs the API');
  if (inv.store === 'sqlite' && masters.length > 1) problems.push(`store: sqlite keeps the state on one machine, but ${masters.length} hosts are masters; use store: etcd for several masters`);
  inv.hosts.forEach((h, i) => {
    if (h.role === 'master' && !isIP(h.privateAddress) && !/^[A-Za-z0-9.-]+$/.test(h.privateAddress)) {
      problems.push(`hosts[${i}].privateAddress "${h.privateAddress}" is neither an IP address nor a host name`);
    }
  });
  if (problems.length > 0) throw new Error(`inventory ${source} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}

function describe(e: ErrorObject): string {
  return describeSchemaError(e, (path) => (path.endsWith('jump') ? 'must look like user@host:port' : 'must be lower-case letters, digits and dashes'));
}

function parseJump(spec: string): JumpHost {
  const m = /^(?:([^@\s]+)@)?([^@:\s]+)(?::(\d+))?$/.exec(spec);
  if (!m) throw new Error(`jump "${spec}" must look like user@host:port`);
  return { user: m[1] ?? 'root', host: m[2], port: m[3] ? Number(m[3]) : 22 };
}

function expandHome(path: string): string {
  return path.startsWith('~/') ? `${process.env.HOME ?? ''}/${path.slice(2)}` : path;
}
