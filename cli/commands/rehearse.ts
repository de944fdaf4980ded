import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { resolveConfigPath } from '../../stacks/config/load';
import type { OperatingSystem } from '../../stacks/config/cluster-config';
import { hostStatuses, powerOff, powerOn, tearDown } from '../../rehearse/rehearsal-hosts';
import { rehearse } from '../../rehearse/rehearsal-run';
import { loadState } from '../../rehearse/rehearsal-state';

interface RehearseFlags {
  stack: string;
  config?: string;
  os?: 'fcos' | 'flatcar';
  keep?: boolean;
  loadImage: string[];
  status?: boolean;
  powerOff?: string;
  powerOn?: string;
  down?: boolean;
  kubeconfig?: string;
  timeout: string;
  /** commander's --no-smoke sets smoke to false. */
  smoke: boolean;
  smokeImage?: string;
}

const OS: Record<string, OperatingSystem> = { fcos: 'fedora-coreos', flatcar: 'flatcar' };

function readConfig(flags: RehearseFlags): { raw: Record<string, unknown>; path: string } {
  const path = flags.config ?? resolveConfigPath().path;
  return { raw: parse(readFileSync(path, 'utf8')) as Record<string, unknown>, path };
}

async function status(stack: string): Promise<void> {
  const state = loadState(stack);
  if (!state) {
    process.stdout.write(`no ${stack} rehearsal here (start one: lotse rehearse --stack ${stack})\n`);
    return;
  }
  process.stdout.write(`${'HOST'.padEnd(18)}${'ROLE'.padEnd(8)}${'ADDRESS'.padEnd(16)}${'STATE'.padEnd(10)}MEMORY\n`);
  for (const h of hostStatuses(state)) {
    process.stdout.write(`${h.name.padEnd(18)}${h.role.padEnd(8)}${h.address.padEnd(16)}${(h.running ? 'running' : 'off').padEnd(10)}${h.memoryMiB === undefined ? '' : `${h.memoryMiB} MiB`}\n`);
  }
}

function requireState(stack: string) {
  const state = loadState(stack);
  if (!state) throw new Error(`no ${stack} rehearsal is running here; start one with "lotse rehearse --stack ${stack} --keep"`);
  return state;
}

export function registerRehearse(program: Command): void {
  program
    .command('rehearse')
    .description("Boot a stack's machines on this computer from their own Ignition configs, run the real bootstrap, and report whether the cluster would come up")
    .option('--stack <name>', 'gce | digitalocean | scaleway | raspberry-pi', 'gce')
    .option('--config <file>', 'cluster.yaml to synthesize (default: LOTSE_CONFIG, ./cluster.yaml, else the example)')
    .option('--os <os>', 'fcos | flatcar (overrides cluster.yaml\'s os)')
    .option('--keep', 'leave the hosts running afterwards (remove them with --down)', false)
    .option('--load-image <image>', 'copy a local image into every host\'s engine (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--status', 'list the hosts of a kept rehearsal, their addresses, state and memory')
    .option('--power-off <host>', 'stop a host as a cloud console would (its disk stays)')
    .option('--power-on <host>', 'start a stopped host again')
    .option('--down', 'remove every host, mount, namespace and bridge of the rehearsal')
    .option('--kubeconfig <file>', 'kubeconfig to merge the context rehearse-STACK into (default: $KUBECONFIG or ~/.kube/config)')
    .option('--timeout <seconds>', 'how long the bootstrap waits for etcd, the API and the nodes', '300')
    .option('--smoke-image <image>', 'image the smoke checks run (busybox with /bin/hello on 8080)', 'localhost/lotse-hello:1')
    .option('--no-smoke', 'stop once every node is Ready, without the smoke checks')
    .action(async (flags: RehearseFlags) => {
      const say = (host: string, step: string, detail: string): void => void process.stderr.write(`  ${host.padEnd(16)} ${step.padEnd(10)} ${detail}\n`);
      if (flags.status) return status(flags.stack);
      if (flags.down) {
        const removed = await tearDown(flags.stack, say);
        process.stderr.write(removed ? `${flags.stack} rehearsal removed\n` : `no ${flags.stack} rehearsal to remove\n`);
        return;
      }
      if (flags.powerOff) {
        await powerOff(requireState(flags.stack), flags.powerOff);
        process.stderr.write(`${flags.powerOff}: powered off\n`);
        return;
      }
      if (flags.powerOn) {
        const boot = await powerOn(requireState(flags.stack), flags.powerOn);
        process.stderr.write(`${flags.powerOn}: ${boot.state} after ${(boot.ms / 1000).toFixed(1)} s\n`);
        return;
      }
      if (flags.os && !OS[flags.os]) throw new Error(`--os ${flags.os}: choose fcos or flatcar`);
      const { raw, path } = readConfig(flags);
      // Ctrl-C removes the hosts like a failure does (unless --keep).
      const interrupted = (): void => {
        process.stderr.write('\ninterrupted: removing the rehearsal\n');
        void (flags.keep ? Promise.resolve(false) : tearDown(flags.stack, say)).finally(() => process.exit(130));
      };
      process.once('SIGINT', interrupted);
      try {
        const outcome = await rehearse({
          stack: flags.stack, rawConfig: raw, configPath: path, os: flags.os ? OS[flags.os] : undefined, keep: flags.keep === true, loadImages: flags.loadImage,
          kubeconfigPath: flags.kubeconfig, readyTimeoutMs: Number(flags.timeout) * 1000, out: process.stderr,
          smokeImage: flags.smoke ? flags.smokeImage : false,
        });
        const checks = outcome.smoke.length > 0 ? `, ${outcome.smoke.length} of ${outcome.smoke.length} smoke checks passed` : '';
        process.stderr.write(`rehearsal of ${flags.stack} passed: every node Ready ${(outcome.readyMs / 1000).toFixed(1)} s after the start${checks}\n`);
      } finally {
        process.removeListener('SIGINT', interrupted);
      }
    });
}
