import { Construct } from 'constructs';
import type { OperatingSystem } from '../config/cluster-config';

export interface GceImageProps {
  readonly os: OperatingSystem;
  readonly stream: string;
}

/**
 * The OS image machines boot from. Both vendors publish public GCE image families (FCOS in
 * fedora-coreos-cloud, Flatcar in kinvolk-public), so unlike the other clouds nothing is imported:
 * this construct only names the family, and each boot takes the family's newest image.
 */
export class GceImage extends Construct {
  readonly image: string;

  constructor(scope: Construct, id: string, props: GceImageProps) {
    super(scope, id);
    this.image =
      props.os === 'fedora-coreos'
        ? `projects/fedora-coreos-cloud/global/images/family/fedora-coreos-${props.stream}`
        : `projects/kinvolk-public/global/images/family/flatcar-${props.stream}`;
  }
}
