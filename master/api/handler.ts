import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Identity } from '../auth/identity';
import type { Store } from '../store/store';
import { Admission, type AdmissionMirrors } from './admission';
import { defaultCrd, validateCrd } from './custom-resources/crd-validation';
import { evictPod } from './eviction';
import { ObjectMirror } from './object-mirror';
import type { Crd } from './custom-resources/crd-types';
import { prepareCustomObject, unknownCustomFields } from './custom-resources/custom-object';
import { readPath, writePath } from './custom-resources/field-path';
import { customResourceTable } from './custom-resources/printer-columns';
import { isPlainObject, mediaType, parseBody, readBody } from './body';
import { applyDefaults, defaultStatus } from './defaults';
import { parseListOptions, resourceVersionOf } from './list-options';
import { checkObjectSize } from './limits/object-size';
import { generateJobSelector } from './job-selector';
import { unknownFields, type OpenApi } from './openapi/openapi';
import { applyPatch, parsePatch, patchKind } from './patch/apply-patch';
import { fieldManagerOf, forceOf } from './patch/field-manager';
import { recordUpdate, type UpdateWrite } from './patch/field-ownership';
import { rootType } from './patch/field-type';
import type { Operation } from './patch/managed-fields';
import { serverSideApply } from './patch/server-side-apply';
import type { SchemaLookup } from './patch/strategic-merge';
import { Registry, wantsEverything, type DeleteOptions, type Obj } from './registry';
import type { Items } from './item-pages';
import { queryFlag, type ResourceRequest } from './request-info';
import type { ResourceCatalog } from './resource-catalog';
import { apiVersionOf, resources, type ResourceInfo } from './resources';
import type { ServiceAllocator } from './service-allocator';
import { copyJson } from './json-copy';
import { errors, HttpError } from './status';
import { toTable, type IncludeObject } from './table';
import { typeErrors, validateObject } from './validation';
import { serveWatch, type WatchHooks } from './watch';
import type { WireText } from './wire-text';

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface HandlerOptions {
  bookmarkIntervalMs: number;
}

type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/**
 * Turns a parsed resource request into store operations with Kubernetes' semantics: defaults,
 * validation, admission, patches, dry-run, tables, watches.
 */
export class ResourceHandler {
  readonly registry: Registry;
  readonly admission: Admission;
  /** What admission reads on every create, followed by watches; stopped with the server. */
  readonly mirrors: AdmissionMirrors;
  private lookupFn: SchemaLookup | undefined;
  private lookupGeneration = -1;

  /**
   * One lookup per generation of the catalog: field types built from it are cached per lookup,
   * and a changed CRD schema must not be read through an old one.
   */
  private get lookup(): SchemaLookup {
    if (!this.lookupFn || this.lookupGeneration !== this.catalog.generation) {
      this.lookupGeneration = this.catalog.generation;
      this.lookupFn = (n) => this.openapi.schema(n);
    }
    return this.lookupFn;
  }

  constructor(
    private readonly store: Store,
    private readonly openapi: OpenApi,
    private readonly catalog: ResourceCatalog,
    allocator: ServiceAllocator,
    private readonly options: HandlerOptions,
  ) {
    this.registry = new Registry(store);
    const mirror = (plural: string): ObjectMirror => new ObjectMirror(store, resources.find((r) => r.plural === plural) as ResourceInfo, () => undefined);
    this.mirrors = { quotas: mirror('resourcequotas'), limitRanges: mirror('limitranges'), priorityClasses: mirror('priorityclasses') };
    this.admission = new Admission(this.registry, allocator, this.mirrors);
  }

  async handle(rr: ResourceRequest, req: IncomingMessage, res: ServerResponse, who: Identity, watchHooks: WatchHooks): Promise<Reply | undefined> {
    switch (rr.verb) {
      case 'get':
        return this.get(rr, req);
      case 'list':
        return this.list(rr, req);
      case 'watch':
        await this.watch(rr, res, watchHooks);
        return undefined;
      case 'create':
        return this.create(rr, req, who);
      case 'update':
        return this.update(rr, req, who);
      case 'patch':
        return this.patch(rr, req, who);
      case 'delete':
        return this.delete(rr, req, who);
      case 'deletecollection':
        return this.deleteCollection(rr, req);
    }
  }

