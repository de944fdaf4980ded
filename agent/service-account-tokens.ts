import type { Pod } from 'kubernetes-types/core/v1';
import type { KubeClient } from '../kube/client';
import type { KubeObject } from '../kube/object';
import { core } from '../kube/resource-path';

interface Held {
  token: string;
  issuedAt: number;
  expiresAt: number;
}

/** The kubelet's rule: replace a token once 80% of its life is gone, or after a day at most. */
const ROTATE_AT = 0.8;
const MAX_AGE_MS = 24 * 3600 * 1000;

/**
 * Bound ServiceAccount tokens for the pods of this node, requested from the API (TokenRequest,
 * bound to the pod) and held until they are due for rotation. The volume manager asks on every
 * pod sync and writes whatever it gets, so a rotated token reaches the pod's file on the next sync.
 */
export class ServiceAccountTokens {
  private readonly held = new Map<string, Held>();

  constructor(private readonly client: KubeClient) {}

  async token(pod: Pod, audience: string | undefined, expirationSeconds: number | undefined): Promise<string> {
    const uid = pod.metadata?.uid ?? '';
    const key = `${uid}\u0000${audience ?? ''}\u0000${expirationSeconds ?? ''}`;
    const now = Date.now();
    const have = this.held.get(key);
    if (have && now < rotationDue(have)) return have.token;
    const account = pod.spec?.serviceAccountName || 'default';
    const namespace = pod.metadata?.namespace ?? 'default';
    const body = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        ...(audience ? { audiences: [audience] } : {}),
        expirationSeconds: expirationSeconds ?? 3600,
        boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: pod.metadata?.name, uid },
      },
    };
    // Refused (429): the pod's volume set-up backs off and asks again, not this client.
    const res = await this.client.create<KubeObject & { status?: { token?: string; expirationTimestamp?: string } }>(core('serviceaccounts', namespace, account, 'token'), body, { resendRefused: false });
    const token = res.status?.token;
    if (!token) throw new Error(`the API returned no token for ServiceAccount ${namespace}/${account}`);
    const expiresAt = Date.parse(res.status?.expirationTimestamp ?? '') || now + (expirationSeconds ?? 3600) * 1000;
    this.held.set(key, { token, issuedAt: now, expiresAt });
    return token;
  }

  /** Drops what was held for a pod that is gone. */
  forget(podUid: string): void {
    for (const key of this.held.keys()) if (key.startsWith(`${podUid}\u0000`)) this.held.delete(key);
  }
}

export function rotationDue(h: { issuedAt: number; expiresAt: number }): number {
  return Math.min(h.issuedAt + (h.expiresAt - h.issuedAt) * ROTATE_AT, h.issuedAt + MAX_AGE_MS);
}
