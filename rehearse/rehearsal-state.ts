import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostRecord } from './host-machine';
import type { LabNetwork } from './lab-network';
import { stackDir } from './rehearse-home';

/** What a rehearsal left running, so `--status`, `--power-*` and `--down` find it from another process. */
export interface RehearsalState {
  readonly stack: string;
  readonly image: string;
  readonly network: LabNetwork;
  readonly hosts: HostRecord[];
  /** The `lotse bootstrap --outputs` document written for these hosts. */
  readonly outputsFile: string;
  readonly identityFile: string;
}

const stateFile = (stack: string): string => join(stackDir(stack), 'state.json');

export function loadState(stack: string): RehearsalState | undefined {
  const file = stateFile(stack);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as RehearsalState) : undefined;
}

export function saveState(state: RehearsalState): void {
  writeFileSync(stateFile(state.stack), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

export function forgetState(stack: string): void {
  rmSync(stateFile(stack), { force: true });
}
