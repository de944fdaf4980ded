import type { Container, Pod, ServiceAccount, Volume } from 'kubernetes-types/core/v1';
import type { Obj, Registry } from './registry';
import { findResource, type ResourceInfo } from './resources';

const serviceAccounts = findResource('', 'v1', 'serviceaccounts') as ResourceInfo;

export const SERVICE_ACCOUNT_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
/** What the kubelet asks for; a little over an hour so that it differs from a user's 3600. */
const TOKEN_SECONDS = 3607;

/**
 * Kubernetes' ServiceAccount admission for a new pod: it runs as `default` unless it names
 * another account, and unless the pod or its ServiceAccount turns automountServiceAccountToken
 * off (the pod's word wins), it gets a projected `kube-api-access-*` volume (a bound token, the
 * cluster CA from kube-root-ca.crt, the namespace) mounted read-only in every container at
 * /var/run/secrets/kubernetes.io/serviceaccount. Unlike Kubernetes, a pod whose ServiceAccount
 * does not exist (yet) is admitted without the volume rather than refused, so clusters run
 * without the service-account loop keep working.
 */
export async function admitServiceAccount(registry: Registry, namespace: string, obj: Obj): Promise<void> {
  const pod = obj as unknown as Pod;
  const spec = pod.spec;
  if (!spec) return;
  const name = spec.serviceAccountName || spec.serviceAccount || 'default';
  spec.serviceAccountName = name;
  spec.serviceAccount = name;
  const account = (await registry.find(serviceAccounts, namespace, name)) as ServiceAccount | undefined;
  if (!account) return;
  const automount = spec.automountServiceAccountToken ?? account.automountServiceAccountToken ?? true;
  if (!automount) return;
  const containers: Container[] = [...spec.containers, ...(spec.initContainers ?? [])];
  if (containers.every((c) => (c.volumeMounts ?? []).some((m) => m.mountPath === SERVICE_ACCOUNT_MOUNT))) return;
  const volume = apiAccessVolume(new Set((spec.volumes ?? []).map((v) => v.name)));
  spec.volumes = [...(spec.volumes ?? []), volume];
  for (const c of containers) {
    if ((c.volumeMounts ?? []).some((m) => m.mountPath === SERVICE_ACCOUNT_MOUNT)) continue;
    c.volumeMounts = [...(c.volumeMounts ?? []), { name: volume.name, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT }];
  }
}

function apiAccessVolume(taken: Set<string>): Volume {
  let name: string;
  do name = `kube-api-access-${suffix()}`;
  while (taken.has(name));
  return {
    name,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: TOKEN_SECONDS, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
}

function suffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let s = '';
  for (let i = 0; i < 5; i++) s += alphabet[Math.floor(Math.random() * alphabet.length)];
  return s;
}
