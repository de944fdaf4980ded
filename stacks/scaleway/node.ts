import { Construct } from 'constructs';
import type { CloudNode } from '../common/cloud-node';
import type { PlannedNode } from '../common/node-plan';
import type { InstanceIp } from './resources/instance-ip';
import { InstanceServer } from './resources/instance-server';

export interface ScalewayNodeProps {
  readonly node: PlannedNode;
  /** The server's flexible IP, made by the stack before the security groups that name it. */
  readonly ip: InstanceIp;
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
export class ScalewayNode extends Construct implements CloudNode {
  readonly server: InstanceServer;
  private readonly ip: InstanceIp;

  constructor(scope: Construct, id: string, props: ScalewayNodeProps) {
    super(scope, id);
    this.server = new InstanceServer(this, 'server', {
      name: props.node.name,
      zone: props.zone,
      type: props.type,
      image: props.image,
      ipId: props.ip.id,
      securityGroupId: props.securityGroupId,
      rootVolumeSizeGb: props.diskSizeGb,
      ignition: props.ignition,
      tags: props.tags,
    });
    this.ip = props.ip;
  }

  get machine(): InstanceServer {
    return this.server;
  }

  get publicAddress(): string {
    return this.ip.address;
  }

  /** The same flexible IP: the servers have no private network (see network.ts). */
  get privateAddress(): string {
    return this.ip.address;
  }
}
