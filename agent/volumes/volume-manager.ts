import fs from 'node:fs';
import path from 'node:path';
import type { Container, KeyToPath, Pod, Volume } from 'kubernetes-types/core/v1';
import type { ContainerRuntime, Mount } from '../runtime/container-runtime';
import type { ObjectSource } from '../object-source';
import { fieldRefValue } from '../../kube/field-ref';
import { LOCAL_PATH_ROOT } from '../../kube/local-path';
import { quantityInt } from '../../kube/quantity';
import { VolumeError } from './volume-error';
import { project, safeRelative, type ProjectionRecords } from './projection';

/** Where a pod volume lives: a host path, or a runtime volume (a memory-backed emptyDir); `relabel`: a directory the agent manages, so SELinux may relabel it. */
export type VolumeSource = { kind: 'bind'; path: string; relabel: boolean } | { kind: 'volume'; name: string };

/** What the manager needs of the runtime: tmpfs volumes for emptyDirs with medium Memory. */
export type MemoryVolumeRuntime = Pick<ContainerRuntime, 'ensureMemoryVolume'>;

/**
 * Lays out a pod's volumes under DATA/pods/UID/volumes/TYPE/NAME and turns volumeMounts into
 * bind mounts. ConfigMaps, Secrets and ServiceAccount tokens are projected as files and refreshed
 * on every sync (a token when it is due for rotation).
 * emptyDirs with medium Memory are tmpfs volumes of the runtime instead.
 */
export class VolumeManager {
  /** Per pod UID: what its projections left on disk, so a resync stats its files instead of reading them. */
  private readonly projections = new Map<string, ProjectionRecords>();

  constructor(private readonly podsDir: string, private readonly objects: ObjectSource, private readonly runtime: MemoryVolumeRuntime) {}

  podDir(uid: string): string {
    return path.join(this.podsDir, uid);
  }

  /** Creates or refreshes every volume of the pod; returns where each lives, by volume name. */
  async setUp(pod: Pod): Promise<Map<string, VolumeSource>> {
    const sources = new Map<string, VolumeSource>();
    for (const volume of pod.spec?.volumes ?? []) sources.set(volume.name, await this.setUpOne(pod, volume));
    return sources;
  }

  /** Runtime names of the pod's memory-backed emptyDirs, created if missing (the sandbox holds them). */
  async memoryVolumes(pod: Pod): Promise<string[]> {
    const names: string[] = [];
    for (const volume of pod.spec?.volumes ?? []) if (isMemory(volume)) names.push(await this.memoryVolume(pod, volume));
    return names;
  }

  mounts(container: Container, volumes: Map<string, VolumeSource>): Mount[] {
    return (container.volumeMounts ?? []).map((m) => {
      const volume = volumes.get(m.name);
      if (!volume) throw new VolumeError(`container "${container.name}" mounts volume "${m.name}", which the pod does not declare`);
      const readOnly = m.readOnly ?? false;
      if (volume.kind === 'volume') {
        // The engine mounts a named volume whole; a sub-path of one needs API features podman 4 lacks.
        if (m.subPath) throw new VolumeError(`container "${container.name}" mounts subPath "${m.subPath}" of volume "${m.name}", a medium: Memory emptyDir, which this agent cannot mount in part`);
        return { kind: 'volume', source: volume.name, containerPath: m.mountPath, readOnly };
      }
      const source = m.subPath ? path.join(volume.path, safeRelative(m.subPath)) : volume.path;
      if (m.subPath && !fs.existsSync(source)) fs.mkdirSync(source, { recursive: true });
      return { kind: 'bind', source, containerPath: m.mountPath, readOnly, selinuxRelabel: volume.relabel };
    });
  }

  /** Removes the pod's directory (emptyDirs and projections); hostPath contents stay untouched. */
  tearDown(uid: string): void {
    this.objects.tokens.forget(uid);
    this.projections.delete(uid);
    fs.rmSync(this.podDir(uid), { recursive: true, force: true });
  }

  /** Pod UIDs that still have a directory here, to clean up after pods that vanished while we were down. */
  knownPods(): string[] {
    try {
      return fs.readdirSync(this.podsDir);
    } catch {
      return [];
    }
  }

