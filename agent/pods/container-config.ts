import crypto from 'node:crypto';
import type { Container, EnvVar, Pod } from 'kubernetes-types/core/v1';
import { cpuMillis, quantityInt } from '../../kube/quantity';
import type { ContainerKind, ContainerSpec } from '../runtime/container-runtime';
import type { ObjectSource } from '../object-source';
import type { VolumeManager, VolumeSource } from '../volumes/volume-manager';
import { fieldRefValue } from '../../kube/field-ref';
import { serviceEnv } from './service-env';

/** A container's configuration cannot be built (missing ConfigMap key...): CreateContainerConfigError. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Hash of the container spec; a container created from another spec is replaced. */
export function containerHash(container: Container): string {
  return crypto.createHash('sha256').update(JSON.stringify(container)).digest('hex').slice(0, 16);
}

export interface ConfigContext {
  pod: Pod;
  hostIP: string;
  podIP: string;
  volumes: Map<string, VolumeSource>;
  volumeManager: VolumeManager;
  objects: ObjectSource;
}

/** Turns a Pod's container into what the runtime creates: env resolved, limits in bytes and nanocpus. */
export async function buildContainerSpec(
  ctx: ConfigContext,
  container: Container,
  kind: Exclude<ContainerKind, 'sandbox'>,
  attempt: number,
): Promise<ContainerSpec> {
  const pod = ctx.pod;
  const env = await resolveEnv(ctx, container);
  const expand = (s: string): string => expandVars(s, env);
  const limits = container.resources?.limits ?? {};
  const requests = container.resources?.requests ?? {};
  const sc = container.securityContext ?? {};
  const podSc = pod.spec?.securityContext ?? {};
  const uid = sc.runAsUser ?? podSc.runAsUser;
  const gid = sc.runAsGroup ?? podSc.runAsGroup;
  const cpuRequest = requests.cpu ?? limits.cpu;
  return {
    pod: { uid: pod.metadata?.uid ?? '', name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? 'default' },
    name: container.name,
    kind,
    attempt,
    specHash: containerHash(container),
    image: container.image ?? '',
    entrypoint: container.command?.map(expand),
    cmd: container.args ? container.args.map(expand) : container.command ? [] : undefined,
    env: [...env].map(([k, v]) => `${k}=${v}`),
    workingDir: container.workingDir,
    mounts: ctx.volumeManager.mounts(container, ctx.volumes),
    memoryLimitBytes: limits.memory ? quantityInt(limits.memory) : undefined,
    nanoCpus: limits.cpu ? cpuMillis(limits.cpu) * 1_000_000 : undefined,
    cpuShares: cpuRequest ? Math.max(2, Math.floor((cpuMillis(cpuRequest) * 1024) / 1000)) : undefined,
    user: uid !== undefined ? (gid !== undefined ? `${uid}:${gid}` : String(uid)) : undefined,
    privileged: sc.privileged,
    readOnlyRootFilesystem: sc.readOnlyRootFilesystem,
    capAdd: sc.capabilities?.add,
    capDrop: sc.capabilities?.drop,
    tty: container.tty,
    stdin: container.stdin,
    stdinOnce: container.stdinOnce,
  };
}

/**
 * The service variables first, then envFrom, then env (later wins), with $(VAR) references to
 * earlier variables expanded.
 */
async function resolveEnv(ctx: ConfigContext, container: Container): Promise<Map<string, string>> {
  const ns = ctx.pod.metadata?.namespace ?? 'default';
  const env = await servicesOf(ctx, ns);
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef) {
      const cm = await ctx.objects.configMap(ns, from.configMapRef.name ?? '');
      if (!cm && !from.configMapRef.optional) throw new ConfigError(`configmap "${from.configMapRef.name}" not found`);
      for (const [k, v] of Object.entries(cm?.data ?? {})) env.set(prefix + k, v);
    }
    if (from.secretRef) {
      const s = await ctx.objects.secret(ns, from.secretRef.name ?? '');
      if (!s && !from.secretRef.optional) throw new ConfigError(`secret "${from.secretRef.name}" not found`);
      for (const [k, v] of Object.entries(s?.data ?? {})) env.set(prefix + k, Buffer.from(v, 'base64').toString());
    }
  }
  for (const e of container.env ?? []) {
    const value = await envValue(ctx, ns, e, container);
    if (value !== undefined) env.set(e.name, expandVars(value, env));
  }
  return env;
}

async function servicesOf(ctx: ConfigContext, ns: string): Promise<Map<string, string>> {
  const links = ctx.pod.spec?.enableServiceLinks !== false;
  const inNamespace = links ? await ctx.objects.services(ns) : [];
  const master = (ns === 'default' && links ? inNamespace : await ctx.objects.services('default')).find((s) => s.metadata?.name === 'kubernetes');
  return serviceEnv(inNamespace, master, links);
}

async function envValue(ctx: ConfigContext, ns: string, e: EnvVar, container: Container): Promise<string | undefined> {
  if (e.value !== undefined) return e.value;
  const from = e.valueFrom;
  if (!from) return '';
  if (from.fieldRef) return fieldRefValue(ctx.pod, from.fieldRef.fieldPath, ctx.hostIP, ctx.podIP);
  if (from.configMapKeyRef) {
    const ref = from.configMapKeyRef;
    const cm = await ctx.objects.configMap(ns, ref.name ?? '');
    const v = cm?.data?.[ref.key];
    if (v === undefined && !ref.optional) throw new ConfigError(cm ? `configmap "${ref.name}" has no key "${ref.key}"` : `configmap "${ref.name}" not found`);
    return v;
  }
  if (from.secretKeyRef) {
    const ref = from.secretKeyRef;
    const s = await ctx.objects.secret(ns, ref.name ?? '');
    const v = s?.data?.[ref.key];
    if (v === undefined && !ref.optional) throw new ConfigError(s ? `secret "${ref.name}" has no key "${ref.key}"` : `secret "${ref.name}" not found`);
    return v === undefined ? undefined : Buffer.from(v, 'base64').toString();
  }
  if (from.resourceFieldRef) {
    const r = from.resourceFieldRef;
    const c = r.containerName ? ctx.pod.spec?.containers.find((x) => x.name === r.containerName) ?? container : container;
    const [kind, res] = r.resource.split('.') as ['limits' | 'requests', string];
    const q = c.resources?.[kind]?.[res];
    if (q === undefined) return '';
    return res === 'cpu' ? String(Math.ceil(cpuMillis(q) / 1000)) : String(quantityInt(q));
  }
  return '';
}

/** Kubernetes' $(VAR) expansion: known names are replaced, $$ escapes, unknown references stay as written. */
export function expandVars(s: string, env: Map<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (whole, name: string | undefined) => {
    if (whole === '$$') return '$';
    return name !== undefined && env.has(name) ? (env.get(name) as string) : whole;
  });
}
