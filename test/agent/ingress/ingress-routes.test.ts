import type { Ingress, IngressClass } from 'kubernetes-types/networking/v1';
import { IngressRoutes } from '../../../agent/ingress/ingress-routes';
import type { ServicePortEntry } from '../../../agent/proxy/service-table';

const lotse: IngressClass = { metadata: { name: 'lotse', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } }, spec: { controller: 'lotse.dev/ingress' } };
const other: IngressClass = { metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } };

const svc = (name: string, ip: string, port = 80, portName = 'http'): ServicePortEntry => ({ id: `default/${name}:${portName}`, namespace: 'default', name, portName, protocol: 'TCP', port, backends: [{ ip, port: 8080 }] });
const services = [svc('a', '10.0.0.1'), svc('b', '10.0.0.2'), svc('c', '10.0.0.3'), svc('d', '10.0.0.4'), svc('fallback', '10.0.0.9'), svc('wild', '10.0.0.5')];
const backend = (name: string, port: number | string = 80) => ({ service: { name, port: typeof port === 'number' ? { number: port } : { name: port } } });

function ingress(name: string, spec: Ingress['spec'], created = '2026-01-01T00:00:00Z'): Ingress {
  return { metadata: { name, namespace: 'default', creationTimestamp: created }, spec: { ingressClassName: 'lotse', ...spec } };
}

const routes = new IngressRoutes({
  classes: [lotse, other],
  services,
  ingresses: [
    ingress('site', {
      rules: [
        { host: 'a.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('a') }, { path: '/api', pathType: 'Prefix', backend: backend('b', 'http') }, { path: '/api/v2', pathType: 'Exact', backend: backend('c') }] } },
        { host: '*.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('wild') }] } },
      ],
      tls: [{ hosts: ['a.example.com'], secretName: 'a-tls' }],
    }),
    ingress('later', { rules: [{ host: 'a.example.com', http: { paths: [{ path: '/api', pathType: 'Prefix', backend: backend('d') }] } }] }, '2026-02-01T00:00:00Z'),
    ingress('catch-all', { defaultBackend: backend('fallback'), rules: [{ http: { paths: [{ path: '/any', pathType: 'ImplementationSpecific', backend: backend('d') }] } }] }),
    { ...ingress('nginx-one', { rules: [{ host: 'n.other.org', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('a') }] } }] }), spec: { ingressClassName: 'nginx', rules: [{ host: 'n.other.org', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('a') }] } }] } },
  ],
});

const to = (host: string, path: string): string | undefined => routes.match(host, path)?.id;

describe('Ingress routing rules', () => {
  test('Prefix matches whole path segments, longest first; Exact only the path itself', () => {
    expect(to('a.example.com', '/')).toBe('default/a:80');
    expect(to('a.example.com', '/apis')).toBe('default/a:80');
    expect(to('a.example.com', '/api')).toBe('default/b:http');
    expect(to('a.example.com', '/api/')).toBe('default/b:http');
    expect(to('a.example.com', '/api/v1/things?x=1')).toBe('default/b:http');
    expect(to('a.example.com', '/api/v2')).toBe('default/c:80');
    expect(to('a.example.com', '/api/v2/')).toBe('default/b:http');
  });

  test('the host header is matched without its port and case; exact hosts beat wildcards of one label', () => {
    expect(to('A.Example.COM:8443', '/')).toBe('default/a:80');
    expect(to('b.example.com', '/')).toBe('default/wild:80');
    expect(to('x.y.example.com', '/any')).toBe('default/d:80');
    expect(to('example.com', '/other')).toBe('default/fallback:80');
  });

  test('the older Ingress wins a tie on the same host and path; other classes are not served', () => {
    expect(routes.served).toEqual(['default/catch-all', 'default/site', 'default/later']);
    expect(to('n.other.org', '/')).toBe('default/fallback:80');
  });

  test('TLS references and an unknown Service (no endpoints) are reported', () => {
    expect(routes.tls).toEqual([{ namespace: 'default', secretName: 'a-tls', hosts: ['a.example.com'] }]);
    const none = new IngressRoutes({ classes: [lotse], services, ingresses: [ingress('x', { rules: [{ host: 'x', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('missing') }] } }] })] });
    expect(none.match('x', '/')).toEqual({ id: 'default/missing:80', backends: [] });
    expect(none.match('y', '/')).toBeUndefined();
  });
});
