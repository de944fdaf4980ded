import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Access } from '../auth/access';
import { Authenticator } from '../auth/authenticator';
import type { Decision } from '../auth/authorizer';
import { impersonate } from '../auth/impersonation';
import { checkEscalation } from '../auth/rbac/escalation';
import { ensureDefaultPolicy } from '../auth/rbac/ensure-default-policy';
import type { RequestAttributes } from '../auth/rbac/policy-rule';
import { RbacPolicy } from '../auth/rbac/rbac-policy';
import { ServiceAccountTokens } from '../auth/service-account-token';
import { answerReview } from './reviews';
import { requestToken } from './token-request';
import { NodeReferences } from '../auth/node-references';
import { checkNodeWrite, NodeRestrictionError } from '../auth/node-restriction';
import type { Identity } from '../auth/identity';
import type { MasterState } from '../data-dir';
import { mediaType, parseBody, readBody } from './body';
import { aggregatedContentType, aggregatedDiscovery, apiGroup, apiGroupList, apiResourceList, apiVersions, wantsAggregated } from './discovery';
import { FieldSelector } from './field-selector';
import { beginForegroundRequest } from './foreground-requests';
import { WatchAccount, type WatchEnd } from './watch-account';
import { abortAnswer, writeReply } from './reply-writer';
import { ResourceHandler, type Reply } from './handler';
import { storeKey, type Registry } from './registry';
import { immortalNamespaces } from './admission';
import { handleJoin, handleRenew } from './join-endpoint';
import { writeSnapshot } from '../store/snapshot';
import { MetricsApi } from './metrics-api';
import type { StoredSecret } from '../../cluster/bootstrap-token';
import { NodeCredentialRevoker } from '../auth/node-credential-revoker';
import { NodeCredentials } from '../auth/node-credentials';
import { NodeProxy, type StreamingSubresource } from './node-proxy';
import { OpenApi } from './openapi/openapi';
import { negotiateOpenApiV2 } from './openapi/openapi-v2';
import { NotServed, parseRequest, type ResourceRequest } from './request-info';
import { ResourceCatalog } from './resource-catalog';
import { resources, type ResourceInfo } from './resources';
import { CrdController } from './custom-resources/crd-controller';
import { ensureDefaultIngressClass } from './default-ingress-class';
import { ensureDefaultStorageClass } from './default-storage-class';
import { ensureSystemPriorityClasses } from './pod-priority';
import { ServiceAllocator } from './service-allocator';
import { errors, HttpError } from './status';
import type { Logger } from '../log';
import { Metrics } from '../metrics';
import { MaxInFlight, type MaxInFlightOptions } from './max-in-flight';
import { serveDashboard } from '../dashboard/serve-dashboard';
import { StoreError, type Store } from '../store/store';
import { StoreHealth } from '../store/store-health';
import { ErrorLog } from '../error-log';

/** The pod subresources served over an upgraded connection, and the kubectl command for each. */
const streamingCommands: Record<StreamingSubresource, string> = { exec: 'exec', attach: 'attach', portforward: 'port-forward' };

function isStreaming(subresource: string | undefined): subresource is StreamingSubresource {
  return subresource !== undefined && Object.hasOwn(streamingCommands, subresource);
}

const version = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-lotse',
  gitCommit: 'lotse',
  gitTreeState: 'clean',
  buildDate: '2026-11-27T00:00:00Z',
  goVersion: 'node' + process.versions.node,
  compiler: 'tsc',
  platform: `${process.platform}/${process.arch}`,
};

const namespaces = resources.find((r) => r.plural === 'namespaces') as ResourceInfo;
const services = resources.find((r) => r.plural === 'services') as ResourceInfo;
const pods = resources.find((r) => r.plural === 'pods') as ResourceInfo;
const ingresses = resources.find((r) => r.plural === 'ingresses') as ResourceInfo;
const nodes = resources.find((r) => r.plural === 'nodes') as ResourceInfo;
const leases = resources.find((r) => r.plural === 'leases') as ResourceInfo;
const publicPaths = new Set(['/healthz', '/livez', '/readyz', '/version']);

