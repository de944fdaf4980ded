import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { KeyPair } from '../../cluster/certificates';
import type { Registry } from './registry';
import { resources, type ResourceInfo } from './resources';
import { errors, HttpError } from './status';

const pods = resources.find((r) => r.plural === 'pods') as ResourceInfo;
const nodes = resources.find((r) => r.plural === 'nodes') as ResourceInfo;

interface Target {
  node: string;
  host: string;
  port: number;
  path: string;
}

/**
 * Carries `kubectl logs` and `kubectl exec` to the agent that runs the pod, over HTTPS with the
 * master's client certificate (the agent trusts only the cluster CA and CN lotse:master).
 */
/** The pod subresources reached through an upgraded (WebSocket or SPDY) connection. */
export type StreamingSubresource = 'exec' | 'attach' | 'portforward';

export class NodeProxy {
  constructor(
    private readonly registry: Registry,
    private readonly caPem: string,
    private readonly client: KeyPair,
  ) {}

  async logs(namespace: string, name: string, query: URLSearchParams, res: ServerResponse): Promise<void> {
    const target = await this.target(namespace, name, query, 'containerLogs');
    await new Promise<void>((resolve, reject) => {
      const up = https.request(
        { host: target.host, port: target.port, path: target.path, method: 'GET', ca: this.caPem, cert: this.client.certPem, key: this.client.keyPem, checkServerIdentity: nodeIdentityCheck(target.node) },
        (agentRes) => {
          // Chunked by itself over HTTP/1.1 (no length); HTTP/2 forbids the transfer-encoding header.
          res.writeHead(agentRes.statusCode ?? 502, { 'content-type': String(agentRes.headers['content-type'] ?? 'text/plain') });
          agentRes.pipe(res);
          agentRes.on('end', resolve);
          agentRes.on('error', reject);
          res.on('close', () => {
            agentRes.destroy();
            resolve();
          });
        },
      );
      up.on('error', (err) => reject(errors.unavailable(`cannot reach the agent of pod ${namespace}/${name} at ${target.host}:${target.port}: ${err.message}`)));
      up.end();
    });
  }

