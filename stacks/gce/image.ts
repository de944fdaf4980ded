import type { OperatingSystem } from '../config/cluster-config';

/** Public image families: FCOS publishes in fedora-coreos-cloud, Flatcar in kinvolk-public. */
export function gceImage(os: OperatingSystem, stream: string): string {
  return os === 'fedora-coreos'
    ? `projects/fedora-coreos-cloud/global/images/family/fedora-coreos-${stream}`
    : `projects/kinvolk-public/global/images/family/flatcar-${stream}`;
}
