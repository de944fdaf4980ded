import type { Construct } from 'constructs';
import { ScalewayResource } from './scaleway-resource';

export interface ImportedImageProps {
  readonly name: string;
  readonly zone: string;
  /** Flatcar's Scaleway qcow2 (flatcar_production_scaleway_image.qcow2) in an Object Storage bucket of the same region. */
  readonly bucket: string;
  readonly key: string;
  readonly tags?: readonly string[];
}

/** scaleway_block_snapshot imported from Object Storage: Scaleway has no Flatcar image of its own. */
export class ImportedSnapshot extends ScalewayResource {
  constructor(scope: Construct, id: string, props: ImportedImageProps) {
    super(scope, id, 'scaleway_block_snapshot', { name: props.name, zone: props.zone, import: { bucket: props.bucket, key: props.key }, tags: props.tags });
  }
}

/** scaleway_instance_image over that snapshot, which servers boot from. */
export class InstanceImage extends ScalewayResource {
  constructor(scope: Construct, id: string, props: { name: string; zone: string; rootVolumeId: string; tags?: readonly string[] }) {
    super(scope, id, 'scaleway_instance_image', { name: props.name, zone: props.zone, root_volume_id: props.rootVolumeId, architecture: 'x86_64', tags: props.tags });
  }
}
