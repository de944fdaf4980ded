import { TerraformOutput } from 'cdktf';
import type { Construct } from 'constructs';
import type { StoreKind } from '../config/cluster-config';
import type { ClusterHost } from './cluster-host';

export interface ClusterOutputsProps {
  readonly clusterName: string;
  readonly store: StoreKind;
  readonly sshUser: string;
  readonly hosts: readonly ClusterHost[];
}

/**
 * The outputs every cloud stack exposes. Their names are also the keys of the JSON handed to
 * `lotse bootstrap --outputs`, so `cdktf output <stack>` and the bootstrap read the same thing.
 */
export function outputsDocument(props: ClusterOutputsProps): Record<string, unknown> {
  const addresses = (role: string): string[] => props.hosts.filter((h) => h.role === role).map((h) => h.address);
  return {
    clusterName: props.clusterName,
    store: props.store,
    sshUser: props.sshUser,
    masterAddresses: addresses('master'),
    workerAddresses: addresses('worker'),
    hosts: props.hosts.map((h) => ({ ...h })),
  };
}

export class ClusterOutputs {
  readonly document: Record<string, unknown>;

  constructor(scope: Construct, props: ClusterOutputsProps) {
    this.document = outputsDocument(props);
    const descriptions: Record<string, string> = {
      clusterName: 'the cluster name (LOTSE_HOME/clusters/NAME holds its PKI)',
      store: 'the API store on the masters',
      sshUser: 'user the bootstrap and operators log in as',
      masterAddresses: 'public addresses of the masters (the API listens on 6443)',
      workerAddresses: 'public addresses of the workers',
      hosts: 'every machine, in the bootstrap inventory format',
    };
    for (const [key, value] of Object.entries(this.document)) {
      new TerraformOutput(scope, key, { value, description: descriptions[key] });
    }
  }
}
