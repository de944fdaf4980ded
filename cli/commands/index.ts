import type { Command } from 'commander';
import { registerFlash } from './flash';

/** Each command lives in its own file and adds itself to the program. */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [registerFlash];
