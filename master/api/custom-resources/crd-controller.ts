import type { Logger } from 'pino';
import type { Store, StoreWatch } from '../../store/store';
import type { Obj, Registry } from '../registry';
import type { ResourceCatalog } from '../resource-catalog';
import type { ResourceInfo } from '../resources';
import { HttpError } from '../status';
import { cleanupFinalizer, type Crd, type CrdCondition, type CrdNames } from './crd-types';
import { servedVersions } from './served-versions';

const crdPrefix = '/registry/apiextensions.k8s.io/customresourcedefinitions/';
const retryMs = 1000;

/**
 * Serves what the CustomResourceDefinitions in the store define, in every master: it follows the
 * CRDs with a store watch, puts their versions into this server's catalog (so discovery, OpenAPI and
 * the REST paths know them within milliseconds of a write, whichever master took it), writes their
 * NamesAccepted/Established conditions, and, when a CRD is deleted, deletes its objects before
 * letting the CRD go (Kubernetes' customresourcecleanup finalizer).
 */
export class CrdController {
  private readonly crds = new Map<string, Crd>();
  private watch: StoreWatch | undefined;
  private stopped = false;
  private readonly busy = new Set<string>();
  private readonly again = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly store: Store,
    private readonly registry: Registry,
    private readonly catalog: ResourceCatalog,
    private readonly log: Logger,
  ) {}

  /** Resolves once every CRD in the store is served. */
  async start(): Promise<void> {
    const page = await this.store.list(crdPrefix);
    for (const sv of page.items) this.crds.set(nameOf(sv.key), sv.value as Crd);
    for (const name of this.crds.keys()) this.changed(name);
    this.watch = this.store.watch(crdPrefix, page.revision, {
      onEvent: (e) => {
        const name = nameOf(e.key);
        if (e.type === 'DELETED') this.crds.delete(name);
        else this.crds.set(name, e.value as Crd);
        this.changed(name);
      },
      onError: (err) => {
        this.watch = undefined;
        if (this.stopped) return;
        this.log.warn({ err: err.message }, 'CustomResourceDefinition watch ended; listing them again');
        this.later(() => void this.start().catch((e: Error) => this.log.warn({ err: e.message }, 'listing CustomResourceDefinitions failed')));
      },
    });
  }

  stop(): void {
    this.stopped = true;
    this.watch?.stop();
    for (const t of this.timers) clearTimeout(t);
  }

  private changed(name: string): void {
    this.serve(name);
    void this.reconcile(name);
  }

  /** Puts the CRD's versions into the catalog, or takes them out (deleted, or names in conflict). */
  private serve(name: string): void {
    const crd = this.crds.get(name);
    if (!crd || conflict(crd, this.crds)) {
      this.catalog.setCustom(name, [], new Map());
      return;
    }
    const { resources, schemas } = servedVersions(crd, Boolean(crd.metadata?.deletionTimestamp));
    this.catalog.setCustom(name, resources, schemas);
  }

  /** One reconcile per CRD at a time; a change during one runs another after it. */
  private async reconcile(name: string): Promise<void> {
    if (this.busy.has(name)) {
      this.again.add(name);
      return;
    }
    this.busy.add(name);
    try {
      const crd = this.crds.get(name);
      if (crd?.metadata?.deletionTimestamp) await this.cleanUp(name, crd);
      else if (crd) await this.writeStatus(name, crd);
    } catch (err) {
      if (!this.stopped && !(err instanceof HttpError && err.code === 404)) {
        this.log.warn({ crd: name, err: (err as Error).message }, 'CustomResourceDefinition reconcile failed; retrying');
        this.later(() => void this.reconcile(name));
      }
    } finally {
      this.busy.delete(name);
      if (this.again.delete(name) && !this.stopped) void this.reconcile(name);
    }
  }

  private async writeStatus(name: string, crd: Crd): Promise<void> {
    const clash = conflict(crd, this.crds);
    const storage = crd.spec?.versions?.find((v) => v.storage)?.name;
    await this.registry.update(this.crdResource(), undefined, name, (current) => {
      const c = current as Crd;
      const status = { ...(c.status ?? {}) };
      const stored = new Set(status.storedVersions ?? []);
      if (storage) stored.add(storage);
      status.storedVersions = [...stored];
      if (clash) {
        status.conditions = setCondition(status.conditions, { type: 'NamesAccepted', status: 'False', reason: 'NameConflict', message: clash });
        status.conditions = setCondition(status.conditions, { type: 'Established', status: 'False', reason: 'NotAccepted', message: 'not all names are accepted' });
      } else {
        status.acceptedNames = acceptedNames(c.spec?.names ?? {});
        status.conditions = setCondition(status.conditions, { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' });
        status.conditions = setCondition(status.conditions, { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' });
      }
      return { ...current, status } as Obj;
    }, { subresource: 'status' });
  }

  /** Deletes every object of the CRD (all versions share one key prefix), then drops the finalizer. */
  private async cleanUp(name: string, crd: Crd): Promise<void> {
    if (!(crd.metadata?.finalizers ?? []).includes(cleanupFinalizer)) return;
    const r = this.storageResource(crd);
    const { items } = await this.registry.list(r, undefined);
    if (items.length > 0) {
      await this.registry.update(this.crdResource(), undefined, name, (current) => {
        const status = { ...((current as Crd).status ?? {}) };
        status.conditions = setCondition(status.conditions, { type: 'Terminating', status: 'True', reason: 'InstanceDeletionInProgress', message: 'CustomResource deletion is in progress' });
        return { ...current, status } as Obj;
      }, { subresource: 'status' });
      for (const item of items) {
        if (item.metadata?.deletionTimestamp) continue;
        await this.registry.delete(r, item.metadata?.namespace, String(item.metadata?.name)).catch((err: unknown) => {
          if (!(err instanceof HttpError && err.code === 404)) throw err;
        });
      }
      // Objects with finalizers of their own stay until their controllers let them go: look again.
      this.later(() => void this.reconcile(name));
      return;
    }
    await this.registry.update(this.crdResource(), undefined, name, (current) => {
      const meta = { ...(current.metadata ?? {}) };
      meta.finalizers = (meta.finalizers ?? []).filter((f) => f !== cleanupFinalizer);
      return { ...current, metadata: meta };
    });
  }

  private crdResource(): ResourceInfo {
    return this.catalog.find('apiextensions.k8s.io', 'v1', 'customresourcedefinitions') as ResourceInfo;
  }

  /** A resource for the CRD's objects even when no version is served any more. */
  private storageResource(crd: Crd): ResourceInfo {
    const version = crd.spec?.versions?.find((v) => v.storage)?.name ?? crd.spec?.versions?.[0]?.name ?? 'v1';
    return {
      group: crd.spec?.group ?? '',
      version,
      kind: crd.spec?.names?.kind ?? '',
      plural: crd.spec?.names?.plural ?? '',
      singular: crd.spec?.names?.singular ?? '',
      namespaced: crd.spec?.scope !== 'Cluster',
      subresources: [],
      schema: '',
      validator: '',
    };
  }

  private later(fn: () => void): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, retryMs);
    this.timers.add(t);
  }
}

function nameOf(key: string): string {
  return key.slice(crdPrefix.length);
}

function acceptedNames(names: CrdNames): CrdNames {
  const kind = names.kind ?? '';
  return {
    plural: names.plural,
    singular: names.singular ?? kind.toLowerCase(),
    kind,
    listKind: names.listKind ?? `${kind}List`,
    ...(names.shortNames?.length ? { shortNames: names.shortNames } : {}),
    ...(names.categories?.length ? { categories: names.categories } : {}),
  };
}

/**
 * Why the CRD's names cannot be served (another CRD of the group, created earlier, already uses its
 * kind, singular or a short name), or undefined.
 */
function conflict(crd: Crd, all: Map<string, Crd>): string | undefined {
  const mine = crd.spec?.names ?? {};
  const created = crd.metadata?.creationTimestamp as string | undefined;
  for (const [name, other] of all) {
    if (name === crd.metadata?.name || other.spec?.group !== crd.spec?.group) continue;
    const theirs = other.spec?.names ?? {};
    const older = String(other.metadata?.creationTimestamp ?? '') < String(created ?? '') || (other.metadata?.creationTimestamp === created && name < String(crd.metadata?.name));
    if (!older) continue;
    if (theirs.kind && theirs.kind === mine.kind) return `"${mine.kind}" is already in use`;
    if (theirs.singular && theirs.singular === mine.singular) return `"${mine.singular}" is already in use`;
    const short = (mine.shortNames ?? []).find((s) => (theirs.shortNames ?? []).includes(s));
    if (short) return `"${short}" is already in use`;
  }
  return undefined;
}

function setCondition(conditions: CrdCondition[] | undefined, next: Omit<CrdCondition, 'lastTransitionTime'>): CrdCondition[] {
  const list = conditions ?? [];
  const old = list.find((c) => c.type === next.type);
  if (old && old.status === next.status && old.reason === next.reason && old.message === next.message) return list;
  const lastTransitionTime = old && old.status === next.status ? old.lastTransitionTime : new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  return [...list.filter((c) => c.type !== next.type), { ...next, lastTransitionTime }];
}
