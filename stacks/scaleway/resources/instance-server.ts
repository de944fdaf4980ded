import type { ITerraformDependable } from 'cdktf';
import type { Construct } from 'constructs';
import { ScalewayResource } from './scaleway-resource';

export interface InstanceServerProps {
  readonly name: string;
  readonly zone: string;
  /** Commercial type, e.g. DEV1-M. */
  readonly type: string;
  readonly image: string;
  readonly ipId: string;
  readonly securityGroupId: string;
  readonly rootVolumeSizeGb: number;
  /** Flatcar reads its Ignition config from the `cloud-init` user-data key on Scaleway. */
  readonly ignition: string;
  readonly tags?: readonly string[];
  readonly dependsOn?: readonly ITerraformDependable[];
}

/** scaleway_instance_server booted from the Flatcar image with a flexible IP. */
export class InstanceServer extends ScalewayResource {
  constructor(scope: Construct, id: string, props: InstanceServerProps) {
    super(
      scope,
      id,
      'scaleway_instance_server',
      {
        name: props.name,
        zone: props.zone,
        type: props.type,
        image: props.image,
        ip_id: props.ipId,
        security_group_id: props.securityGroupId,
        root_volume: { size_in_gb: props.rootVolumeSizeGb, delete_on_termination: true },
        user_data: { 'cloud-init': props.ignition },
        tags: props.tags,
      },
      { dependsOn: props.dependsOn ? [...props.dependsOn] : undefined },
    );
  }
}
