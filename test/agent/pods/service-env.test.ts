import type { Service } from 'kubernetes-types/core/v1';
import { serviceEnv } from '../../../agent/pods/service-env';

const svc = (namespace: string, name: string, spec: Service['spec']): Service => ({ metadata: { namespace, name }, spec });
const master = svc('default', 'kubernetes', { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] });

describe('service environment variables', () => {
  it('writes the docker-link variables of every service with a ClusterIP, and the master service always', () => {
    const web = svc('shop', 'web-front', { clusterIP: '10.96.3.4', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns-udp', port: 53, protocol: 'UDP' }] });
    const headless = svc('shop', 'db', { clusterIP: 'None', ports: [{ port: 5432 }] });
    const external = svc('shop', 'ext', { type: 'ExternalName', externalName: 'example.com', ports: [{ port: 443 }] });
    const env = serviceEnv([web, headless, external], master, true);
    expect(Object.fromEntries(env)).toEqual({
      WEB_FRONT_SERVICE_HOST: '10.96.3.4',
      WEB_FRONT_SERVICE_PORT: '80',
      WEB_FRONT_SERVICE_PORT_HTTP: '80',
      WEB_FRONT_SERVICE_PORT_DNS_UDP: '53',
      WEB_FRONT_PORT: 'tcp://10.96.3.4:80',
      WEB_FRONT_PORT_80_TCP: 'tcp://10.96.3.4:80',
      WEB_FRONT_PORT_80_TCP_PROTO: 'tcp',
      WEB_FRONT_PORT_80_TCP_PORT: '80',
      WEB_FRONT_PORT_80_TCP_ADDR: '10.96.3.4',
      WEB_FRONT_PORT_53_UDP: 'udp://10.96.3.4:53',
      WEB_FRONT_PORT_53_UDP_PROTO: 'udp',
      WEB_FRONT_PORT_53_UDP_PORT: '53',
      WEB_FRONT_PORT_53_UDP_ADDR: '10.96.3.4',
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
      KUBERNETES_SERVICE_PORT: '443',
      KUBERNETES_SERVICE_PORT_HTTPS: '443',
      KUBERNETES_PORT: 'tcp://10.96.0.1:443',
      KUBERNETES_PORT_443_TCP: 'tcp://10.96.0.1:443',
      KUBERNETES_PORT_443_TCP_PROTO: 'tcp',
      KUBERNETES_PORT_443_TCP_PORT: '443',
      KUBERNETES_PORT_443_TCP_ADDR: '10.96.0.1',
    });
  });

  it('keeps only the master service with enableServiceLinks: false', () => {
    const web = svc('shop', 'web', { clusterIP: '10.96.3.4', ports: [{ port: 80 }] });
    const env = serviceEnv([web], master, false);
    expect([...env.keys()].every((k) => k.startsWith('KUBERNETES_'))).toBe(true);
    expect(env.get('KUBERNETES_SERVICE_HOST')).toBe('10.96.0.1');
  });
});
