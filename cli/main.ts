import { Command } from 'commander';
import { commandLoaders } from './commands';

/** Entry point of the `lotse` command; bin/lotse calls it with process.argv. */
export async function main(argv: string[]): Promise<void> {
  const program = new Command('lotse')
    .description('Stand up and run a Kubernetes-compatible cluster: master, agents, stacks, bootstrap.')
    .version(packageVersion())
    .showHelpAfterError();
  const named = argv[2] && commandLoaders[argv[2]] ? [commandLoaders[argv[2]]] : Object.values(commandLoaders);
  for (const load of named) (await load())(program);
  await program.parseAsync(argv);
}

function packageVersion(): string {
  // dist/cli/main.js and cli/main.ts sit at different depths; walk up to the package root.
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      return (require(rel) as { version: string }).version;
    } catch {
      // try the next location
    }
  }
  return 'unknown';
}
