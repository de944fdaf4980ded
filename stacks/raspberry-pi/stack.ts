import { resolve } from 'node:path';
import { TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import type { ClusterConfig, RaspberryPiConfig } from '../config/cluster-config';
import { piInventory } from './pi-inventory';
import { LocalFile, LocalProvider } from './local-file';
import { piIgnition, resolvePiNode } from './pi-ignition';

export const RASPBERRY_PI_STACK = 'raspberry-pi';

export interface RaspberryPiStackOptions {
  /** Base for a relative raspberryPi.outputDir; default: the directory synth runs in. */
  readonly baseDir?: string;
}

/**
 * Raspberry Pis are not created by a cloud: this stack writes one Ignition file per Pi (for
 * `lotse flash --ignition`) and the inventory for `lotse bootstrap --inventory`.
 */
export class RaspberryPiStack extends TerraformStack {
  readonly files: Record<string, LocalFile> = {};
  readonly ignitions: Record<string, string> = {};
  readonly inventory: string;
  readonly outputDir: string;

  constructor(scope: Construct, id: string, cluster: ClusterConfig, pi: RaspberryPiConfig, options: RaspberryPiStackOptions = {}) {
    super(scope, id);
    new LocalProvider(this, 'local');
    this.outputDir = resolve(options.baseDir ?? process.cwd(), pi.outputDir);
    const paths: Record<string, string> = {};
    for (const node of pi.nodes) {
      const ignition = piIgnition(cluster, resolvePiNode(pi, node)).render();
      const filename = `${this.outputDir}/${node.name}.ign`;
      this.ignitions[node.name] = ignition;
      this.files[node.name] = new LocalFile(this, `${node.name}-ignition`, { filename, content: ignition, permission: '0644' });
      paths[node.name] = filename;
    }
    this.inventory = piInventory(cluster, pi);
    const inventoryFile = `${this.outputDir}/inventory.yaml`;
    new LocalFile(this, 'inventory', { filename: inventoryFile, content: this.inventory, permission: '0644' });
    new TerraformOutput(this, 'ignitionFiles', { value: paths, description: 'lotse flash --ignition FILE, one per Pi' });
    new TerraformOutput(this, 'inventoryFile', { value: inventoryFile, description: 'lotse bootstrap --inventory FILE once the Pis are up' });
  }
}