  /** Pipes an upgraded (WebSocket/SPDY) connection to the agent's exec, attach or port-forward endpoint. */
  async upgrade(subresource: StreamingSubresource, namespace: string, name: string, query: URLSearchParams, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const target = subresource === 'portforward' ? await this.podTarget(namespace, name, 'portForward') : await this.target(namespace, name, query, subresource);
    const upstream = tls.connect({ host: target.host, port: target.port, ca: this.caPem, cert: this.client.certPem, key: this.client.keyPem, checkServerIdentity: nodeIdentityCheck(target.node) });
    await new Promise<void>((resolve, reject) => {
      upstream.once('secureConnect', resolve);
      upstream.once('error', (err) => reject(errors.unavailable(`cannot reach the agent of pod ${namespace}/${name} at ${target.host}:${target.port}: ${err.message}`)));
    });
    const skip = new Set(['authorization', 'host']);
    const headers = Object.entries(req.headers)
      .filter(([k]) => !skip.has(k))
      .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`);
    upstream.write([`GET ${target.path} HTTP/1.1`, `host: ${target.host}:${target.port}`, ...headers, '', ''].join('\r\n'));
    if (head.length) upstream.write(head);
    socket.pipe(upstream).pipe(socket);
    const close = (): void => {
      socket.destroy();
      upstream.destroy();
    };
    socket.on('error', close);
    upstream.on('error', close);
    socket.on('close', close);
    upstream.on('close', close);
  }

  /** GET a JSON document from a node's agent (its resource metrics), within timeoutMs. */
  async agentJson<T>(nodeName: string, path: string, timeoutMs: number): Promise<T> {
    const agent = await this.agentOf(nodeName);
    return new Promise<T>((resolve, reject) => {
      const up = https.request(
        { host: agent.host, port: agent.port, path, method: 'GET', ca: this.caPem, cert: this.client.certPem, key: this.client.keyPem, checkServerIdentity: nodeIdentityCheck(nodeName), timeout: timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            if (res.statusCode !== 200) return reject(new Error(`the agent of node ${nodeName} answered ${res.statusCode}: ${text.slice(0, 200)}`));
            try {
              resolve(JSON.parse(text) as T);
            } catch (err) {
              reject(new Error(`the agent of node ${nodeName} sent no JSON: ${(err as Error).message}`));
            }
          });
          res.on('error', reject);
        },
      );
      up.on('timeout', () => up.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      up.on('error', (err) => reject(new Error(`cannot reach the agent of node ${nodeName} at ${agent.host}:${agent.port}: ${err.message}`)));
      up.end();
    });
  }

  /** The agent endpoint for a whole pod (port-forward): no container, no query. */
  private async podTarget(namespace: string, name: string, kind: 'portForward'): Promise<Target> {
    const pod = await this.registry.get(pods, namespace, name);
    const nodeName = (pod.spec as { nodeName?: string } | undefined)?.nodeName;
    if (!nodeName) throw errors.badRequest(`pod ${name} is not scheduled to a node yet: there is no port to forward to`);
    const agent = await this.agentOf(nodeName);
    return { node: nodeName, ...agent, path: `/${kind}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}` };
  }

  private async agentOf(nodeName: string): Promise<{ host: string; port: number }> {
    const node = await this.registry.find(nodes, undefined, nodeName);
    const status = (node?.status ?? {}) as { addresses?: { type: string; address: string }[]; daemonEndpoints?: { kubeletEndpoint?: { Port?: number } } };
    const host = status.addresses?.find((a) => a.type === 'InternalIP')?.address ?? status.addresses?.[0]?.address;
    const port = status.daemonEndpoints?.kubeletEndpoint?.Port;
    if (!host || !port) throw new HttpError(503, 'ServiceUnavailable', `node ${nodeName} has not reported its agent's address and port yet`);
    return { host, port };
  }

  private async target(namespace: string, name: string, query: URLSearchParams, kind: 'containerLogs' | 'exec' | 'attach'): Promise<Target> {
    const pod = await this.registry.get(pods, namespace, name);
    const spec = (pod.spec ?? {}) as { nodeName?: string; containers?: { name: string }[] };
    if (!spec.nodeName) throw errors.badRequest(`pod ${name} is not scheduled to a node yet: there are no logs or processes to reach`);
    const container = query.get('container') || (spec.containers?.length === 1 ? spec.containers[0].name : '');
    if (!container) {
      throw errors.badRequest(`a container name must be specified for pod ${name}, choose one of: [${(spec.containers ?? []).map((c) => c.name).join(' ')}]`);
    }
    const others = pod.spec as { initContainers?: { name: string }[]; ephemeralContainers?: { name: string }[] };
    if (![...(spec.containers ?? []), ...(others.initContainers ?? []), ...(others.ephemeralContainers ?? [])].some((c) => c.name === container)) {
      throw errors.badRequest(`container ${container} is not valid for pod ${name}`);
    }
    const { host, port } = await this.agentOf(spec.nodeName);
    const q = new URLSearchParams(query);
    q.delete('container');
    const qs = q.toString();
    return { node: spec.nodeName, host, port, path: `/${kind}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}${qs ? `?${qs}` : ''}` };
  }
}

/**
 * Agents are reached by address, which may change; what must hold is that the certificate was
 * issued to that node at join time (CN system:node:NAME), so one node cannot pose as another.
 */
function nodeIdentityCheck(node: string): (host: string, cert: tls.PeerCertificate) => Error | undefined {
  return (_host, cert) => (cert.subject?.CN === `system:node:${node}` ? undefined : new Error(`the agent presented a certificate for "${cert.subject?.CN}", not for node ${node}`));
}
