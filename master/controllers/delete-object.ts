import type { KubeClient } from '../../kube/client';
import { ApiError } from '../../kube/api-error';
import { resourcePath, type ResourceRef } from '../../kube/resource-path';

export interface DeleteOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  gracePeriodSeconds?: number;
  /** Delete only this incarnation of the object (a new one with the same name is left alone). */
  preconditions?: { uid?: string };
}

/** DELETE through the client; a failure names the object, so controller logs say what could not be deleted. */
export async function deleteObject(client: KubeClient, ref: ResourceRef, opts: DeleteOptions = {}): Promise<void> {
  try {
    await client.delete(ref, { ...opts });
  } catch (err) {
    if (err instanceof ApiError) throw new ApiError(err.code, err.reason, `deleting ${resourcePath(ref)}: ${err.message}`, err.status);
    throw err;
  }
}
