import { hostname } from 'node:os';
import { KubeClient } from '../../kube/client';
import type { ControllerStarter } from '../server';
import { StoreListWatch } from '../api/store-list-watch';
import { KeyClaims } from '../store/key-claims';
import { startControllerManager, type ControllerManagerOptions } from './controller-manager';
import type { NodeIpamSettings } from './node-ipam/node-ipam-controller';

/** Where pod CIDR claims live in the store. */
export const POD_CIDR_CLAIMS = '/lotse/allocations/podcidr/';

/**
 * The controller manager as `startMaster({ controllers })` wants it: a client with the admin
 * token against the master's own URL for writes, informers reading the master's store directly,
 * logs into the master's logger, leader election on.
 * The identity is the host and port, so a master restarted on the same host and port picks up
 * its own lease at once instead of waiting out a lease duration.
 */
export function masterControllers(
  options: Partial<Omit<ControllerManagerOptions, 'client' | 'listWatch' | 'nodeIpam'>> = {},
  podNetwork?: Omit<NodeIpamSettings, 'claims'>,
): ControllerStarter {
  return async (api) => {
    const client = new KubeClient({ server: api.url, ca: api.caPem, token: api.token });
    const logger = api.log.child({ component: 'controller-manager' });
    const manager = await startControllerManager({
      client,
      listWatch: new StoreListWatch(api.store, client),
      identity: `${hostname()}_${new URL(api.url).port}`,
      leaderElection: true,
      rootCaPem: api.caPem,
      nodeIpam: podNetwork && { ...podNetwork, claims: new KeyClaims(api.store, POD_CIDR_CLAIMS) },
      log: (msg, fields) => logger.info(fields ?? {}, msg),
      ...options,
    });
    return {
      stop: async () => {
        await manager.stop();
        client.close();
      },
    };
  };
}