  private async memoryVolume(pod: Pod, volume: Volume): Promise<string> {
    const limit = volume.emptyDir?.sizeLimit;
    try {
      return await this.runtime.ensureMemoryVolume({
        pod: { uid: pod.metadata?.uid ?? '', name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? 'default' },
        name: volume.name,
        sizeBytes: limit === undefined ? undefined : quantityInt(limit),
      });
    } catch (err) {
      throw new VolumeError(`emptyDir "${volume.name}" (medium Memory): ${(err as Error).message}`);
    }
  }

  private async setUpOne(pod: Pod, volume: Volume): Promise<VolumeSource> {
    if (isMemory(volume)) return { kind: 'volume', name: await this.memoryVolume(pod, volume) };
    // The kubelet relabels the volumes it creates, never a hostPath: relabelling /etc or a
    // database's directory for one pod would lock out the host's own services.
    return { kind: 'bind', path: await this.setUpDirectory(pod, volume), relabel: !volume.hostPath };
  }

  private recordsOf(uid: string): ProjectionRecords {
    let records = this.projections.get(uid);
    if (!records) this.projections.set(uid, (records = new Map()));
    return records;
  }

  private async setUpDirectory(pod: Pod, volume: Volume): Promise<string> {
    const uid = pod.metadata?.uid ?? '';
    const dir = (type: string): string => path.join(this.podDir(uid), 'volumes', type, volume.name);
    const ns = pod.metadata?.namespace ?? 'default';
    if (volume.hostPath) return hostPath(volume.hostPath.path, volume.hostPath.type ?? '');
    if (volume.persistentVolumeClaim) return this.claimDirectory(ns, volume.persistentVolumeClaim.claimName);
    if (volume.emptyDir || Object.keys(volume).length === 1) {
      const d = dir('empty-dir');
      // World-writable when made (the umask aside), as the kubelet makes it; not again at each
      // sync: that would undo a container's own chmod and change the inode every 30 s.
      if (fs.mkdirSync(d, { recursive: true, mode: 0o777 }) !== undefined) fs.chmodSync(d, 0o777);
      return d;
    }
    // The rest are projections: their files are stat-ed, not read back, at each resync.
    const records = this.recordsOf(uid);
    if (volume.configMap) {
      const cm = await this.objects.configMap(ns, volume.configMap.name ?? '');
      if (!cm && !volume.configMap.optional) throw new VolumeError(`configmap "${volume.configMap.name}" not found (volume "${volume.name}")`);
      const files = { ...(cm?.data ?? {}) } as Record<string, string | Buffer>;
      for (const [k, v] of Object.entries(cm?.binaryData ?? {})) files[k] = Buffer.from(v, 'base64');
      return project(dir('configmap'), files, volume.configMap.items, volume.configMap.defaultMode, `configmap "${volume.configMap.name}"`, records);
    }
    if (volume.secret) {
      const secret = await this.objects.secret(ns, volume.secret.secretName ?? '');
      if (!secret && !volume.secret.optional) throw new VolumeError(`secret "${volume.secret.secretName}" not found (volume "${volume.name}")`);
      const files: Record<string, Buffer> = {};
      for (const [k, v] of Object.entries(secret?.data ?? {})) files[k] = Buffer.from(v, 'base64');
      for (const [k, v] of Object.entries(secret?.stringData ?? {})) files[k] = Buffer.from(v);
      return project(dir('secret'), files, volume.secret.items, volume.secret.defaultMode ?? 0o644, `secret "${volume.secret.secretName}"`, records);
    }
    if (volume.downwardAPI) {
      const files: Record<string, string> = {};
      for (const item of volume.downwardAPI.items ?? []) {
        if (item.fieldRef) files[item.path] = fieldRefValue(pod, item.fieldRef.fieldPath, '');
      }
      return project(dir('downward-api'), files, undefined, volume.downwardAPI.defaultMode, 'downwardAPI', records);
    }
    if (volume.projected) {
      const files: Record<string, string | Buffer> = {};
      for (const source of volume.projected.sources ?? []) {
        if (source.configMap) {
          const cm = await this.objects.configMap(ns, source.configMap.name ?? '');
          if (!cm && !source.configMap.optional) throw new VolumeError(`configmap "${source.configMap.name}" not found (volume "${volume.name}")`);
          Object.assign(files, pick(cm?.data ?? {}, source.configMap.items));
        } else if (source.secret) {
          const s = await this.objects.secret(ns, source.secret.name ?? '');
          if (!s && !source.secret.optional) throw new VolumeError(`secret "${source.secret.name}" not found (volume "${volume.name}")`);
          const decoded = Object.fromEntries(Object.entries(s?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
          Object.assign(files, pick(decoded, source.secret.items));
        } else if (source.downwardAPI) {
          for (const item of source.downwardAPI.items ?? []) if (item.fieldRef) files[item.path] = fieldRefValue(pod, item.fieldRef.fieldPath, '');
        } else if (source.serviceAccountToken) {
          const t = source.serviceAccountToken;
          try {
            files[t.path] = await this.objects.tokens.token(pod, t.audience, t.expirationSeconds);
          } catch (err) {
            throw new VolumeError(`cannot get a token for ServiceAccount "${pod.spec?.serviceAccountName ?? 'default'}" (volume "${volume.name}"): ${(err as Error).message}`);
          }
        }
      }
      return project(dir('projected'), files, undefined, volume.projected.defaultMode, 'projected volume', records);
    }
    throw new VolumeError(`volume "${volume.name}" uses a type this agent does not support (emptyDir, hostPath, configMap, secret, downwardAPI, projected and persistentVolumeClaim are)`);
  }

  /**
   * The directory of a bound claim's volume (a local or hostPath PersistentVolume), made if the
   * volume is a local-path one; the pod waits while the claim is not bound yet.
   */
  private async claimDirectory(namespace: string, claimName: string): Promise<string> {
    const claim = await this.objects.claim(namespace, claimName);
    if (!claim) throw new VolumeError(`persistentvolumeclaim "${claimName}" not found`);
    const pvName = claim.spec?.volumeName;
    if (!pvName || claim.status?.phase !== 'Bound') throw new VolumeError(`persistentvolumeclaim "${claimName}" is not bound yet`);
    const pv = await this.objects.volume(pvName);
    const dir = pv?.spec?.local?.path ?? pv?.spec?.hostPath?.path;
    if (!dir) throw new VolumeError(`persistentvolume "${pvName}" of claim "${claimName}" is not a local or hostPath volume, the kinds this agent mounts`);
    if (pv?.spec?.local && path.dirname(dir) === LOCAL_PATH_ROOT && !fs.existsSync(dir)) {
      // Writable by any container user, as k3s's local-path directories are.
      fs.mkdirSync(dir, { recursive: true });
      fs.chmodSync(dir, 0o777);
    }
    if (!fs.existsSync(dir)) throw new VolumeError(`persistentvolume "${pvName}": ${dir} does not exist on this node`);
    return dir;
  }
}

function isMemory(volume: Volume): boolean {
  return volume.emptyDir?.medium === 'Memory';
}

function hostPath(p: string, type: string): string {
  const exists = fs.existsSync(p);
  switch (type) {
    case 'DirectoryOrCreate':
      fs.mkdirSync(p, { recursive: true, mode: 0o755 });
      break;
    case 'FileOrCreate':
      if (!exists) {
        fs.mkdirSync(path.dirname(p), { recursive: true });
        fs.writeFileSync(p, '', { mode: 0o644 });
      }
      break;
    case 'Directory':
      if (!exists || !fs.statSync(p).isDirectory()) throw new VolumeError(`hostPath ${p} is not a directory`);
      break;
    case 'File':
      if (!exists || !fs.statSync(p).isFile()) throw new VolumeError(`hostPath ${p} is not a file`);
      break;
    case 'Socket':
      if (!exists || !fs.statSync(p).isSocket()) throw new VolumeError(`hostPath ${p} is not a socket`);
      break;
    default:
      break;
  }
  return p;
}

function pick<T>(all: Record<string, T>, items: KeyToPath[] | undefined): Record<string, T> {
  if (!items?.length) return all;
  const out: Record<string, T> = {};
  for (const item of items) if (item.key in all) out[item.path] = all[item.key];
  return out;
}

