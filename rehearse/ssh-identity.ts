import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './command-runner';
import { stackDir } from './rehearse-home';

/**
 * The rehearsal's own key pair (ed25519, 0600 in the stack's folder). Its public key is added to
 * cluster.yaml's sshAuthorizedKeys before synthesis, so the bootstrap logs in without the user's
 * ssh-agent and the user's keys stay in the configs as they are.
 */
export async function rehearsalIdentity(stack: string): Promise<{ privateKeyFile: string; publicKey: string }> {
  const file = join(stackDir(stack), 'id_ed25519');
  if (!existsSync(file)) await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `lotse-rehearse-${stack}`, '-f', file]);
  return { privateKeyFile: file, publicKey: readFileSync(`${file}.pub`, 'utf8').trim() };
}
