import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface SubnetFileContent {
  /** FLANNEL_NETWORK, e.g. 10.244.0.0/16 */
  readonly network: string;
  /** FLANNEL_SUBNET: the first host of the podCIDR with its prefix, e.g. 10.244.1.1/24 */
  readonly subnet: string;
  readonly mtu: number;
  readonly ipMasq: boolean;
}

export function subnetFileText(c: SubnetFileContent): string {
  return `FLANNEL_NETWORK=${c.network}\nFLANNEL_SUBNET=${c.subnet}\nFLANNEL_MTU=${c.mtu}\nFLANNEL_IPMASQ=${c.ipMasq}\n`;
}

/** Writes subnet.env as flanneld does; write-then-rename, because the agent re-reads it every second. */
export function writeSubnetFile(path: string, c: SubnetFileContent): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, subnetFileText(c), { mode: 0o644 });
    renameSync(tmp, path);
  } catch (err) {
    throw new Error(`cannot write the subnet file ${path} (--subnet-file): ${(err as Error).message}`);
  }
}
