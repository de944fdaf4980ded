import { Command } from 'commander';
import { registerAgent } from './commands/agent';

/**
 * Entry point of lotse-agent.js, the `lotse agent` command alone. The hosts' agent runs it rather
 * than lotse.js: V8 parses all of a script's source up front and keeps it for the process's life,
 * so an agent started from lotse.js carried every other command's code too (~18 MB RSS on the
 * shipped Node.js 24, bench/RESULTS.md).
 */
export async function main(argv: string[]): Promise<void> {
  const program = new Command('lotse').description('The lotse node agent alone (lotse.js carries every command).').showHelpAfterError();
  registerAgent(program);
  await program.parseAsync(argv);
}
