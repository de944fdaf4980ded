import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ClusterConfig } from './cluster-config';
import type { ConfigProblem } from './config-error';

/**
 * Where each cloud's Terraform provider will find credentials. Checked at synth, so a deploy
 * without them stops with a message naming the key instead of a provider error mid-apply.
 * The values themselves are never read into the stack: providers take them from the environment.
 */
export function credentialProblems(config: ClusterConfig, env: NodeJS.ProcessEnv, home: string = homedir()): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (config.gce) {
    const file = config.gce.credentialsFile;
    if (file !== undefined) {
      if (!existsSync(file)) problems.push({ key: 'gce.credentialsFile', message: `${file} does not exist; point it at a service-account JSON key` });
    } else if (!env.GOOGLE_CREDENTIALS && !env.GOOGLE_APPLICATION_CREDENTIALS && !existsSync(join(home, '.config/gcloud/application_default_credentials.json'))) {
      problems.push({ key: 'gce.credentialsFile', message: 'no Google credentials: set gce.credentialsFile, GOOGLE_APPLICATION_CREDENTIALS, or run `gcloud auth application-default login`' });
    }
  }
  if (config.digitalocean && !env.DIGITALOCEAN_TOKEN && !env.DIGITALOCEAN_ACCESS_TOKEN) {
    problems.push({ key: 'digitalocean', message: 'no DigitalOcean token: export DIGITALOCEAN_TOKEN (an API token with write scope)' });
  }
  if (config.scaleway) {
    const hasCli = existsSync(join(home, '.config/scw/config.yaml'));
    if (!hasCli && (!env.SCW_ACCESS_KEY || !env.SCW_SECRET_KEY)) {
      problems.push({ key: 'scaleway', message: 'no Scaleway credentials: export SCW_ACCESS_KEY and SCW_SECRET_KEY (or run `scw init`)' });
    }
    if (!config.scaleway.projectId && !env.SCW_DEFAULT_PROJECT_ID && !hasCli) {
      problems.push({ key: 'scaleway.projectId', message: 'no project: set scaleway.projectId or export SCW_DEFAULT_PROJECT_ID' });
    }
  }
  return problems;
}
