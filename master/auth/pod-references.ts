import type { Container, EnvFromSource, EnvVar, Pod, Volume } from 'kubernetes-types/core/v1';

/** The Secrets and ConfigMaps (by name, in the pod's namespace) that a pod needs to run. */
export interface PodReferences {
  secrets: Set<string>;
  configMaps: Set<string>;
}

/**
 * What a node may read on behalf of a pod, as Kubernetes' node authorizer derives from its graph:
 * volumes (also projected ones), env and envFrom of every container kind, and image pull secrets.
 */
export function podReferences(pod: Pod): PodReferences {
  const refs: PodReferences = { secrets: new Set(), configMaps: new Set() };
  const spec = pod.spec;
  if (!spec) return refs;
  for (const s of spec.imagePullSecrets ?? []) if (s.name) refs.secrets.add(s.name);
  for (const v of spec.volumes ?? []) addVolume(refs, v);
  const containers: Pick<Container, 'env' | 'envFrom'>[] = [...spec.containers, ...(spec.initContainers ?? []), ...(spec.ephemeralContainers ?? [])];
  for (const c of containers) {
    for (const e of c.env ?? []) addEnv(refs, e);
    for (const e of c.envFrom ?? []) addEnvFrom(refs, e);
  }
  return refs;
}

function addVolume(refs: PodReferences, v: Volume): void {
  if (v.secret?.secretName) refs.secrets.add(v.secret.secretName);
  if (v.configMap?.name) refs.configMaps.add(v.configMap.name);
  for (const source of v.projected?.sources ?? []) {
    if (source.secret?.name) refs.secrets.add(source.secret.name);
    if (source.configMap?.name) refs.configMaps.add(source.configMap.name);
  }
}

function addEnv(refs: PodReferences, e: EnvVar): void {
  const secret = e.valueFrom?.secretKeyRef?.name;
  const configMap = e.valueFrom?.configMapKeyRef?.name;
  if (secret) refs.secrets.add(secret);
  if (configMap) refs.configMaps.add(configMap);
}

function addEnvFrom(refs: PodReferences, e: EnvFromSource): void {
  if (e.secretRef?.name) refs.secrets.add(e.secretRef.name);
  if (e.configMapRef?.name) refs.configMaps.add(e.configMapRef.name);
}