  private async get(rr: ResourceRequest, req: IncomingMessage): Promise<Reply> {
    resourceVersionOf(rr.query);
    const obj = await this.registry.get(rr.resource, rr.namespace, rr.name as string);
    if (rr.subresource === 'scale') return { status: 200, body: toScale(rr.resource, obj) };
    if (wantsTable(req)) return { status: 200, body: table(rr, [obj], {}) };
    return { status: 200, body: obj };
  }

  private async list(rr: ResourceRequest, req: IncomingMessage): Promise<Reply> {
    const opts = parseListOptions(rr.resource, rr.query);
    const filter = { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, limit: opts.limit, continueToken: rr.query.get('continue') || undefined };
    const everything = wantsEverything(filter);
    if (wantsTable(req)) {
      const result = everything ? await this.registry.listAll(rr.resource, rr.namespace, filter) : await this.registry.list(rr.resource, rr.namespace, filter);
      return { status: 200, body: table(rr, result.items, listMeta(result)) };
    }
    const result: { items: Items<Obj | WireText>; resourceVersion: string; continueToken?: string } = everything
      ? await this.registry.listAllWire(rr.resource, rr.namespace, filter)
      : await this.registry.listWire(rr.resource, rr.namespace, filter);
    return { status: 200, body: { kind: `${rr.resource.kind}List`, apiVersion: apiVersionOf(rr.resource), metadata: listMeta(result), items: result.items } };
  }

  private async watch(rr: ResourceRequest, res: ServerResponse, hooks: WatchHooks): Promise<void> {
    const opts = parseListOptions(rr.resource, rr.query);
    await serveWatch(
      this.store,
      {
        resource: rr.resource,
        namespace: rr.namespace,
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        resourceVersion: opts.resourceVersion,
        bookmarks: queryFlag(rr.query, 'allowWatchBookmarks'),
        timeoutSeconds: opts.timeoutSeconds ?? 1800 + Math.floor(Math.random() * 1800),
        bookmarkIntervalMs: this.options.bookmarkIntervalMs,
      },
      res,
      hooks,
    );
  }

  private async create(rr: ResourceRequest, req: IncomingMessage, who: Identity): Promise<Reply> {
    if (rr.subresource === 'binding') return this.bind(rr, req);
    if (rr.subresource === 'eviction') return this.evict(rr, req);
    if (rr.subresource) throw errors.methodNotAllowed(`POST is not supported on ${rr.resource.plural}/${rr.subresource}`);
    if (rr.name) throw errors.methodNotAllowed(`POST to a named ${rr.resource.singular}: use PUT to replace it or PATCH to change it`);
    if (rr.resource.custom?.terminating) throw errors.methodNotAllowed(`create not allowed while custom resource definition ${rr.resource.custom.crd} is terminating`);
    const obj = await this.readObject(rr, req);
    const warnings = this.checkFields(rr, obj);
    const name = String(obj.metadata?.name ?? obj.metadata?.generateName ?? '');
    const uid = this.prepareCreate(rr.resource, obj, name);
    recordUpdate(undefined, obj, this.writer(rr, req, 'Update'));
    await this.admission.checkWriter(rr.resource, rr.namespace, obj, undefined, who);
    const dryRun = isDryRun(rr);
    if (!dryRun) await this.admission.beforeCreate(rr.resource, rr.namespace, obj);
    try {
      const created = await this.registry.create(rr.resource, rr.namespace, obj, dryRun, uid);
      return { status: 201, body: created, headers: warnings };
    } catch (err) {
      if (!dryRun) await this.admission.rollbackCreate(rr.resource, obj);
      throw err;
    }
  }

  private async update(rr: ResourceRequest, req: IncomingMessage, who: Identity): Promise<Reply> {
    const name = rr.name as string;
    if (rr.subresource === 'scale') return this.updateScale(rr, req, await this.readJson(req));
    const body = await this.readObject(rr, req);
    if (body.metadata?.name && body.metadata.name !== name) throw errors.badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
    const warnings = this.checkFields(rr, body);
    const sub = rr.subresource === 'finalize' ? 'finalize' : rr.subresource;
    const updated = await this.registry.update(
      rr.resource,
      rr.namespace,
      name,
      async (current) => {
        const next = sub === 'finalize' ? { ...current, spec: body.spec } : { ...body, metadata: { ...body.metadata, name } };
        return this.recordUpdate(rr, req, current, await this.prepare(rr.resource, current, next, who));
      },
      { subresource: sub === 'finalize' ? undefined : sub, dryRun: isDryRun(rr) },
    );
    return { status: 200, body: updated, headers: warnings };
  }

