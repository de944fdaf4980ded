import { Command } from 'commander';
import { registerAgent } from '../commands/agent';
import { registerMaster } from '../commands/master';

/**
 * Entry point of the master and agent processes `lotse up` starts: the same commands as
 * `lotse master` / `lotse agent`, without loading every other command first (the agent would
 * otherwise load the whole master, about half a second of each node's start).
 */
async function main(argv: string[]): Promise<void> {
  const program = new Command('lotse');
  const which = argv[2];
  if (which === 'master') registerMaster(program);
  else if (which === 'agent') registerAgent(program);
  else throw new Error(`component-main runs "master" or "agent", not "${which ?? ''}"`);
  await program.parseAsync(argv);
}

if (require.main === module) {
  main(process.argv).catch((err: Error) => {
    process.stderr.write(`lotse: ${err.message}\n`);
    process.exit(1);
  });
}
