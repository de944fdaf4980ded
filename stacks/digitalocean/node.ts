import { Droplet } from '@cdktf/provider-digitalocean/lib/droplet';
import { Construct } from 'constructs';
import type { CloudNode } from '../common/cloud-node';
import type { PlannedNode } from '../common/node-plan';

export interface DigitalOceanNodeProps {
  readonly node: PlannedNode;
  readonly region: string;
  readonly size: string;
  readonly image: string;
  readonly vpcUuid: string;
  readonly sshKeys: readonly string[];
  /** Rendered Ignition config, read by the OS from user_data on first boot. */
  readonly ignition: string;
  readonly tags: readonly string[];
}

/** One droplet from the imported OS image. */
export class DigitalOceanNode extends Construct implements CloudNode {
  readonly droplet: Droplet;

  constructor(scope: Construct, id: string, props: DigitalOceanNodeProps) {
    super(scope, id);
    this.droplet = new Droplet(this, 'droplet', {
      name: props.node.name,
      region: props.region,
      size: props.size,
      image: props.image,
      vpcUuid: props.vpcUuid,
      sshKeys: [...props.sshKeys],
      userData: props.ignition,
      tags: [...props.tags],
      monitoring: false,
    });
  }

  get machine(): Droplet {
    return this.droplet;
  }

  get publicAddress(): string {
    return this.droplet.ipv4Address;
  }

  get privateAddress(): string {
    return this.droplet.ipv4AddressPrivate;
  }
}