  private async patch(rr: ResourceRequest, req: IncomingMessage, who: Identity): Promise<Reply> {
    const name = rr.name as string;
    const kind = patchKind(mediaType(req));
    if (kind === 'strategic' && rr.resource.custom) throw errors.unsupportedMediaType('application/strategic-merge-patch+json: custom resources take JSON, merge and apply patches');
    const patch = parsePatch(kind, await readBody(req));
    if (rr.subresource === 'scale') {
      const current = toScale(rr.resource, await this.registry.get(rr.resource, rr.namespace, name));
      return this.updateScale(rr, req, applyPatch(kind === 'apply' ? 'merge' : kind, current, patch, 'V1Scale', this.lookup));
    }
    if (kind === 'apply') {
      const existing = await this.registry.find(rr.resource, rr.namespace, name);
      if (!existing) return this.createFromApply(rr, req, patch, name, who);
    }
    let warnings: Record<string, string> | undefined;
    const updated = await this.registry.update(
      rr.resource,
      rr.namespace,
      name,
      async (current) => {
        if (kind === 'apply') {
          const applied = this.apply(rr, req, current, patch);
          warnings = this.checkFields(rr, applied);
          return this.prepare(rr.resource, current, applied, who);
        }
        // The patch functions share unchanged subtrees with `current`, which defaulting may then
        // change in place: compare ownership against a copy taken before.
        const before = copyJson(current);
        const patched = applyPatch(kind, current, patch, rr.resource.schema, this.lookup);
        warnings = this.checkFields(rr, patched);
        return this.recordUpdate(rr, req, before, await this.prepare(rr.resource, current, patched, who));
      },
      { subresource: rr.subresource, dryRun: isDryRun(rr) },
    );
    return { status: 200, body: updated, headers: warnings };
  }

  private async createFromApply(rr: ResourceRequest, req: IncomingMessage, patch: unknown, name: string, who: Identity): Promise<Reply> {
    if (!isPlainObject(patch)) throw errors.badRequest('an apply patch must be an object');
    const config = patch as Obj;
    config.metadata = { ...(config.metadata ?? {}), name };
    const obj = this.apply(rr, req, undefined, config);
    const warnings = this.checkFields(rr, obj);
    const uid = this.prepareCreate(rr.resource, obj, name);
    await this.admission.checkWriter(rr.resource, rr.namespace, obj, undefined, who);
    const dryRun = isDryRun(rr);
    if (!dryRun) await this.admission.beforeCreate(rr.resource, rr.namespace, obj);
    const created = await this.registry.create(rr.resource, rr.namespace, obj, dryRun, uid);
    return { status: 201, body: created, headers: warnings };
  }

  private async delete(rr: ResourceRequest, req: IncomingMessage, who: Identity): Promise<Reply> {
    const opts = await deleteOptions(rr, req);
    this.admission.beforeDelete(rr.resource, rr.name as string);
    if (who.role === 'node' && rr.resource.kind === 'Pod') {
      // A node removes its pods only once they are stopped: force grace 0 and nothing else.
      opts.gracePeriodSeconds = 0;
    }
    const { obj, deleted } = await this.registry.delete(rr.resource, rr.namespace, rr.name as string, opts);
    if (deleted && !opts.dryRun) await this.admission.afterDelete(rr.resource, obj);
    return { status: 200, body: obj };
  }

  private async deleteCollection(rr: ResourceRequest, req: IncomingMessage): Promise<Reply> {
    const opts = await deleteOptions(rr, req);
    const { labelSelector, fieldSelector } = parseListOptions(rr.resource, rr.query);
    const { items } = await this.registry.list(rr.resource, rr.namespace, { labelSelector, fieldSelector });
    const out: Obj[] = [];
    for (const item of items) this.admission.beforeDelete(rr.resource, String(item.metadata?.name));
    for (const item of items) {
      try {
        const { obj, deleted } = await this.registry.delete(rr.resource, item.metadata?.namespace, String(item.metadata?.name), opts);
        if (deleted && !opts.dryRun) await this.admission.afterDelete(rr.resource, obj);
        out.push(obj);
      } catch (err) {
        if (!(err instanceof HttpError && err.code === 404)) throw err;
      }
    }
    return { status: 200, body: { kind: `${rr.resource.kind}List`, apiVersion: apiVersionOf(rr.resource), metadata: {}, items: out } };
  }

