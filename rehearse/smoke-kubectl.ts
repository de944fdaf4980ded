import { run } from './command-runner';

/** kubectl against the rehearsal's context: stdout, or an error with kubectl's last words. */
export type Kubectl = (args: string[], input?: string) => Promise<string>;

export function kubectlFor(o: { kubeconfig: string; context: string }): Kubectl {
  return async (args, input) => {
    const r = await run(['kubectl', '--kubeconfig', o.kubeconfig, '--context', o.context, ...args], { input, allowFailure: true, timeoutMs: 90_000 }).catch((err: Error) => {
      throw new Error(`kubectl cannot run (${err.message}): the smoke checks need kubectl on PATH`);
    });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`);
    return r.stdout.trim();
  };
}
