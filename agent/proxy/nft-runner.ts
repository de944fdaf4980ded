import { spawn } from 'node:child_process';

/** Runs nft scripts, in the host's network namespace or in a named one (`ip netns exec`). */
export interface NftRunner {
  apply(script: string): Promise<void>;
}

export function nftRunner(netns?: string): NftRunner {
  const argv = netns ? ['ip', 'netns', 'exec', netns, 'nft', '-f', '-'] : ['nft', '-f', '-'];
  return {
    apply: (script) =>
      new Promise((resolve, reject) => {
        const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', (err) => reject(new Error(`cannot run ${argv.join(' ')}: ${err.message}; install nftables or use the userspace proxy`)));
        child.on('close', (code) => {
          if (code === 0) resolve();
          else reject(new Error(`${argv.join(' ')} failed (exit ${code}): ${stderr.trim().split('\n').slice(0, 6).join(' | ')}`));
        });
        child.stdin.end(script);
      }),
  };
}

/**
 * Whether this node lets us program nftables NAT: creates and deletes a scratch table with a nat
 * hook, numgen and a dynamic set (what the kernel proxier needs), so a missing module or
 * capability shows up here rather than at the first service.
 */
export async function nftUsable(runner: NftRunner): Promise<{ ok: boolean; reason?: string }> {
  const t = `ip lotse-probe-${process.pid}`;
  const probe = [
    `add table ${t}`,
    `add set ${t} s { type ipv4_addr; flags dynamic,timeout; timeout 10s; }`,
    `add chain ${t} c { type nat hook output priority -100; policy accept; }`,
    `add chain ${t} d`,
    `add rule ${t} d update @s { ip saddr }`,
    `add rule ${t} c ip daddr 192.0.2.1 numgen inc mod 1 vmap { 0 : goto d }`,
    `add chain ${t} f { type filter hook output priority -110; policy accept; }`,
    `add rule ${t} f ip daddr 192.0.2.2 meta l4proto tcp reject with tcp reset`,
    `delete table ${t}`,
  ].join('\n');
  try {
    await runner.apply(probe + '\n');
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}
