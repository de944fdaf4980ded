import { rawRequest } from './https-raw';

/**
 * What flannel does in --kube-subnet-mgr mode, with the node's own credential over HTTPS: it
 * lists Nodes (to learn its peers), waits until its Node has spec.podCIDR, announces itself with
 * the flannel.alpha.coreos.com annotations (a strategic merge patch on its Node) and writes
 * subnet.env with the first address of its block. Strict like flannel: a podCIDR outside the
 * network, or a refused request, is an error.
 */
export async function flannelSubnetEnv(o: { server: string; caPem: string; token: string; nodeName: string; network: string; publicIp: string; timeoutMs: number }): Promise<string> {
  const call = async (method: string, path: string, body?: unknown, type = 'application/json'): Promise<Record<string, unknown>> => {
    const r = await rawRequest(o.server, o.caPem, method, path, { token: o.token, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': type } });
    if (r.status >= 300) throw new Error(`${method} ${path} answered ${r.status}: ${r.body}`);
    return JSON.parse(r.body) as Record<string, unknown>;
  };
  const list = await call('GET', '/api/v1/nodes');
  if (!Array.isArray(list.items)) throw new Error('listing nodes returned no items');
  const deadline = Date.now() + o.timeoutMs;
  let podCidr: string | undefined;
  while (!podCidr) {
    const node = await call('GET', `/api/v1/nodes/${o.nodeName}`);
    podCidr = (node.spec as { podCIDR?: string } | undefined)?.podCIDR;
    if (podCidr) break;
    if (Date.now() > deadline) throw new Error(`node "${o.nodeName}" pod cidr not assigned within ${o.timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!within(podCidr, o.network)) throw new Error(`node "${o.nodeName}" podCIDR ${podCidr} is not inside the flannel network ${o.network}`);
  await call(
    'PATCH',
    `/api/v1/nodes/${o.nodeName}`,
    {
      metadata: {
        annotations: {
          'flannel.alpha.coreos.com/backend-type': 'vxlan',
          'flannel.alpha.coreos.com/backend-data': JSON.stringify({ VNI: 1, VtepMAC: '0a:58:0a:f4:00:01' }),
          'flannel.alpha.coreos.com/kube-subnet-manager': 'true',
          'flannel.alpha.coreos.com/public-ip': o.publicIp,
        },
      },
    },
    'application/strategic-merge-patch+json',
  );
  const [base, bits] = podCidr.split('/');
  const first = base.split('.').map(Number);
  first[3] += 1;
  return `FLANNEL_NETWORK=${o.network}\nFLANNEL_SUBNET=${first.join('.')}/${bits}\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n`;
}

function within(cidr: string, network: string): boolean {
  const toInt = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const [nBase, nBits] = network.split('/');
  const [cBase, cBits] = cidr.split('/');
  const size = 2 ** (32 - Number(nBits));
  const start = toInt(nBase);
  return Number(cBits) >= Number(nBits) && toInt(cBase) >= start && toInt(cBase) < start + size;
}
