import type { Service } from 'kubernetes-types/core/v1';

/**
 * The Docker-link style variables the kubelet gives every container for the Services of its
 * namespace (unless the pod sets enableServiceLinks: false), and always for the `kubernetes`
 * Service: FOO_SERVICE_HOST, FOO_SERVICE_PORT[_NAME], FOO_PORT and FOO_PORT_<port>_<PROTO>[_PROTO|_PORT|_ADDR].
 * Services without a ClusterIP (headless, ExternalName) give none.
 */
export function serviceEnv(namespaceServices: Service[], masterService: Service | undefined, enableServiceLinks: boolean): Map<string, string> {
  const env = new Map<string, string>();
  const chosen = enableServiceLinks ? [...namespaceServices] : [];
  if (masterService && !chosen.some((s) => s.metadata?.namespace === 'default' && s.metadata?.name === 'kubernetes')) chosen.push(masterService);
  for (const svc of chosen) {
    const ip = svc.spec?.clusterIP;
    const ports = svc.spec?.ports ?? [];
    if (!ip || ip === 'None' || svc.spec?.type === 'ExternalName' || ports.length === 0) continue;
    const prefix = envName(String(svc.metadata?.name));
    const first = ports[0];
    env.set(`${prefix}_SERVICE_HOST`, ip);
    env.set(`${prefix}_SERVICE_PORT`, String(first.port));
    env.set(`${prefix}_PORT`, `${(first.protocol ?? 'TCP').toLowerCase()}://${ip}:${first.port}`);
    for (const p of ports) {
      const proto = p.protocol ?? 'TCP';
      if (p.name) env.set(`${prefix}_SERVICE_PORT_${envName(p.name)}`, String(p.port));
      const base = `${prefix}_PORT_${p.port}_${proto.toUpperCase()}`;
      env.set(base, `${proto.toLowerCase()}://${ip}:${p.port}`);
      env.set(`${base}_PROTO`, proto.toLowerCase());
      env.set(`${base}_PORT`, String(p.port));
      env.set(`${base}_ADDR`, ip);
    }
  }
  return env;
}

function envName(name: string): string {
  return name.toUpperCase().replace(/-/g, '_');
}
