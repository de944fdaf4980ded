import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { lotseHome } from '../cluster/lotse-home';

/** `$LOTSE_HOME/rehearse`: cached host images and one state folder per rehearsed stack. */
export function rehearseHome(): string {
  const dir = join(lotseHome(), 'rehearse');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** `$LOTSE_HOME/rehearse/stacks/STACK`: that rehearsal's hosts (overlays, logs, state.json). */
export function stackDir(stack: string): string {
  const dir = join(rehearseHome(), 'stacks', stack);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}
