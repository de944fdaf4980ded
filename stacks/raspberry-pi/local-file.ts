import type { Construct } from 'constructs';
import { GenericProvider, GenericResource, type ProviderIdentity } from '../common/generic-resource';

export const LOCAL_PROVIDER: ProviderIdentity = { source: 'hashicorp/local', name: 'local', versionConstraint: '~> 2.5' };

export class LocalProvider extends GenericProvider {
  constructor(scope: Construct, id: string) {
    super(scope, id, LOCAL_PROVIDER);
  }
}

export interface LocalFileProps {
  /** Absolute path: Terraform runs inside cdktf.out, so relative paths would land there. */
  readonly filename: string;
  readonly content: string;
  /** Octal string as the provider wants it, e.g. "0644". */
  readonly permission: string;
}

/** hashicorp/local's local_file: the file exists after `cdktf deploy`, and `destroy` removes it. */
export class LocalFile extends GenericResource {
  constructor(scope: Construct, id: string, props: LocalFileProps) {
    super(scope, id, LOCAL_PROVIDER, 'local_file', {
      filename: props.filename,
      content: props.content,
      file_permission: props.permission,
      directory_permission: '0755',
    });
  }
}
