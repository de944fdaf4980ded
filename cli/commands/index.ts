import type { Command } from 'commander';
import { registerAgent } from './agent';
import { registerFlash } from './flash';
import { registerMaster } from './master';

/** Each command lives in its own file and adds itself to the program. */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [registerMaster, registerFlash, registerAgent];
