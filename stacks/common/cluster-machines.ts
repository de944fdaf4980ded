import { isAbsolute, resolve } from 'node:path';
import type { ITerraformDependable } from 'cdktf';
import type { Construct } from 'constructs';
import type { ClusterHost } from '../../cluster/cluster-outputs-document';
import type { ClusterConfig, OperatingSystem } from '../config/cluster-config';
import { SSH_USER, nodeIgnition } from '../ignition/node-ignition';
import { BootstrapRun } from './bootstrap-run';
import type { CloudNode } from './cloud-node';
import { ClusterOutputs } from './cluster-outputs';
import type { PlannedNode } from './node-plan';

export interface ClusterMachinesProps<N extends CloudNode> {
  readonly cluster: ClusterConfig;
  /** The OS the machines boot (Scaleway has Flatcar only, whatever cluster.yaml says). */
  readonly os: OperatingSystem;
  readonly planned: readonly PlannedNode[];
  /** Interface for flannel's vxlan traffic; default: the interface of the default route. */
  readonly flannelInterface?: string;
  /** Creates one machine in the stack from its plan and its rendered Ignition. */
  readonly machine: (node: PlannedNode, ignition: string) => N;
  /**
   * Puts the cloud's load balancer in front of the masters' API; called only with several masters
   * (one master needs none, and a balancer costs money). Without it, clients fail over themselves.
   */
  readonly apiLoadBalancer?: (masters: N[]) => ApiLoadBalancer;
}

/** The stable API address a stack made. */
export interface ApiLoadBalancer {
  /** Its address (a Terraform reference until apply). */
  readonly address: string;
  readonly port: number;
  /** Exists once the balancer does: the bootstrap runs after it. */
  readonly dependable: ITerraformDependable;
}

export interface ClusterMachines<N extends CloudNode> {
  readonly nodes: N[];
  readonly outputs: ClusterOutputs;
}

/**
 * What every cloud stack ends with once its network, image and firewall exist: one machine per
 * planned node booted from its Ignition, the outputs document, and the bootstrap run after the
 * machines when cluster.yaml asks for it.
 */
export function clusterMachines<N extends CloudNode>(stack: Construct, props: ClusterMachinesProps<N>): ClusterMachines<N> {
  const { cluster } = props;
  const nodes: N[] = [];
  const hosts: ClusterHost[] = [];
  for (const node of props.planned) {
    const ignition = nodeIgnition({
      hostname: node.name,
      role: node.role,
      os: props.os,
      sshAuthorizedKeys: cluster.sshAuthorizedKeys,
      images: cluster.images,
      flannelInterface: props.flannelInterface,
      rebootWindow: cluster.updates.rebootWindow,
    }).render();
    const machine = props.machine(node, ignition);
    nodes.push(machine);
    hosts.push({ name: node.name, role: node.role, address: machine.publicAddress, privateAddress: machine.privateAddress, user: SSH_USER, port: 22 });
  }
  const masters = nodes.filter((_, i) => props.planned[i].role === 'master');
  const balancer = masters.length > 1 ? props.apiLoadBalancer?.(masters) : undefined;
  const { podCidr, serviceCidr, dnsAddress, clusterDomain } = cluster.network;
  const outputs = new ClusterOutputs(stack, {
    clusterName: cluster.name,
    store: cluster.store,
    sshUser: SSH_USER,
    hosts,
    network: { podCidr, serviceCidr, dnsAddress, clusterDomain },
    // Absolute, since the bootstrap reads the outputs from the stack's directory under cdktf.out.
    sshIdentityFile: identityPath(cluster.bootstrap.identityFile),
    apiAddress: balancer ? `${balancer.address}:${balancer.port}` : undefined,
    nodeRegistry: cluster.bootstrap.nodeRegistry,
  });
  if (cluster.bootstrap.enabled) {
    const dependsOn = [...nodes.map((n) => n.machine), ...(balancer ? [balancer.dependable] : [])];
    new BootstrapRun(stack, 'bootstrap', { outputs: outputs.document, command: cluster.bootstrap.command, dependsOn });
  }
  return { nodes, outputs };
}

/** `~/...` stays for the bootstrap to expand on the user's machine; a relative path is taken from where synth runs. */
function identityPath(path: string | undefined): string | undefined {
  if (!path || path.startsWith('~/') || isAbsolute(path)) return path;
  return resolve(path);
}
