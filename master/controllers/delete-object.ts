import type { KubeClient } from '../../kube/client';
import { ApiError } from '../../kube/api-error';
import { resourcePath, type ResourceRef } from '../../kube/resource-path';

export interface DeleteOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  gracePeriodSeconds?: number;
}

/**
 * DELETE with its options in the query string and no body. A DELETE body goes out chunked from
 * Node's client, which Node's server answers with a bare 400 (the deletion itself happens), so
 * controllers pass options as query parameters, which the API accepts as well.
 */
export async function deleteObject(client: KubeClient, ref: ResourceRef, opts: DeleteOptions = {}): Promise<void> {
  const q = new URLSearchParams();
  if (opts.propagationPolicy) q.set('propagationPolicy', opts.propagationPolicy);
  if (opts.gracePeriodSeconds !== undefined) q.set('gracePeriodSeconds', String(opts.gracePeriodSeconds));
  const qs = q.toString();
  const res = await client.raw('DELETE', resourcePath(ref) + (qs ? `?${qs}` : ''));
  if (res.status < 300) return;
  let st: Record<string, unknown> = {};
  try {
    st = JSON.parse(res.body) as Record<string, unknown>;
  } catch {
    // not a Status: keep the raw text below
  }
  throw new ApiError(res.status, String(st.reason ?? ''), `deleting ${resourcePath(ref)}: ${String(st.message ?? (res.body.slice(0, 300) || `HTTP ${res.status}`))}`, st);
}
