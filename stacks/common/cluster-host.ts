import type { Role } from '../config/cluster-config';

/**
 * One machine as the bootstrap sees it, in the inventory's vocabulary (DESIGN.md). In a cloud
 * stack the addresses are Terraform references that resolve at apply time.
 */
export interface ClusterHost {
  readonly name: string;
  readonly role: Role;
  /** Address the bootstrap connects to over SSH. */
  readonly address: string;
  /** Address the other machines use (VPC address; equals `address` where there is no VPC). */
  readonly privateAddress: string;
  readonly user: string;
  readonly port: number;
}
