import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** flanneld's vxlan device, which carries the node subnet's network address as a /32. */
export const VTEP_DEVICE = 'flannel.1';

/** Podman 4 refuses a network whose subnet holds any address of the host's interfaces. */
export function isSubnetInUseRefusal(err: unknown): boolean {
  return /already used on the host/.test((err as Error)?.message ?? '');
}

/**
 * Holds flannel.1 while its own address is off: the kernel flushes every route through a device
 * whose last IPv4 address goes, which would take flannel's routes to the other nodes with it.
 */
const PLACEHOLDER = '169.254.253.254/32';

/**
 * Runs `create` with flannel's /32 (the subnet's network address on flannel.1) taken off for the
 * moment, then puts it back. Podman 4 counts that address as the subnet being in use on the host
 * and refuses the pods' network, although the address only names the overlay's end of the route
 * (podman 5 and docker do not object). A link-local placeholder stays on the device meanwhile so
 * flannel's routes survive. Without the address on flannel.1, `create` runs as it is.
 */
export async function withoutVtepAddress<T>(subnet: string, create: () => Promise<T>, log?: (msg: string) => void): Promise<T> {
  const address = `${subnet.split('/')[0]}/32`;
  const shown = await run('ip', ['-4', '-o', 'addr', 'show', 'dev', VTEP_DEVICE]).then((r) => r.stdout, () => '');
  if (!shown.includes(` ${address} `)) return create();
  log?.(`${VTEP_DEVICE}'s ${address} lies in the pods' subnet ${subnet}, which podman counts as in use: creating the network with it off for a moment`);
  await run('ip', ['addr', 'replace', PLACEHOLDER, 'dev', VTEP_DEVICE]);
  await run('ip', ['addr', 'del', address, 'dev', VTEP_DEVICE]);
  try {
    return await create();
  } finally {
    await run('ip', ['addr', 'add', address, 'dev', VTEP_DEVICE]).catch((err: Error) => log?.(`cannot put ${address} back on ${VTEP_DEVICE}: ${err.message}; restart flannel`));
    await run('ip', ['addr', 'del', PLACEHOLDER, 'dev', VTEP_DEVICE]).catch(() => undefined);
  }
}
