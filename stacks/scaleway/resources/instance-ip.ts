import type { Construct } from 'constructs';
import { ScalewayResource } from './scaleway-resource';

export interface InstanceIpProps {
  readonly zone: string;
  readonly tags?: readonly string[];
}

/** scaleway_instance_ip: a flexible IPv4, kept across server replacement. */
export class InstanceIp extends ScalewayResource {
  constructor(scope: Construct, id: string, props: InstanceIpProps) {
    super(scope, id, 'scaleway_instance_ip', { zone: props.zone, tags: props.tags });
  }

  get address(): string {
    return this.getStringAttribute('address');
  }
}
