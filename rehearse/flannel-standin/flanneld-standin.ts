import { findExternalInterface } from './external-interface';
import { ownAnnotations } from './flannel-annotations';
import { FLANNELD_USAGE, parseFlanneldFlags, UsageRequested, type FlanneldFlags } from './flanneld-flags';
import { installIpMasq, removeIpMasq } from './ip-masq';
import { readNetConf, type NetConf } from './net-conf';
import { NodeApi } from './node-api';
import { watchNodes } from './node-watch';
import { markNetworkAvailable, publishAnnotations, waitForPodCidr } from './own-node';
import { stderrLog, type StandinLog } from './standin-log';
import { writeSubnetFile } from './subnet-file';
import { ensureVxlanDevice } from './vxlan-device';
import { VxlanPeers } from './vxlan-peers';
import { retrying } from './waiting';

/**
 * Does what `flanneld --kube-subnet-mgr` with the vxlan backend does, for hosts that cannot pull
 * flannel's image: waits for the Node's podCIDR, makes flannel.VNI, publishes the lease on the
 * Node, writes subnet.env, then keeps every other Node's fdb entry, neighbour and route in step
 * with the Nodes until `signal` aborts (the CLI aborts it on SIGTERM and SIGINT).
 */
export async function runFlanneldStandin(argv: string[], env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<void> {
  let flags: FlanneldFlags;
  try {
    flags = parseFlanneldFlags(argv, env);
  } catch (err) {
    if (!(err instanceof UsageRequested)) throw err;
    process.stderr.write(`${FLANNELD_USAGE}\n`);
    return;
  }
  const nodeName = env.NODE_NAME;
  if (!nodeName) throw new Error('NODE_NAME is not set: flanneld in kube-subnet-mgr mode learns its Node from it (the DaemonSet sets it from spec.nodeName)');
  const netConf = readNetConf(flags.netConfPath);
  const api = new NodeApi(flags.kubeconfigFile, env, stderrLog);
  try {
    await runNetwork(flags, netConf, nodeName, api, signal ?? new AbortController().signal, stderrLog);
  } finally {
    api.close();
  }
}

async function runNetwork(flags: FlanneldFlags, netConf: NetConf, nodeName: string, api: NodeApi, signal: AbortSignal, log: StandinLog): Promise<void> {
  const external = await findExternalInterface(flags.ifaces, flags.publicIp);
  log(`node ${nodeName}: network ${netConf.network.text}, vxlan VNI ${netConf.vni} port ${netConf.port} over ${external.name} (${external.address}, MTU ${external.mtu}), public IP ${external.publicIp}`);
  const subnet = await waitForPodCidr(api, nodeName, netConf.network, signal, log);
  if (!subnet) return;
  const device = await ensureVxlanDevice({ vni: netConf.vni, port: netConf.port, external, subnet }, log);
  const annotations = ownAnnotations(netConf.vni, device.mac, external.publicIp);
  await retrying('publishing the lease', () => publishAnnotations(api, nodeName, annotations, log), signal, log);
  if (signal.aborted) return;
  if (flags.ipMasq) await installIpMasq(netConf.network.text, subnet.cidr, log);
  else log('--ip-masq not given: pod traffic leaves unmasqueraded');
  try {
    writeSubnetFile(flags.subnetFile, { network: netConf.network.text, subnet: subnet.firstHostWithPrefix, mtu: device.mtu, ipMasq: flags.ipMasq });
    log(`wrote ${flags.subnetFile}: subnet ${subnet.firstHostWithPrefix}, MTU ${device.mtu}`);
    if (flags.setNodeNetworkUnavailable) await markNetworkAvailable(api, nodeName).catch((err: Error) => log(err.message));
    await watchNodes(api, new VxlanPeers(device.name, nodeName, netConf.network, log), signal, log);
  } finally {
    if (flags.ipMasq) await removeIpMasq(log);
  }
  log('stopped');
}
