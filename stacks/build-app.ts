// The cdktf app as a value, without running it: stacks/main.ts runs it for the cdktf CLI, and
// `lotse rehearse` synthesizes it in-process (a module that synthesized on import would do so
// inside every bundle that includes the rehearsal).
import { App } from 'cdktf';
import type { ClusterConfig } from './config/cluster-config';
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
