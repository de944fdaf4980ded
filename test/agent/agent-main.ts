import { Command } from 'commander';
import { registerAgent } from '../../cli/commands/agent';

/** Entry point the agent tests bundle with esbuild, so `lotse agent` runs as a real process they can kill -9. */
const program = new Command('lotse');
registerAgent(program);
program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`lotse agent: ${err.message}\n`);
  process.exit(1);
});