/**
 * The Kubernetes API over HTTPS: authentication, impersonation, authorization (RBAC, the node
 * authorizer and NodeRestriction), the REST resources, discovery, OpenAPI, reviews, node proxy
 * (logs, exec) and metrics. startMaster owns the listening socket and hands requests here.
 */
export class ApiServer {
  private readonly auth: Authenticator;
  private readonly handler: ResourceHandler;
  /** What this server serves: the built-in resources and the accepted CRDs' versions. */
  readonly catalog = new ResourceCatalog();
  private readonly openapi = new OpenApi(this.catalog);
  private readonly crds: CrdController;
  private readonly metrics = new Metrics();
  private readonly proxy: NodeProxy;
  private readonly nodeReferences: NodeReferences;
  private readonly access: Access;
  private readonly errorLog: ErrorLog;
  private readonly health: StoreHealth;
  private readonly revoker: NodeCredentialRevoker;
  private readonly resourceMetrics: MetricsApi;
  private readonly inFlight: MaxInFlight;

  /** The objects' registry, for the master's own writes (the kubernetes Service's endpoints). */
  get registry(): Registry {
    return this.handler.registry;
  }

  constructor(
    private readonly store: Store,
    private readonly state: MasterState,
    private readonly allocator: ServiceAllocator,
    private readonly saTokens: ServiceAccountTokens,
    private readonly log: Logger,
    handlerOptions: { bookmarkIntervalMs: number; nodeCredentialTtlMs?: number; maxInFlight?: MaxInFlightOptions },
    private readonly address: string,
  ) {
    this.errorLog = new ErrorLog(log);
    this.inFlight = new MaxInFlight(handlerOptions.maxInFlight);
    this.health = new StoreHealth(store).start();
    this.handler = new ResourceHandler(store, this.openapi, this.catalog, allocator, handlerOptions);
    this.crds = new CrdController(store, this.handler.registry, this.catalog, log);
    const registry = this.handler.registry;
    const byPlural = new Map(resources.map((r) => [`${r.group}/${r.plural}`, r]));
    const credentials = new NodeCredentials(store, (err) => log.warn({ err: err.message }, 'node credential watch ended; listing them again on the next request'), handlerOptions.nodeCredentialTtlMs);
    this.revoker = new NodeCredentialRevoker(store, storeKey(nodes, undefined), credentials, log).start();
    const secret = byPlural.get('/secrets') as ResourceInfo;
    this.auth = new Authenticator(state.tokens, credentials, async (namespace, name) => (await registry.find(secret, namespace, name)) as StoredSecret | undefined, {
      tokens: saTokens,
      lookup: async (plural, namespace, name) => (await registry.find(byPlural.get(`/${plural}`) as ResourceInfo, namespace, name))?.metadata,
    });
    this.access = new Access(new RbacPolicy(store, (err) => log.warn({ err: err.message }, 'RBAC watch ended; listing roles and bindings again on the next request')));
    this.handler.admission.addWriterCheck(async (r, namespace, obj, old, who) => {
      if (r.group === 'rbac.authorization.k8s.io') await checkEscalation(this.access, who, r.kind, namespace, obj, old);
    });
    this.handler.admission.addWriterCheck(async (r, _namespace, obj, old, who) => {
      try {
        checkNodeWrite(who, r, obj, old);
      } catch (err) {
        if (err instanceof NodeRestrictionError) throw errors.forbidden(who.user, old ? 'update' : 'create', `${r.plural} "${String(obj.metadata?.name ?? '')}"`, err.message);
        throw err;
      }
    });
    this.proxy = new NodeProxy(this.handler.registry, state.ca.certPem, state.agentClient);
    this.resourceMetrics = new MetricsApi(this.handler.registry, this.proxy);
    this.nodeReferences = new NodeReferences(store, storeKey(pods, undefined), (err) => log.warn({ err: err.message }, 'node reference watch ended; listing pods again on the next node read'));
  }

