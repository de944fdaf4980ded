import { CustomImage } from '@cdktf/provider-digitalocean/lib/custom-image';
import { Construct } from 'constructs';
import type { DigitalOceanConfig, OperatingSystem } from '../config/cluster-config';

/**
 * Neither OS is a DigitalOcean stock image, so the stack imports the vendor's DigitalOcean build.
 * FCOS publishes per release (pin digitalocean.fcosVersion, see the stream metadata at
 * https://builds.coreos.fedoraproject.org/streams/STREAM.json); Flatcar has a `current` link per channel.
 */
export function digitalOceanImageUrl(os: OperatingSystem, stream: string, config: DigitalOceanConfig): string {
  if (config.imageUrl) return config.imageUrl;
  if (os === 'flatcar') return `https://${stream}.release.flatcar-linux.net/amd64-usr/current/flatcar_production_digitalocean_image.bin.bz2`;
  const v = config.fcosVersion;
  return `https://builds.coreos.fedoraproject.org/prod/streams/${stream}/builds/${v}/x86_64/fedora-coreos-${v}-digitalocean.x86_64.qcow2.gz`;
}

export interface DigitalOceanImageProps {
  readonly name: string;
  readonly region: string;
  readonly url: string;
  readonly os: OperatingSystem;
  readonly tags: readonly string[];
}

/** The OS image, imported once into the cluster's region and deleted with the stack. */
export class DigitalOceanImage extends Construct {
  readonly image: CustomImage;

  constructor(scope: Construct, id: string, props: DigitalOceanImageProps) {
    super(scope, id);
    this.image = new CustomImage(this, 'image', {
      name: props.name,
      url: props.url,
      regions: [props.region],
      distribution: props.os === 'fedora-coreos' ? 'Fedora' : 'CoreOS',
      description: `lotse ${props.os} image`,
      tags: [...props.tags],
    });
  }
}
