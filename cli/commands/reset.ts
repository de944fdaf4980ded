import type { Command } from 'commander';
import { printStep } from '../../bootstrap/host-steps';
import { runReset } from '../../bootstrap/run-reset';
import { inventoryFrom } from './bootstrap';

export function registerReset(program: Command): void {
  program
    .command('reset')
    .description('Stop lotse on the inventory\'s hosts and remove what the bootstrap installed (keeps the local PKI in $LOTSE_HOME)')
    .option('--inventory <file>', 'the inventory YAML the cluster was bootstrapped from')
    .option('--outputs <file>', 'or the outputs JSON of a deployed stack')
    .action(async (flags: { inventory?: string; outputs?: string }) => {
      const inventory = inventoryFrom(flags);
      await runReset(inventory, { onStep: printStep(process.stderr), onNotice: (m) => process.stderr.write(`  note: ${m}\n`) });
      process.stderr.write(`lotse removed from the ${inventory.hosts.length} hosts of ${inventory.name}\n`);
    });
}
