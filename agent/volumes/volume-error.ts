/** A volume could not be set up; the pod waits (ContainerCreating) with this message. */
export class VolumeError extends Error {
  override name = 'VolumeError';
}