  stop(): void {
    this.crds.stop();
    for (const m of Object.values(this.handler.mirrors)) m.stop();
    this.handler.registry.stop();
    this.health.stop();
    this.nodeReferences.stop();
    this.revoker.stop();
    this.auth.stop();
    this.access.rbac.stop();
  }

  /** Namespaces every cluster starts with, and the `kubernetes` service. */
  async bootstrap(): Promise<void> {
    for (const name of immortalNamespaces) {
      if (await this.handler.registry.find(namespaces, undefined, name)) continue;
      try {
        await this.handler.registry.create(namespaces, undefined, { metadata: { name, labels: { 'kubernetes.io/metadata.name': name } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
      } catch (err) {
        if (!(err instanceof HttpError && err.code === 409)) throw err;
      }
    }
    await ensureDefaultPolicy(this.handler.registry);
    await ensureDefaultIngressClass(this.handler.registry);
    await ensureDefaultStorageClass(this.handler.registry);
    await ensureSystemPriorityClasses(this.handler.registry);
    // Custom resources are served before the master reports ready, so a restart loses none of them.
    await this.crds.start();
    if (!(await this.handler.registry.find(services, 'default', 'kubernetes'))) {
      const ip = this.allocator.apiServerIp();
      try {
        await this.allocator.allocateIp('default/kubernetes', ip).catch(() => undefined);
        await this.handler.registry.create(services, 'default', {
          metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
          spec: { type: 'ClusterIP', clusterIP: ip, clusterIPs: [ip], ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: Number(this.address.split(':').pop()) }], sessionAffinity: 'None' },
        });
      } catch (err) {
        if (!(err instanceof HttpError && err.code === 409)) throw err;
      }
    }
  }

  async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const foreground = beginForegroundRequest();
    let verb = req.method ?? 'GET';
    let resource = '';
    let code = 200;
    let who: Identity | undefined;
    let release = (): void => undefined;
    /** Nanoseconds from the max-in-flight filter to admission (the SLI latency leaves them out); undefined for a request that never reached it. */
    let queued: bigint | undefined;
    /** A watch streams past this call and records its own end. */
    let watch: WatchAccount | undefined;
    try {
      const path = (req.url ?? '/').split('?')[0];
      // The Python client's VersionApi asks for /version/ with the slash, which the apiserver serves too.
      const publicPath = path.replace(/(.)\/+$/, '$1');
      if (publicPaths.has(publicPath)) return this.reply(res, this.publicEndpoint(publicPath));
      // The dashboard's static files hold no data; the page signs in with a token for every call.
      if (serveDashboard(req, res)) return;
      who = await this.auth.authenticateRequest(req);
      if (!who) throw errors.unauthorized();
      who = await impersonate(this.access, who, req);
      if (path === '/lotse/v1/join' && req.method === 'POST') {
        if (who.role !== 'join' && who.role !== 'admin') throw errors.forbidden(who.user, 'join', 'nodes', 'only the join token may join nodes');
        return this.reply(res, { status: 201, body: await handleJoin(req, this.auth, this.state.ca, (name) => this.leaseAge(name)) });
      }
      if (path === '/lotse/v1/renew' && req.method === 'POST') return this.reply(res, { status: 201, body: await handleRenew(who, this.auth) });
      if (path === '/lotse/v1/snapshot' && req.method === 'GET') {
        if (who.role !== 'admin') throw errors.forbidden(who.user, 'get', 'the store snapshot', 'only system:masters may read the whole store');
        foreground.end(); // a snapshot streams for as long as the store takes: no reason to hold watchers back
        res.writeHead(200, { 'content-type': 'application/gzip', 'cache-control': 'no-store' });
        await writeSnapshot(this.store, res);
        return;
      }
      const rr = this.parse(req);
      if (rr.type === 'other') return await this.reply(res, await this.nonResource(rr.path, req, who));
      verb = metricVerb(rr.verb);
      resource = rr.resource.plural + (rr.subresource ? `/${rr.subresource}` : '');
      const waitFrom = process.hrtime.bigint();
      release = await this.inFlight.admit(who, { verb: rr.verb, plural: rr.resource.plural, subresource: rr.subresource, namespace: rr.namespace });
      queued = process.hrtime.bigint() - waitFrom;
      // A client that gave up while its request waited for a slot gets no answer: free the slot now.
      if (clientGone(req, res)) {
        code = CLIENT_CLOSED_REQUEST;
        return;
      }
      await this.authorize(who, rr, req);
      if (rr.subresource === 'log') {
        foreground.end(); // `logs -f` streams for as long as it is followed
        await this.proxy.logs(rr.namespace as string, rr.name as string, rr.query, res);
        return;
      }
      if (rr.resource.plural === 'pods' && isStreaming(rr.subresource)) throw errors.badRequest(`${rr.subresource} needs a connection upgrade (WebSocket or SPDY/3.1): use kubectl ${streamingCommands[rr.subresource]}`);
      if (rr.resource.createOnly || rr.subresource === 'token') return this.reply(res, await this.answer(rr, req, who));
      if (rr.resource.computed) return await this.reply(res, { status: 200, body: await this.resourceMetrics.answer(rr) });
      // A watch keeps its account, not the request (its headers and the rest), for as long as it streams.
      watch = new WatchAccount(this.metrics, this.recordWatch, foreground, req.method, req.url, verb, resource, res, who, started);
      const reply = await this.handler.handle(rr, req, res, who, watch);
      if (reply) await this.reply(res, reply);
    } catch (err) {
      const e = toHttpError(err);
      const disconnect = disconnectCodes.has((err as { code?: string }).code ?? '');
      // A fault of the master's stays logged even when its client has gone meanwhile.
      if (e.code >= 500 && !disconnect) this.errorLog.error(err, { method: req.method, url: redactUrl(req.url), code: e.code }, 'request failed');
      if (disconnect || clientGone(req, res)) {
        code = CLIENT_CLOSED_REQUEST;
        return;
      }
      code = e.code;
      if (res.headersSent) {
        // An answer that failed after its first bytes (a snapshot, a list read in pages) must look
        // broken to its client, not end as if it were whole.
        abortAnswer(res);
      } else {
        const retryAfter = e.details?.retryAfterSeconds;
        this.reply(res, { status: e.code, body: e.toStatus(), ...(retryAfter ? { headers: { 'retry-after': String(retryAfter) } } : {}) });
      }
    } finally {
      release();
      foreground.end();
      if (code !== CLIENT_CLOSED_REQUEST) code = res.statusCode || code;
      if (!watch?.streaming) this.recordRequest(req, verb, resource, code, who, started, queued);
    }
  }

