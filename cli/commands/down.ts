import type { Command } from 'commander';
import { clusterDown } from '../local/cluster-down';
import { createStepProgress } from '../local/step-progress';

export function registerDown(program: Command): void {
  program
    .command('down')
    .description('Stop the local cluster and remove the containers its agents created')
    .option('--purge', 'also delete its data (store, certificates, logs) under $LOTSE_HOME/local', false)
    .action(async (flags: { purge: boolean }) => {
      await clusterDown({ purge: flags.purge }, createStepProgress());
    });
}
