import { buildApp } from './build-app';
import { ConfigError } from './config/config-error';
import { credentialProblems } from './config/credentials';
import { loadConfig } from './config/load';

export { buildApp, type BuildAppOptions } from './build-app';

/**
 * Entry point of `cdktf synth|deploy|destroy`. A user's cluster.yaml must also name where each
 * cloud's credentials come from; the committed example synthesizes without any, as a demo.
 */
export function main(env: NodeJS.ProcessEnv = process.env): void {
  const loaded = loadConfig(env);
  if (!loaded.isExample && env.LOTSE_SKIP_CREDENTIAL_CHECK !== '1') {
    const problems = credentialProblems(loaded.config, env);
    if (problems.length > 0) throw new ConfigError(loaded.path, problems);
  }
  if (loaded.isExample) process.stderr.write(`lotse: no cluster.yaml; synthesizing ${loaded.path} as a demo\n`);
  buildApp(loaded.config).synth();
}

if (require.main === module) {
  try {
    main();
  } catch (error) {
    process.stderr.write(`${error instanceof ConfigError ? error.message : (error as Error).stack}\n`);
    process.exit(1);
  }
}
