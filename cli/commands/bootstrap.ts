import type { Command } from 'commander';
import { loadInventory, loadOutputs, type Inventory } from '../../bootstrap/inventory';
import { printStep } from '../../bootstrap/host-steps';
import { runBootstrap } from '../../bootstrap/run-bootstrap';

interface BootstrapFlags {
  inventory?: string;
  outputs?: string;
  kubeconfig?: string;
  timeout: string;
  sshTimeout: string;
  forgetHost?: string[];
}

/** The inventory from --inventory (YAML) or --outputs (a deployed stack's JSON), exactly one of them. */
export function inventoryFrom(flags: { inventory?: string; outputs?: string }): Inventory {
  if (Boolean(flags.inventory) === Boolean(flags.outputs)) throw new Error('give exactly one of --inventory FILE (YAML) or --outputs FILE (a deployed stack\'s outputs JSON)');
  return flags.inventory ? loadInventory(flags.inventory) : loadOutputs(flags.outputs as string);
}

export function registerBootstrap(program: Command): void {
  program
    .command('bootstrap')
    .description('Turn machines reachable over SSH into a Ready cluster (safe to run again: it only changes what differs)')
    .option('--inventory <file>', 'inventory YAML: name, store, hosts[] (name, address, port, user, role, identityFile, jump)')
    .option('--outputs <file>', 'the outputs JSON of a deployed stack (lotse-outputs.json)')
    .option('--kubeconfig <file>', 'kubeconfig to merge the context into (default: $KUBECONFIG or ~/.kube/config)')
    .option('--timeout <seconds>', 'how long to wait for etcd, the API and the nodes', '300')
    .option('--ssh-timeout <seconds>', 'how long to keep trying SSH on machines that are still booting', '900')
    .option('--forget-host <name...>', 'drop the pinned SSH host key of these hosts first (a re-flashed or rebuilt machine); the new key is pinned on first use')
    .action(async (flags: BootstrapFlags) => {
      const inventory = inventoryFrom(flags);
      const started = Date.now();
      process.stderr.write(`bootstrapping ${inventory.name}: ${inventory.hosts.length} hosts\n`);
      const result = await runBootstrap(inventory, {
        onStep: printStep(process.stderr),
        onNotice: (m) => process.stderr.write(`  note: ${m}\n`),
        kubeconfigPath: flags.kubeconfig,
        readyTimeoutMs: seconds(flags.timeout, '--timeout'),
        sshWaitMs: seconds(flags.sshTimeout, '--ssh-timeout'),
        forgetHosts: flags.forgetHost,
      });
      process.stderr.write(`cluster ${inventory.name} is Ready in ${((Date.now() - started) / 1000).toFixed(1)} s: kubectl --context ${result.context} get nodes (${result.server})\n`);
    });
}

function seconds(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 86_400) throw new Error(`${flag} must be a number of seconds between 1 and 86400, got "${value}"`);
  return Math.round(n * 1000);
}
