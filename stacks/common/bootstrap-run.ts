import { DataResource, Fn, type ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import type { ClusterOutputsDocument } from '../../cluster/cluster-outputs-document';

export interface BootstrapRunProps {
  /** The stack's outputs document (cluster/cluster-outputs-document.ts); tokens resolve at apply time. */
  readonly outputs: ClusterOutputsDocument;
  /** How to invoke lotse, e.g. `lotse` or `npx lotse`. */
  readonly command: string;
  /** The machines; the bootstrap runs after all of them exist. */
  readonly dependsOn: readonly ITerraformDependable[];
}

/** Written next to the stack's Terraform state (cdktf.out/stacks/NAME); holds no secret. */
export const OUTPUTS_FILE = 'lotse-outputs.json';

/**
 * Runs `lotse bootstrap --outputs FILE` once the machines exist, as a terraform_data resource with
 * a local-exec provisioner. A non-zero exit fails `cdktf deploy` with the bootstrap's own message.
 * It runs again when the set of machines changes (triggersReplace), not on every deploy.
 */
export class BootstrapRun extends Construct {
  readonly resource: DataResource;

  constructor(scope: Construct, id: string, props: BootstrapRunProps) {
    super(scope, id);
    const document = Fn.jsonencode(props.outputs);
    this.resource = new DataResource(this, 'run', {
      triggersReplace: { outputs: document },
      dependsOn: [...props.dependsOn],
      provisioners: [
        {
          type: 'local-exec',
          // The JSON travels in an environment variable so no shell quoting can mangle it.
          command: `umask 077 && printf '%s' "$LOTSE_OUTPUTS" > ${OUTPUTS_FILE} && ${props.command} bootstrap --outputs ${OUTPUTS_FILE}`,
          environment: { LOTSE_OUTPUTS: document },
        },
        // `cdktf destroy` leaves nothing of the cluster behind, not even this local copy of its outputs.
        { type: 'local-exec', when: 'destroy', command: `rm -f ${OUTPUTS_FILE}` },
      ],
    });
  }
}
