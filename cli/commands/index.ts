import type { Command } from 'commander';
import { registerAgent } from './agent';
import { registerFlash } from './flash';
import { registerMaster } from './master';
import { registerUp } from './up';
import { registerDown } from './down';
import { registerStatus } from './status';
import { registerKubeconfig } from './kubeconfig';
import { registerBootstrap } from './bootstrap';
import { registerReset } from './reset';
import { registerDashboard } from './dashboard';

/** Each command lives in its own file and adds itself to the program. */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [registerMaster, registerFlash, registerAgent, registerUp, registerDown, registerStatus, registerKubeconfig, registerBootstrap, registerReset, registerDashboard];
