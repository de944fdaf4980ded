import { hostCommand, hostDelete } from './ip-command';
import type { StandinLog } from './standin-log';

/** The nft table holding the stand-in's masquerading (flanneld keeps its rules in iptables chains). */
export const IP_MASQ_TABLE = 'lotse-flannel';

/**
 * The rules flanneld's --ip-masq sets up, as nft: traffic between pods keeps its addresses; pods
 * reaching anything outside the pod network (multicast aside) are masqueraded; traffic from
 * outside to this node's own subnet is left alone, to other nodes' subnets masqueraded.
 */
export function ipMasqRuleset(network: string, subnet: string): string {
  return [
    // Declaring, then deleting, then defining the table in one transaction replaces it atomically.
    `table ip ${IP_MASQ_TABLE} {}`,
    `delete table ip ${IP_MASQ_TABLE}`,
    `table ip ${IP_MASQ_TABLE} {`,
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    ip saddr ${network} ip daddr ${network} return`,
    `    ip saddr ${network} ip daddr != 224.0.0.0/4 masquerade fully-random`,
    `    ip saddr != ${network} ip daddr ${subnet} return`,
    `    ip saddr != ${network} ip daddr ${network} masquerade fully-random`,
    '  }',
    '}',
    '',
  ].join('\n');
}

export async function installIpMasq(network: string, subnet: string, log: StandinLog): Promise<void> {
  await hostCommand(['nft', '-f', '-'], `installing the --ip-masq rules (nft table ip ${IP_MASQ_TABLE})`, ipMasqRuleset(network, subnet));
  log(`masquerading traffic from ${network} leaving it (nft table ip ${IP_MASQ_TABLE})`);
}

/** flanneld removes its masquerading rules when it stops. */
export async function removeIpMasq(log: StandinLog): Promise<void> {
  try {
    await hostDelete(['nft', 'delete', 'table', 'ip', IP_MASQ_TABLE], `removing nft table ip ${IP_MASQ_TABLE}`);
  } catch (err) {
    log((err as Error).message);
  }
}
