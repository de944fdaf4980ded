import { Construct } from 'constructs';
import type { PlannedNode } from '../common/node-plan';
import { InstanceIp } from './resources/instance-ip';
import { InstanceServer } from './resources/instance-server';

export interface ScalewayNodeProps {
  readonly node: PlannedNode;
  readonly zone: string;
  readonly type: string;
  readonly image: string;
  readonly securityGroupId: string;
  readonly diskSizeGb: number;
  readonly ignition: string;
  readonly tags: readonly string[];
}

/**
 * One Flatcar server. Its flexible IP is made by the stack first,
 * because the security groups list every machine's address before any server exists.
 */
export class ScalewayNode extends Construct {
  readonly server: InstanceServer;

  constructor(scope: Construct, id: string, address: InstanceIp, props: ScalewayNodeProps) {
    super(scope, id);
    this.server = new InstanceServer(this, 'server', {
      name: props.node.name,
      zone: props.zone,
      type: props.type,
      image: props.image,
      ipId: address.id,
      securityGroupId: props.securityGroupId,
      rootVolumeSizeGb: props.diskSizeGb,
      ignition: props.ignition,
      tags: props.tags,
    });
  }
}