  /** A watch's request line, counted when the watch ends (WatchAccount): one function for every watch. */
  private readonly recordWatch = (end: WatchEnd): void => this.recordRequest(end, end.verb, end.resource, end.res.statusCode || 200, end.who, end.started);

  private recordRequest(req: RequestLine, verb: string, resource: string, code: number, who: Identity | undefined, started: bigint, queued?: bigint): void {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.metrics.request(verb, resource, code, seconds, queued === undefined ? undefined : Number(queued) / 1e9);
    this.log.debug({ method: req.method, url: redactUrl(req.url), user: who?.user, code, ms: Math.round(seconds * 1000) }, 'request');
  }

  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    try {
      const authenticated = await this.auth.authenticateRequest(req);
      if (!authenticated) throw errors.unauthorized();
      const who = await impersonate(this.access, authenticated, req);
      const rr = this.parse(req);
      const streaming = rr.type === 'resource' && rr.resource.plural === 'pods' && isStreaming(rr.subresource) ? rr.subresource : undefined;
      if (rr.type !== 'resource' || !streaming || !rr.namespace || !rr.name) throw errors.badRequest('only pods/exec, pods/attach and pods/portforward accept a connection upgrade');
      await this.authorize(who, { ...rr, verb: 'create' }, req);
      await this.proxy.upgrade(streaming, rr.namespace, rr.name, rr.query, req, socket, head);
    } catch (err) {
      const e = toHttpError(err);
      const body = JSON.stringify(e.toStatus());
      socket.end(`HTTP/1.1 ${e.code} ${e.reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    }
  }

  private parse(req: IncomingMessage): ResourceRequest | { type: 'other'; path: string } {
    try {
      return parseRequest(req.method ?? 'GET', req.url ?? '/', this.catalog);
    } catch (err) {
      if (err instanceof NotServed) throw new HttpError(404, 'NotFound', err.message, err.details);
      throw err;
    }
  }

  private async authorize(who: Identity, rr: ResourceRequest, req: IncomingMessage): Promise<void> {
    let name = rr.name;
    if (rr.verb === 'create' && !name && who.role === 'node') name = await peekName(req);
    if ((rr.verb === 'list' || rr.verb === 'watch') && !name) name = selectedName(rr.query);
    const decision: Decision = await this.access.decide(who, { verb: rr.verb, resourceRequest: true, group: rr.resource.group, resource: rr.resource.plural, subresource: rr.subresource, namespace: rr.namespace, name });
    const what = `${rr.resource.plural}${rr.resource.group ? `.${rr.resource.group}` : ''}${rr.subresource ? `/${rr.subresource}` : ''}${name ? ` "${name}"` : ''}`;
    if (!decision.allowed) throw errors.forbidden(who.user, rr.verb, what, decision.reason);
    // A status write is checked on the object it changes (checkNodeWrite, inside the update, as
    // kube-apiserver's NodeRestriction admission does): reading the pod here too cost every agent
    // status write a store read and a parse of the whole pod (~5 % of the master at 1,000 nodes).
    if (decision.boundToNode && rr.verb !== 'update' && rr.verb !== 'patch') {
      const pod = await this.handler.registry.find(rr.resource, rr.namespace, String(rr.name));
      const nodeName = (pod?.spec as { nodeName?: string } | undefined)?.nodeName;
      if (pod && nodeName !== decision.boundToNode) throw errors.forbidden(who.user, rr.verb, what, `the pod is not bound to node ${decision.boundToNode}`);
    }
    if (decision.referencedFromNode && !(await this.referencedFromNode(decision.referencedFromNode, rr, name))) {
      throw errors.forbidden(who.user, rr.verb, what, `no pod bound to node ${decision.referencedFromNode} refers to it`);
    }
  }

  /** Milliseconds since the node's Lease in kube-node-lease was renewed, or undefined when there is none (or no Node). */
  private async leaseAge(nodeName: string): Promise<number | undefined> {
    if (!(await this.handler.registry.find(nodes, undefined, nodeName))) return undefined;
    const lease = await this.handler.registry.find(leases, 'kube-node-lease', nodeName);
    const renewed = (lease?.spec as { renewTime?: string } | undefined)?.renewTime;
    return renewed ? Math.max(0, Date.now() - Date.parse(renewed)) : undefined;
  }

  /**
   * Whether a pod bound to the node (and not yet gone) refers to the Secret or ConfigMap asked for:
   * the watched index answers, and the store only when the index cannot tell.
   */
  private async referencedFromNode(node: string, rr: ResourceRequest, name: string | undefined): Promise<boolean> {
    if (!name || !rr.namespace) return false;
    const kind = rr.resource.plural === 'secrets' ? 'secrets' : 'configMaps';
    const known = await this.nodeReferences.has(node, rr.namespace, kind, name);
    if (known === true) return true;
    // Every node terminates TLS for the Ingresses of its namespace (agent/ingress/), as an ingress
    // controller's ServiceAccount would read their certificates in Kubernetes.
    if (kind === 'secrets' && (await this.ingressTlsSecret(rr.namespace, name))) return true;
    if (known !== undefined) return known;
    // Decided from the index alone, as Kubernetes' node authorizer decides from its graph: a scan
    // of the namespace's pods here cost every lagging answer thousands of reads (on etcd, under a
    // node burst, enough to push heartbeats past their deadline). The node retries instead.
    throw errors.tooManyRequests(`the index of what pods bound to node ${node} refer to is catching up with the store; retry`, 1);
  }

  private async ingressTlsSecret(namespace: string, name: string): Promise<boolean> {
    const { items } = await this.handler.registry.list(ingresses, namespace);
    return items.some((i) => ((i.spec as { tls?: { secretName?: string }[] } | undefined)?.tls ?? []).some((t) => t.secretName === name));
  }

  /**
   * /livez: the process serves. /readyz and /healthz: the store took its last background probe
   * (a write on SQLite, a quorum read on etcd) in time. None waits on the store.
   */
  private publicEndpoint(path: string): Reply {
    if (path === '/version') return { status: 200, body: version };
    if (path === '/livez') return { status: 200, body: 'ok', headers: { 'content-type': 'text/plain' } };
    const health = this.health.report();
    if (health.ready) return { status: 200, body: 'ok', headers: { 'content-type': 'text/plain' } };
    return { status: 503, body: `store unavailable: ${health.message}`, headers: { 'content-type': 'text/plain' } };
  }

  /** Reviews (answered, never stored) and TokenRequests, once the request is authorized. */
  private async answer(rr: ResourceRequest, req: IncomingMessage, who: Identity): Promise<Reply> {
    if (rr.verb !== 'create') throw errors.methodNotAllowed(`${rr.resource.plural}${rr.subresource ? `/${rr.subresource}` : ''} only accepts POST (create)`);
    const body = parseBody(await readBody(req), mediaType(req));
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest('the request body must be a JSON or YAML object');
    if (rr.subresource === 'token') return { status: 201, body: await requestToken(this.handler.registry, this.saTokens, who, String(rr.namespace), String(rr.name), body as Record<string, unknown>) };
    return { status: 201, body: await answerReview(rr.resource, rr.namespace, body as Record<string, unknown>, who, this.access, this.auth) };
  }

  private async nonResource(path: string, req: IncomingMessage, who: Identity): Promise<Reply> {
    if (who.role === 'join') throw errors.forbidden(who.user, 'get', path, 'the join token may only be used to join a node');
    const attributes: RequestAttributes = { verb: (req.method ?? 'GET').toLowerCase() === 'head' ? 'get' : (req.method ?? 'GET').toLowerCase(), resourceRequest: false, group: '', resource: '', path };
    const decision = await this.access.decide(who, attributes);
    if (!decision.allowed) throw errors.forbidden(who.user, attributes.verb, path, decision.reason);
    const p = path.replace(/\/+$/, '') || '/';
    if (p === '/api') {
      if (wantsAggregated(req.headers.accept)) return { status: 200, body: aggregatedDiscovery(this.catalog, true), headers: { 'content-type': aggregatedContentType } };
      return { status: 200, body: apiVersions(this.address) };
    }
    if (p === '/apis') {
      if (wantsAggregated(req.headers.accept)) return { status: 200, body: aggregatedDiscovery(this.catalog, false), headers: { 'content-type': aggregatedContentType } };
      return { status: 200, body: apiGroupList(this.catalog) };
    }
    const groupMatch = /^\/apis\/([^/]+)$/.exec(p);
    if (groupMatch) {
      const versions = this.catalog.groupVersions().filter((gv) => gv.group === groupMatch[1]).map((gv) => gv.version);
      if (versions.length) return { status: 200, body: apiGroup(groupMatch[1], versions) };
    }
    const gvMatch = /^\/api\/([^/]+)$/.exec(p) ?? /^\/apis\/([^/]+\/[^/]+)$/.exec(p);
    if (gvMatch) {
      const [group, version] = p.startsWith('/api/') ? ['', gvMatch[1]] : gvMatch[1].split('/');
      const list = apiResourceList(this.catalog, group, version);
      if (list) return { status: 200, body: list };
    }
    if (p === '/openapi/v2') return { status: 200, ...negotiateOpenApiV2(req.headers.accept, this.openapi.v2()) };
    if (p === '/openapi/v3') return { status: 200, body: this.openapi.index(), headers: { 'content-type': 'application/json' } };
    if (p.startsWith('/openapi/v3/')) {
      const doc = this.openapi.document(p.slice('/openapi/v3/'.length));
      if (doc) return { status: 200, body: doc, headers: { 'content-type': 'application/json', 'cache-control': 'public, immutable' } };
    }
    if (p === '/metrics') {
      return { status: 200, body: this.metrics.render(), headers: { 'content-type': 'text/plain; version=0.0.4' } };
    }
    throw new HttpError(404, 'NotFound', `the server could not find the requested resource (${path})`);
  }

  /** A promise only for a list answer longer than one slice (writeReply): the request ends with its last slice. */
  private reply(res: ServerResponse, reply: Reply): Promise<void> | undefined {
    return writeReply(res, reply);
  }
}

/** The name of the object in a create body, for authorizing a node before the handler runs. */
async function peekName(req: IncomingMessage): Promise<string | undefined> {
  try {
    const body = parseBody(await readBody(req), mediaType(req)) as { metadata?: { name?: string } } | undefined;
    return body?.metadata?.name;
  } catch {
    return undefined; // the handler answers a malformed body with its 400
  }
}

/**
 * The object a list or watch is narrowed to by `fieldSelector=metadata.name=NAME`, as Kubernetes'
 * RequestInfoResolver takes it for the request's name: the node authorizer then decides a node's
 * watch of one Secret or ConfigMap as it decides a GET of it. A malformed selector names nothing
 * here; the request is refused for it after authorization.
 */
function selectedName(query: URLSearchParams): string | undefined {
  try {
    return FieldSelector.parse(query.get('fieldSelector')).exact('metadata.name') || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The code a request is counted and logged with when its client went away before the answer
 * (nginx's "client closed request"): nothing was answered, and it is no error of the master's.
 */
export const CLIENT_CLOSED_REQUEST = 499;

/** What reading or answering a request fails with when its client is gone: reading the body of such a request fails with "Premature close", which was logged as a 500. */
const disconnectCodes = new Set(['ERR_STREAM_PREMATURE_CLOSE', 'ECONNRESET', 'ERR_HTTP2_STREAM_ERROR', 'ERR_HTTP2_INVALID_STREAM']);

const metricVerbs = new Map<string, string>();

/** A verb as the request metric names it (WATCH, LIST...): one string per verb, not one per request, which a watch keeps for its life. */
function metricVerb(verb: string): string {
  let upper = metricVerbs.get(verb);
  if (upper === undefined) metricVerbs.set(verb, (upper = verb.toUpperCase()));
  return upper;
}

/** The method and URL of a request, for its metric and log line. */
interface RequestLine {
  method?: string;
  url?: string;
}

/** Whether the client is gone: it reset the stream or closed the connection (one that gave up waiting for a slot, say). */
function clientGone(req: IncomingMessage, res: ServerResponse): boolean {
  if ((req as { aborted?: boolean }).aborted) return true;
  const stream = (res as unknown as { stream?: { destroyed?: boolean } }).stream;
  return !res.writableEnded && (stream?.destroyed ?? res.destroyed);
}

function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  const e = err as Error & { code?: string };
  if (e instanceof StoreError) {
    if (e.code === 'Unavailable') return errors.unavailable(`the store is unavailable: ${e.message}`);
    if (e.code === 'Timeout') return errors.timeout(`the store did not answer in time: ${e.message}`);
    if (e.code === 'TooLarge') return errors.tooLargeRequest(e.message);
  }
  return errors.internal(e?.message ?? String(err));
}

function redactUrl(url: string | undefined): string {
  return (url ?? '').replace(/(token=)[^&]+/gi, '$1REDACTED');
}
