import { TerraformOutput } from 'cdktf';
import type { Construct } from 'constructs';
import type { ClusterHost, ClusterNetwork, ClusterOutputsDocument, StoreKind } from '../../cluster/cluster-outputs-document';

export interface ClusterOutputsProps {
  readonly clusterName: string;
  readonly store: StoreKind;
  readonly sshUser: string;
  readonly hosts: readonly ClusterHost[];
  readonly network: ClusterNetwork;
  readonly sshIdentityFile?: string;
  /** The load balancer's address, when the stack made one. */
  readonly apiAddress?: string;
  readonly nodeRegistry?: string;
}

/** The document handed to `lotse bootstrap --outputs`, from what the stack made. */
export function outputsDocument(props: ClusterOutputsProps): ClusterOutputsDocument {
  const addresses = (role: string): string[] => props.hosts.filter((h) => h.role === role).map((h) => h.address);
  return {
    clusterName: props.clusterName,
    store: props.store,
    sshUser: props.sshUser,
    masterAddresses: addresses('master'),
    workerAddresses: addresses('worker'),
    hosts: props.hosts.map((h) => ({ ...h })),
    clusterNetwork: { ...props.network },
    ...(props.sshIdentityFile ? { sshIdentityFile: props.sshIdentityFile } : {}),
    ...(props.apiAddress ? { apiAddress: props.apiAddress } : {}),
    ...(props.nodeRegistry ? { nodeRegistry: props.nodeRegistry } : {}),
  };
}

const DESCRIPTIONS: Record<keyof ClusterOutputsDocument, string> = {
  clusterName: 'the cluster name (LOTSE_HOME/clusters/NAME holds its PKI)',
  store: 'the API store on the masters',
  sshUser: 'user the bootstrap and operators log in as',
  masterAddresses: 'public addresses of the masters (the API listens on 6443)',
  workerAddresses: 'public addresses of the workers',
  hosts: 'every machine, in the bootstrap inventory format',
  clusterNetwork: 'pod and service ranges, the cluster DNS address and domain (cluster.yaml network)',
  sshIdentityFile: 'private key the bootstrap logs in with (cluster.yaml bootstrap.identityFile)',
  apiAddress: "the load balancer in front of the masters' API (port 6443), when there are several masters",
  nodeRegistry: 'npm registry mirror the bootstrap fetches the pinned Node.js builds from (cluster.yaml bootstrap.nodeRegistry)',
};

/**
 * The outputs every cloud stack exposes. Their names are the keys of the outputs document, so
 * `cdktf output <stack>` and the bootstrap read the same thing.
 */
export class ClusterOutputs {
  readonly document: ClusterOutputsDocument;

  constructor(scope: Construct, props: ClusterOutputsProps) {
    this.document = outputsDocument(props);
    for (const [key, value] of Object.entries(this.document)) {
      new TerraformOutput(scope, key, { value, description: DESCRIPTIONS[key as keyof ClusterOutputsDocument] });
    }
  }
}
