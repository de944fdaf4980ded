import type { TerraformMetaArguments } from 'cdktf';
import type { Construct } from 'constructs';
import { GenericResource, type ProviderIdentity, type TerraformAttributes } from '../../common/generic-resource';

/** scaleway/scaleway has no prebuilt cdktf binding; pinned so a plan is repeatable. */
export const SCALEWAY_PROVIDER: ProviderIdentity = { source: 'scaleway/scaleway', name: 'scaleway', versionConstraint: '~> 2.50' };

/** Base of the few scaleway resources the stack uses. */
export abstract class ScalewayResource extends GenericResource {
  protected constructor(scope: Construct, id: string, type: string, attributes: TerraformAttributes, meta: TerraformMetaArguments = {}) {
    super(scope, id, SCALEWAY_PROVIDER, type, attributes, meta);
  }
}
