import type { Construct } from 'constructs';
import { GenericProvider } from '../../common/generic-resource';
import { SCALEWAY_PROVIDER } from './scaleway-resource';

export interface ScalewayProviderProps {
  readonly zone: string;
  /** Default: SCW_DEFAULT_PROJECT_ID. Keys always come from SCW_ACCESS_KEY / SCW_SECRET_KEY. */
  readonly projectId?: string;
}

/** The scaleway provider block; credentials stay in the environment. */
export class ScalewayProvider extends GenericProvider {
  constructor(scope: Construct, id: string, props: ScalewayProviderProps) {
    super(scope, id, SCALEWAY_PROVIDER, { zone: props.zone, region: props.zone.replace(/-\d+$/, ''), project_id: props.projectId });
  }
}
