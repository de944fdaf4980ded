import type { Construct } from 'constructs';
import { ScalewayResource } from './scaleway-resource';

/** scaleway_lb_ip: the flexible IP a load balancer answers on. */
export class LbIp extends ScalewayResource {
  constructor(scope: Construct, id: string, props: { zone: string; tags?: readonly string[] }) {
    super(scope, id, 'scaleway_lb_ip', { zone: props.zone, tags: props.tags });
  }

  get address(): string {
    return this.getStringAttribute('ip_address');
  }
}

/** scaleway_lb: a load balancer on that IP (LB-S, the smallest offer). */
export class Lb extends ScalewayResource {
  constructor(scope: Construct, id: string, props: { name: string; zone: string; ipId: string; type?: string; tags?: readonly string[] }) {
    super(scope, id, 'scaleway_lb', { name: props.name, zone: props.zone, ip_ids: [props.ipId], type: props.type ?? 'LB-S', tags: props.tags });
  }
}

/** scaleway_lb_backend: where the balancer sends TCP, with an HTTPS health check of each server. */
export class LbBackend extends ScalewayResource {
  constructor(scope: Construct, id: string, props: { name: string; lbId: string; port: number; serverIps: readonly string[]; healthPath: string }) {
    super(scope, id, 'scaleway_lb_backend', {
      lb_id: props.lbId,
      name: props.name,
      forward_protocol: 'tcp',
      forward_port: props.port,
      server_ips: props.serverIps,
      health_check_port: props.port,
      health_check_https: { uri: props.healthPath, code: 200 },
    });
  }
}

/** scaleway_lb_frontend: the port the balancer listens on, tied to a backend. */
export class LbFrontend extends ScalewayResource {
  constructor(scope: Construct, id: string, props: { name: string; lbId: string; backendId: string; port: number }) {
    super(scope, id, 'scaleway_lb_frontend', { lb_id: props.lbId, backend_id: props.backendId, name: props.name, inbound_port: props.port });
  }
}
