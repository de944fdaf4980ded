import Ajv, { type JSONSchemaType } from 'ajv';
import { describeSchemaError } from './schema-errors';

export type HostRole = 'master' | 'worker';
export type StoreKind = 'etcd' | 'sqlite';

/**
 * One machine as the bootstrap sees it, in the inventory's vocabulary. In a cloud stack the
 * addresses are Terraform references that resolve at apply time.
 */
export interface ClusterHost {
  readonly name: string;
  readonly role: HostRole;
  /** Address the bootstrap connects to over SSH. */
  readonly address: string;
  /** Address the other machines use (VPC address; equals `address` where there is no VPC). */
  readonly privateAddress: string;
  readonly user: string;
  readonly port: number;
}

/** The cluster's address plan, from cluster.yaml to flannel, the masters and every agent. */
export interface ClusterNetwork {
  /** Pod addresses; each node gets a /24 of it. */
  readonly podCidr: string;
  /** Service ClusterIPs. */
  readonly serviceCidr: string;
  /** Where each agent serves cluster DNS on its own node; pods' resolv.conf points there. */
  readonly dnsAddress: string;
  readonly clusterDomain: string;
}

/**
 * What a cloud stack hands to `lotse bootstrap --outputs`: the stack writes it (its Terraform
 * outputs carry the same keys, so `cdktf output <stack>` shows the same thing) and the bootstrap
 * reads it, both through this type and its schema.
 */
export interface ClusterOutputsDocument {
  readonly clusterName: string;
  readonly store: StoreKind;
  readonly sshUser: string;
  /** Public addresses of the masters (the API listens on 6443). */
  readonly masterAddresses: readonly string[];
  readonly workerAddresses: readonly string[];
  readonly hosts: readonly ClusterHost[];
  /** Named so, not `network`: a Terraform output shares its name space with the stack's `network` construct. */
  readonly clusterNetwork: ClusterNetwork;
  /** Private key the bootstrap logs in with (bootstrap.identityFile); without it, the ssh-agent. */
  readonly sshIdentityFile?: string;
  /**
   * The stable API address in front of every master (the cloud's load balancer), when the stack
   * made one: the kubeconfig points there and the masters' certificate names it.
   */
  readonly apiAddress?: string;
  /** An npm registry mirror serving the pinned Node.js builds (bootstrap.nodeRegistry). */
  readonly nodeRegistry?: string;
}

const NAME = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer U)[] ? Mutable<U>[] : T[K] };

const hostSchema: JSONSchemaType<Mutable<ClusterHost>> = {
  type: 'object',
  required: ['name', 'role', 'address', 'privateAddress', 'user', 'port'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: NAME, maxLength: 63 },
    role: { type: 'string', enum: ['master', 'worker'] },
    address: { type: 'string', minLength: 1, maxLength: 253 },
    privateAddress: { type: 'string', minLength: 1, maxLength: 253 },
    user: { type: 'string', minLength: 1, maxLength: 64 },
    port: { type: 'integer', minimum: 1, maximum: 65535 },
  },
};

const CIDR = '^\\d{1,3}(\\.\\d{1,3}){3}/\\d{1,2}$';
const IPV4 = '^\\d{1,3}(\\.\\d{1,3}){3}$';
const DOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

export const CLUSTER_NETWORK_SCHEMA: JSONSchemaType<Mutable<ClusterNetwork>> = {
  type: 'object',
  required: ['podCidr', 'serviceCidr', 'dnsAddress', 'clusterDomain'],
  additionalProperties: false,
  properties: {
    podCidr: { type: 'string', pattern: CIDR },
    serviceCidr: { type: 'string', pattern: CIDR },
    dnsAddress: { type: 'string', pattern: IPV4 },
    clusterDomain: { type: 'string', pattern: DOMAIN, maxLength: 253 },
  },
};

const addresses = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 253 }, maxItems: 1000 } as const;

/** The schema of ClusterOutputsDocument; the compiler checks that the two agree. */
export const CLUSTER_OUTPUTS_SCHEMA: JSONSchemaType<Mutable<ClusterOutputsDocument>> = {
  type: 'object',
  required: ['clusterName', 'store', 'sshUser', 'masterAddresses', 'workerAddresses', 'hosts', 'clusterNetwork'],
  additionalProperties: false,
  properties: {
    clusterName: { type: 'string', pattern: NAME, maxLength: 63 },
    store: { type: 'string', enum: ['etcd', 'sqlite'] },
    sshUser: { type: 'string', minLength: 1, maxLength: 64 },
    masterAddresses: addresses,
    workerAddresses: addresses,
    hosts: { type: 'array', minItems: 1, maxItems: 1000, items: hostSchema },
    clusterNetwork: CLUSTER_NETWORK_SCHEMA,
    sshIdentityFile: { type: 'string', minLength: 1, maxLength: 4096, nullable: true },
    apiAddress: { type: 'string', minLength: 1, maxLength: 253, nullable: true },
    nodeRegistry: { type: 'string', pattern: '^https?://', maxLength: 2048, nullable: true },
  },
};

const validate = new Ajv({ allErrors: true, verbose: true }).compile(CLUSTER_OUTPUTS_SCHEMA);

/** Checks a parsed outputs document against the schema; `source` names it in the error. */
export function parseClusterOutputs(value: unknown, source: string): ClusterOutputsDocument {
  if (validate(value)) return value;
  const problems = (validate.errors ?? []).map((e) => `  - ${describeSchemaError(e, () => 'must be lower-case letters, digits and dashes')}`);
  throw new Error(`stack outputs ${source} are invalid (written by the stack's bootstrap step; re-run cdktf deploy to rewrite them):\n${problems.join('\n')}`);
}
