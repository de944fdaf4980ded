import { Construct } from 'constructs';

/**
 * Scaleway has no network of the cluster's own here: the servers reach each other over their
 * flexible IPs, and the security groups (firewall.ts) let only the cluster's own addresses and
 * network.adminCidrs in. So a machine's private address is its public one, and network.nodeCidr
 * does not apply. The construct exists so every cloud folder has the same parts.
 */
export class ScalewayNetwork extends Construct {}
