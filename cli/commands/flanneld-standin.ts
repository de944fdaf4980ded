import type { Command } from 'commander';
import { runFlanneldStandin } from '../../rehearse/flannel-standin/flanneld-standin';

/**
 * `lotse flanneld-standin FLANNELD-FLAGS...`: the flanneld stand-in `lotse rehearse` runs where
 * flannel's image cannot be fetched. Hidden (not a user command) and without options of its own:
 * every argument after the name is flanneld's, passed through as written.
 */
export function registerFlanneldStandin(program: Command): void {
  program
    .command('flanneld-standin', { hidden: true })
    .description("flanneld --kube-subnet-mgr with the vxlan backend, stood in (takes flanneld's flags)")
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[flanneld-flags...]')
    .action(async (_flags: string[], _options: unknown, command: Command) => {
      const stop = new AbortController();
      const abort = (): void => stop.abort();
      process.once('SIGTERM', abort);
      process.once('SIGINT', abort);
      try {
        await runFlanneldStandin(command.args, process.env, stop.signal);
      } finally {
        process.off('SIGTERM', abort);
        process.off('SIGINT', abort);
      }
    });
}
