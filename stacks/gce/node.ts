import { ComputeInstance } from '@cdktf/provider-google/lib/compute-instance';
import { Construct } from 'constructs';
import type { CloudNode } from '../common/cloud-node';
import type { PlannedNode } from '../common/node-plan';

export interface GceNodeProps {
  readonly node: PlannedNode;
  readonly zone: string;
  readonly machineType: string;
  readonly image: string;
  readonly diskSizeGb: number;
  readonly subnetwork: string;
  /** Rendered Ignition config: no secrets, well under the 256 KiB metadata limit. */
  readonly ignition: string;
  readonly tags: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  /** A reserved external address (masters); default: an ephemeral one. */
  readonly natIp?: string;
}

/** One machine, booted from the OS image with its Ignition in metadata `user-data`. */
export class GceNode extends Construct implements CloudNode {
  readonly instance: ComputeInstance;

  constructor(scope: Construct, id: string, props: GceNodeProps) {
    super(scope, id);
    this.instance = new ComputeInstance(this, 'instance', {
      name: props.node.name,
      zone: props.zone,
      machineType: props.machineType,
      tags: [...props.tags],
      labels: { ...props.labels },
      bootDisk: { initializeParams: { image: props.image, size: props.diskSizeGb, type: 'pd-balanced' } },
      networkInterface: [{ subnetwork: props.subnetwork, accessConfig: [props.natIp ? { natIp: props.natIp } : {}] }],
      metadata: {
        'user-data': props.ignition,
        // Only the keys in Ignition may log in; project-wide keys are someone else's.
        'block-project-ssh-keys': 'true',
      },
      allowStoppingForUpdate: true,
    });
  }

  get machine(): ComputeInstance {
    return this.instance;
  }

  get publicAddress(): string {
    return this.instance.networkInterface.get(0).accessConfig.get(0).natIp;
  }

  get privateAddress(): string {
    return this.instance.networkInterface.get(0).networkIp;
  }
}
