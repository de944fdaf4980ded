import type { Secret, Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import type { Ingress, IngressClass } from 'kubernetes-types/networking/v1';
import { ApiError } from '../../kube/api-error';
import type { KubeClient } from '../../kube/client';
import { Informer } from '../../kube/informer';
import { core, type ResourceRef } from '../../kube/resource-path';
import { buildServiceTable } from '../proxy/service-table';
import { IngressRoutes } from './ingress-routes';
import { startIngressServer, type ServedCertificate } from './ingress-server';

export interface IngressControllerOptions {
  client: KubeClient;
  /** Listen address ('' : every address). */
  address: string;
  /** 0 disables the listener. */
  httpPort: number;
  httpsPort: number;
  /** Served to HTTPS clients asking for a host no Ingress has a certificate for. */
  fallbackCertificate: { certPem: string; keyPem: string };
  log: (msg: string) => void;
  /** How often TLS Secrets are read again (default 60 s); an Ingress change reads them at once. */
  secretRefreshMs?: number;
  /** The agent's Service informer, shared with its other readers: started here if need be, never stopped here. */
  services?: Informer<Service>;
}

export interface RunningIngressController {
  readonly httpPort: number | undefined;
  readonly httpsPort: number | undefined;
  /** Resolves once every change seen so far is routed. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

const ingressesRef: ResourceRef = { group: 'networking.k8s.io', version: 'v1', resource: 'ingresses' };
const classesRef: ResourceRef = { group: 'networking.k8s.io', version: 'v1', resource: 'ingressclasses' };
const slicesRef: ResourceRef = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' };

/**
 * The agent's built-in ingress controller: Ingresses, IngressClasses, Services and EndpointSlices
 * come from informers, and every change rebuilds the routing table at once (coalesced), so a new
 * rule or a pod that turns unready takes effect within one API round trip. The TLS Secrets the
 * Ingresses name are read by name (the node authorizer allows exactly those).
 */
export async function startIngressController(o: IngressControllerOptions): Promise<RunningIngressController> {
  const server = await startIngressServer({ address: o.address, httpPort: o.httpPort, httpsPort: o.httpsPort, fallbackCertificate: o.fallbackCertificate, log: o.log });
  const onError = (what: string) => (e: Error) => o.log(`ingress: ${what} watch: ${e.message}`);
  const ingresses = new Informer<Ingress>(o.client, ingressesRef, { onError: onError('ingresses') });
  const classes = new Informer<IngressClass>(o.client, classesRef, { onError: onError('ingressclasses') });
  const services = o.services ?? new Informer<Service>(o.client, core('services'), { onError: onError('services') });
  const slices = new Informer<EndpointSlice>(o.client, slicesRef, { onError: onError('endpointslices') });
  const informers = [ingresses, classes, services, slices];
  const https = o.httpsPort > 0;
  let tlsKey = '';
  let pending: Promise<void> | undefined;
  let dirty = false;

  const rebuild = async (): Promise<void> => {
    while (dirty) {
      dirty = false;
      const routes = new IngressRoutes({ ingresses: ingresses.list(), classes: classes.list(), services: buildServiceTable(services.list(), slices.list()) });
      server.setRoutes(routes);
      const key = JSON.stringify(routes.tls);
      if (key !== tlsKey && https) {
        tlsKey = key;
        server.setCertificates(await readCertificates(o.client, routes, o.log));
      }
    }
  };
  const schedule = (): void => {
    dirty = true;
    if (!pending && informers.every((i) => i.hasSynced())) pending = rebuild().finally(() => (pending = undefined));
  };
  for (const i of informers) i.on(schedule);
  await Promise.all(informers.map((i) => i.start()));
  schedule();
  await pending;
  // Certificates renewed in their Secrets (cert-manager) are picked up without an Ingress change.
  const refresh = setInterval(() => {
    tlsKey = '';
    schedule();
  }, o.secretRefreshMs ?? 60_000);
  refresh.unref();

  return {
    httpPort: server.httpPort,
    httpsPort: server.httpsPort,
    settled: async () => {
      while (pending || dirty) {
        if (pending) await pending;
        else {
          schedule();
          if (!pending) await new Promise((r) => setTimeout(r, 50));
        }
      }
    },
    stop: async () => {
      clearInterval(refresh);
      for (const i of informers) if (i !== o.services) i.stop();
      await pending;
      await server.stop();
    },
  };
}

async function readCertificates(client: KubeClient, routes: IngressRoutes, log: (msg: string) => void): Promise<ServedCertificate[]> {
  const out: ServedCertificate[] = [];
  for (const ref of routes.tls) {
    try {
      const secret = await client.get<Secret>(core('secrets', ref.namespace, ref.secretName));
      const cert = secret.data?.['tls.crt'];
      const key = secret.data?.['tls.key'];
      if (!cert || !key) {
        log(`ingress: Secret ${ref.namespace}/${ref.secretName} has no tls.crt and tls.key; ${ref.hosts.join(', ')} get the default certificate`);
        continue;
      }
      out.push({ hosts: ref.hosts, certPem: Buffer.from(cert, 'base64').toString('utf8'), keyPem: Buffer.from(key, 'base64').toString('utf8') });
    } catch (err) {
      const why = ApiError.isNotFound(err) ? 'not found' : (err as Error).message;
      log(`ingress: TLS Secret ${ref.namespace}/${ref.secretName} unreadable (${why}); ${ref.hosts.join(', ')} get the default certificate`);
    }
  }
  return out;
}
