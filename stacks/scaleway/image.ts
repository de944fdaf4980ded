import { Construct } from 'constructs';
import type { ScalewayConfig } from '../config/cluster-config';
import { ImportedSnapshot, InstanceImage } from './resources/flatcar-image';

export interface ScalewayImageProps {
  readonly name: string;
  readonly config: ScalewayConfig;
  readonly tags: readonly string[];
}

/**
 * The Flatcar image servers boot from: either one the user already has (scaleway.image), or
 * imported by the stack from Flatcar's Scaleway qcow2 in Object Storage (scaleway.imageObject).
 */
export class ScalewayImage extends Construct {
  readonly imageId: string;

  constructor(scope: Construct, id: string, props: ScalewayImageProps) {
    super(scope, id);
    const { config } = props;
    if (config.image) {
      this.imageId = config.image;
      return;
    }
    const object = config.imageObject!; // validate.ts requires exactly one of image / imageObject
    const snapshot = new ImportedSnapshot(this, 'snapshot', { name: props.name, zone: config.zone, bucket: object.bucket, key: object.key, tags: props.tags });
    this.imageId = new InstanceImage(this, 'image', { name: props.name, zone: config.zone, rootVolumeId: snapshot.id, tags: props.tags }).id;
  }
}