  private async bind(rr: ResourceRequest, req: IncomingMessage): Promise<Reply> {
    const binding = await this.readJson(req);
    const target = (binding.target ?? {}) as { name?: string; kind?: string };
    if (!target.name) throw errors.invalid({ kind: 'Binding', group: '', plural: 'bindings' }, String(rr.name), [{ field: 'target.name', message: 'Required value' }]);
    const pods = rr.resource;
    // One write for nodeName and PodScheduled: the scheduler's throughput is bound by writes.
    await this.registry.update(pods, rr.namespace, rr.name as string, (pod) => {
      const spec = (pod.spec ?? {}) as { nodeName?: string };
      if (spec.nodeName && spec.nodeName !== target.name) throw errors.conflict(pods, `${rr.name}`);
      if (pod.metadata?.deletionTimestamp) throw errors.conflict(pods, `${rr.name}`);
      spec.nodeName = target.name;
      pod.spec = spec;
      const status = (pod.status ?? {}) as { conditions?: Record<string, unknown>[] };
      const conditions = (status.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
      conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') });
      pod.status = { ...status, conditions };
      return pod;
    }, { subresource: 'binding' });
    return { status: 201, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } };
  }

  private async evict(rr: ResourceRequest, req: IncomingMessage): Promise<Reply> {
    const raw = await readBody(req);
    const eviction = raw.length > 0 ? (parseBody(raw, mediaType(req)) as { deleteOptions?: { gracePeriodSeconds?: number; dryRun?: string[] } }) : {};
    const grace = eviction.deleteOptions?.gracePeriodSeconds;
    const dryRun = isDryRun(rr) || (eviction.deleteOptions?.dryRun ?? []).length > 0;
    await evictPod(this.registry, rr.namespace ?? 'default', rr.name as string, { gracePeriodSeconds: typeof grace === 'number' ? grace : undefined, dryRun });
    return { status: 201, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } };
  }

  private async updateScale(rr: ResourceRequest, req: IncomingMessage, scale: Obj): Promise<Reply> {
    const replicas = (scale.spec as { replicas?: unknown } | undefined)?.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw errors.invalid({ kind: 'Scale', group: 'autoscaling', plural: 'scale' }, String(rr.name), [{ field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be a non-negative integer` }]);
    }
    const wanted = scale.metadata?.resourceVersion;
    const updated = await this.registry.update(rr.resource, rr.namespace, rr.name as string, (current) => {
      if (wanted && wanted !== '0' && wanted !== current.metadata?.resourceVersion) throw errors.conflict(rr.resource, String(rr.name));
      const next = copyJson(current);
      writePath(next, rr.resource.custom?.scale?.specReplicasPath ?? '.spec.replicas', replicas);
      return this.recordUpdate(rr, req, current, next);
    }, { dryRun: isDryRun(rr) });
    return { status: 200, body: toScale(rr.resource, updated) };
  }

  /** Server-side apply of `config` onto `live` (undefined: the apply creates the object). */
  private apply(rr: ResourceRequest, req: IncomingMessage, live: Obj | undefined, config: unknown): Obj {
    if (!isPlainObject(config)) throw errors.badRequest('an apply patch must be an object');
    // Field ownership is recorded in the configuration's metadata before it is validated.
    if (config.metadata !== undefined && !isPlainObject(config.metadata)) throw errors.badRequest('the metadata of an apply patch must be an object');
    const w = this.writer(rr, req, 'Apply');
    if (!w.identity.manager) throw errors.badRequest('PATCH with application/apply-patch+yaml needs the fieldManager query parameter');
    return serverSideApply({
      ...w,
      live,
      config: config as Obj,
      force: forceOf(rr.query),
      merge: (l, c) => applyPatch('apply', l, c, rr.resource.schema, this.lookup),
    });
  }

  /** Records a non-apply write's fields in managedFields (see field-ownership.ts). */
  private recordUpdate(rr: ResourceRequest, req: IncomingMessage, current: Obj, next: Obj): Obj {
    recordUpdate(current, next, this.writer(rr, req, 'Update'));
    return next;
  }

  /** Who writes and where: the field manager, the version written and the subresource. */
  private writer(rr: ResourceRequest, req: IncomingMessage, operation: Operation): UpdateWrite {
    const r = rr.resource;
    const subresource = rr.subresource || undefined;
    return {
      identity: { manager: operation === 'Apply' ? (rr.query.get('fieldManager') ?? '') : fieldManagerOf(rr.query, req.headers['user-agent']), operation, apiVersion: apiVersionOf(r), ...(subresource ? { subresource } : {}) },
      scope: { subresource, hasStatus: r.subresources.includes('status') },
      type: rootType(r.schema, this.lookup),
    };
  }

  /**
   * Defaults and validation of a new object; returns the uid it will get, which a Job's
   * generated selector already names.
   */
  private prepareCreate(r: ResourceInfo, obj: Obj, name: string): string {
    if (r.custom) {
      prepareCustomObject(r, obj);
      this.validate(r, obj, name);
      return randomUUID();
    }
    this.checkTypes(r, obj, name);
    applyDefaults(r.kind, obj);
    defaultStatus(r.kind, obj);
    const uid = randomUUID();
    if (isCrd(r)) {
      defaultCrd(obj as Crd, true);
      const causes = validateCrd(obj as Crd);
      if (causes.length > 0) throw errors.invalid(r, name, causes);
    }
    if (r.kind === 'Job') {
      const causes = generateJobSelector(obj, uid);
      if (causes.length > 0) throw errors.invalid(r, name, causes);
    }
    this.validate(r, obj, name);
    return uid;
  }

  /** Defaults, validation and admission for a write that replaces `current` with `next`. */
  private async prepare(r: ResourceInfo, current: Obj, next: Obj, who: Identity): Promise<Obj> {
    if (r.custom) prepareCustomObject(r, next);
    else {
      this.checkTypes(r, next, String(current.metadata?.name));
      applyDefaults(r.kind, next);
    }
    if (isCrd(r)) {
      defaultCrd(next as Crd, false);
      const causes = validateCrd(next as Crd, current as Crd);
      if (causes.length > 0) throw errors.invalid(r, String(current.metadata?.name), causes);
    }
    this.validate(r, { ...next, apiVersion: apiVersionOf(r), kind: r.kind }, String(current.metadata?.name));
    await this.admission.checkWriter(r, current.metadata?.namespace, next, current, who);
    await this.admission.beforeUpdate(r, current, next);
    return next;
  }

  /** Refuses (422) an object of the wrong shape before defaulting walks it. */
  private checkTypes(r: ResourceInfo, obj: Obj, name: string): void {
    const causes = typeErrors(r, { ...obj, apiVersion: apiVersionOf(r), kind: r.kind });
    if (causes.length > 0) throw errors.invalid(r, name, causes);
  }

  private validate(r: ResourceInfo, obj: Obj, name: string): void {
    checkObjectSize(r, obj);
    const causes = validateObject(r, obj);
    if (causes.length > 0) throw errors.invalid(r, name, causes);
  }

  private async readJson(req: IncomingMessage): Promise<Obj> {
    const body = parseBody(await readBody(req), mediaType(req));
    if (!isPlainObject(body)) throw errors.badRequest('the request body must be a JSON or YAML object');
    return body as Obj;
  }

  private async readObject(rr: ResourceRequest, req: IncomingMessage): Promise<Obj> {
    const obj = await this.readJson(req);
    const r = rr.resource;
    const expected = apiVersionOf(r);
    if (obj.kind !== undefined && obj.kind !== r.kind) throw errors.badRequest(`the kind "${String(obj.kind)}" of the body does not match the resource ${r.plural} (kind ${r.kind})`);
    if (obj.apiVersion !== undefined && obj.apiVersion !== expected) throw errors.badRequest(`the apiVersion "${String(obj.apiVersion)}" of the body does not match ${expected}, the version of ${r.plural} served here`);
    obj.apiVersion = expected;
    obj.kind = r.kind;
    const ns = obj.metadata?.namespace;
    if (r.namespaced && ns && rr.namespace && ns !== rr.namespace) throw errors.badRequest(`the namespace of the provided object (${ns}) does not match the namespace sent on the request (${rr.namespace})`);
    return obj;
  }

  /** fieldValidation: Strict rejects unknown fields, Warn reports them, Ignore drops them silently. */
  private checkFields(rr: ResourceRequest, obj: Obj): Record<string, string> | undefined {
    const mode = (rr.query.get('fieldValidation') ?? 'Warn') as FieldValidation;
    if (!['Strict', 'Warn', 'Ignore'].includes(mode)) throw errors.badRequest(`fieldValidation must be Strict, Warn or Ignore, not "${mode}"`);
    if (mode === 'Ignore') return undefined;
    const found = rr.resource.custom ? unknownCustomFields(rr.resource, obj) : unknownFields(rr.resource.schema, obj);
    const unknown = found.filter((f) => f !== 'apiVersion' && f !== 'kind');
    if (unknown.length === 0) return undefined;
    if (mode === 'Strict') {
      throw new HttpError(400, 'BadRequest', `strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`);
    }
    return { warning: unknown.map((f) => `299 - "unknown field \\"${f}\\""`).join(', ') };
  }
}

function isCrd(r: ResourceInfo): boolean {
  return r.group === 'apiextensions.k8s.io' && r.kind === 'CustomResourceDefinition';
}

function table(rr: ResourceRequest, items: Items<Obj>, meta: { resourceVersion?: string; continue?: string }): Record<string, unknown> {
  if (rr.resource.custom) return customResourceTable(rr.resource, items, meta, includeObject(rr));
  return toTable(rr.resource.kind, items, meta, includeObject(rr));
}

/** A list answer's metadata: its resourceVersion, and the continue token of a page that has more after it. */
function listMeta(result: { resourceVersion: string; continueToken?: string }): { resourceVersion: string; continue?: string } {
  return { resourceVersion: result.resourceVersion, ...(result.continueToken ? { continue: result.continueToken } : {}) };
}

function wantsTable(req: IncomingMessage): boolean {
  return /as=Table/.test(String(req.headers.accept ?? ''));
}

function includeObject(rr: ResourceRequest): IncludeObject {
  const v = rr.query.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

function isDryRun(rr: ResourceRequest): boolean {
  const v = rr.query.getAll('dryRun');
  if (v.some((x) => x !== 'All')) throw errors.badRequest(`dryRun must be "All" (got ${v.join(', ')})`);
  return v.length > 0;
}

async function deleteOptions(rr: ResourceRequest, req: IncomingMessage): Promise<DeleteOptions> {
  const raw = await readBody(req);
  const body = raw.length > 0 ? (parseBody(raw, mediaType(req)) as Record<string, unknown>) : {};
  const grace = rr.query.get('gracePeriodSeconds') ?? body.gracePeriodSeconds;
  const policy = rr.query.get('propagationPolicy') ?? body.propagationPolicy ?? (body.orphanDependents === true ? 'Orphan' : undefined);
  if (policy !== undefined && !['Foreground', 'Background', 'Orphan'].includes(String(policy))) {
    throw errors.badRequest(`propagationPolicy must be Foreground, Background or Orphan, not "${String(policy)}"`);
  }
  return {
    gracePeriodSeconds: grace === undefined || grace === null ? undefined : Number(grace),
    propagationPolicy: policy as DeleteOptions['propagationPolicy'],
    preconditions: body.preconditions as DeleteOptions['preconditions'],
    dryRun: rr.query.getAll('dryRun').length > 0 || (Array.isArray(body.dryRun) && body.dryRun.length > 0),
  };
}

/** The autoscaling/v1 Scale of an object: spec.replicas for the built-in kinds, the CRD's paths for custom ones. */
function toScale(r: ResourceInfo, obj: Obj): Obj {
  const paths = r.custom?.scale ?? { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' };
  // A ReplicationController's selector is the label map itself.
  const matchLabels = readPath(obj, r.kind === 'ReplicationController' ? '.spec.selector' : '.spec.selector.matchLabels') as Record<string, string> | undefined;
  const selector = r.custom?.scale
    ? String(paths.labelSelectorPath ? (readPath(obj, paths.labelSelectorPath) ?? '') : '')
    : Object.entries(matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: obj.metadata?.name, namespace: obj.metadata?.namespace, uid: obj.metadata?.uid, resourceVersion: obj.metadata?.resourceVersion, creationTimestamp: obj.metadata?.creationTimestamp },
    spec: { replicas: Number(readPath(obj, paths.specReplicasPath) ?? 0) },
    status: { replicas: Number(readPath(obj, paths.statusReplicasPath) ?? 0), selector },
  };
}
