import type { Node } from 'kubernetes-types/core/v1';
import { ApiError } from '../../kube/api-error';
import type { Cidr } from '../../stacks/config/cidr';
import { parseSubnet, subnetWithin, type Ipv4Subnet } from './ipv4-subnet';
import type { NodeApi } from './node-api';
import { sleep } from './waiting';
import type { StandinLog } from './standin-log';

/**
 * This node's podCIDR once node IPAM has set it, polled every second as flanneld waits for it;
 * undefined if `signal` aborts first. Each kind of wait or failure is logged once. A podCIDR
 * outside the flannel network is an error: routing it would break both.
 */
export async function waitForPodCidr(api: NodeApi, nodeName: string, network: Cidr, signal: AbortSignal, log: StandinLog): Promise<Ipv4Subnet | undefined> {
  let said = '';
  const sayOnce = (message: string): void => {
    if (message !== said) log(message);
    said = message;
  };
  while (!signal.aborted) {
    let node: Node | undefined;
    try {
      node = await api.getNode(nodeName);
    } catch (err) {
      sayOnce(ApiError.isNotFound(err) ? `waiting for Node ${nodeName} to be registered` : `reading Node ${nodeName} failed, retrying every second: ${(err as Error).message}`);
    }
    const cidr = node?.spec?.podCIDR;
    if (cidr) return checkedSubnet(cidr, nodeName, network);
    if (node) sayOnce(`waiting for Node ${nodeName} to get spec.podCIDR (node IPAM: lotse master --cluster-cidr)`);
    await sleep(1000, signal);
  }
  return undefined;
}

function checkedSubnet(cidr: string, nodeName: string, network: Cidr): Ipv4Subnet {
  const subnet = parseSubnet(cidr, `Node ${nodeName}'s spec.podCIDR`);
  if (!subnetWithin(subnet.parsed, network)) throw new Error(`Node ${nodeName}'s spec.podCIDR ${cidr} is not inside the flannel network ${network.text} (net-conf.json Network and lotse master --cluster-cidr must agree)`);
  return subnet;
}

/**
 * Puts the lease annotations on the Node unless they are there already, through the status
 * subresource as flanneld's PatchStatus does; if the API refuses that, on the Node itself (logged).
 */
export async function publishAnnotations(api: NodeApi, nodeName: string, annotations: Record<string, string>, log: StandinLog): Promise<void> {
  const current = (await api.getNode(nodeName)).metadata?.annotations ?? {};
  if (Object.entries(annotations).every(([k, v]) => current[k] === v)) return;
  const patch = { metadata: { annotations } };
  try {
    await api.patchNodeStatus(nodeName, patch);
  } catch (err) {
    if (!(err instanceof ApiError) || ![403, 404, 405].includes(err.code)) throw new Error(`publishing the flannel annotations on Node ${nodeName} (PATCH nodes/${nodeName}/status): ${(err as Error).message}`);
    log(`the API refused PATCH nodes/${nodeName}/status (${err.code}: ${err.message}); patching the Node itself`);
    await api.patchNode(nodeName, patch).catch((e: Error) => {
      throw new Error(`publishing the flannel annotations on Node ${nodeName} (PATCH nodes/${nodeName}): ${e.message}`);
    });
  }
  log(`published the lease on Node ${nodeName}: ${Object.entries(annotations).map(([k, v]) => `${k}=${v}`).join(' ')}`);
}

/** The NetworkUnavailable=False condition flanneld sets once its network is up. */
export async function markNetworkAvailable(api: NodeApi, nodeName: string): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const condition = { type: 'NetworkUnavailable', status: 'False', reason: 'FlannelIsUp', message: 'Flannel is running on this node', lastTransitionTime: now, lastHeartbeatTime: now };
  try {
    await api.patchNodeStatus(nodeName, { status: { conditions: [condition] } });
  } catch (err) {
    throw new Error(`setting NetworkUnavailable=False on Node ${nodeName} (PATCH nodes/${nodeName}/status): ${(err as Error).message}`);
  }
}
