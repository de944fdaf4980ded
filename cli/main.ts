import { Command } from 'commander';
import { commands } from './commands';

/** Entry point of the `lotse` command; bin/lotse calls it with process.argv. */
export async function main(argv: string[]): Promise<void> {
  const program = new Command('lotse')
    .description('Stand up and run a Kubernetes-compatible cluster: master, agents, stacks, bootstrap.')
    .version(require('../package.json').version as string)
    .showHelpAfterError();
  for (const register of commands) register(program);
  await program.parseAsync(argv);
}
