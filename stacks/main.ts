import { App } from 'cdktf';
import type { ClusterConfig } from './config/cluster-config';
import { ConfigError } from './config/config-error';
import { credentialProblems } from './config/credentials';
import { loadConfig } from './config/load';
import { DIGITALOCEAN_STACK, DigitalOceanStack } from './digitalocean/stack';
import { GCE_STACK, GceStack } from './gce/stack';
import { RASPBERRY_PI_STACK, RaspberryPiStack } from './raspberry-pi/stack';
import { SCALEWAY_STACK, ScalewayStack } from './scaleway/stack';

export interface BuildAppOptions {
  /** Where synth writes; default: what the cdktf CLI passes (CDKTF_OUTDIR) or cdktf.out. */
  readonly outdir?: string;
  /** Base for raspberryPi.outputDir; default: the current directory. */
  readonly baseDir?: string;
}

/** One stack per target section present in cluster.yaml: `cdktf deploy gce` etc. */
export function buildApp(config: ClusterConfig, options: BuildAppOptions = {}): App {
  const app = new App(options.outdir ? { outdir: options.outdir } : {});
  if (config.gce) new GceStack(app, GCE_STACK, config, config.gce);
  if (config.digitalocean) new DigitalOceanStack(app, DIGITALOCEAN_STACK, config, config.digitalocean);
  if (config.scaleway) new ScalewayStack(app, SCALEWAY_STACK, config, config.scaleway);
  if (config.raspberryPi) new RaspberryPiStack(app, RASPBERRY_PI_STACK, config, config.raspberryPi, { baseDir: options.baseDir });
  return app;
}

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
