import type { ITerraformDependable } from 'cdktf';

/**
 * One machine a cloud stack creates, whatever the cloud calls it. Each cloud's `node.ts`
 * implements it with a constructor that takes only its props.
 */
export interface CloudNode {
  /** Address the bootstrap connects to over SSH; a Terraform reference until apply. */
  readonly publicAddress: string;
  /** Address the other machines use (the VPC's, or the public one where the cloud gives none). */
  readonly privateAddress: string;
  /** The resource that exists once the machine does: the bootstrap runs after all of them. */
  readonly machine: ITerraformDependable;
}
