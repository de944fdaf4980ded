import type { Command } from 'commander';

/** Each command lives in its own file and adds itself to the program. */
export type RegisterCommand = (program: Command) => void;

/**
 * Command name → loader of its module. Only the command being run is loaded, so `lotse master`
 * does not pay for the agent's Docker client or the stacks' constructs at start-up.
 */
export const commandLoaders: Record<string, () => Promise<RegisterCommand>> = {
  master: async () => (await import('./master')).registerMaster,
  agent: async () => (await import('./agent')).registerAgent,
  up: async () => (await import('./up')).registerUp,
  down: async () => (await import('./down')).registerDown,
  status: async () => (await import('./status')).registerStatus,
  kubeconfig: async () => (await import('./kubeconfig')).registerKubeconfig,
  dashboard: async () => (await import('./dashboard')).registerDashboard,
  bootstrap: async () => (await import('./bootstrap')).registerBootstrap,
  reset: async () => (await import('./reset')).registerReset,
  flash: async () => (await import('./flash')).registerFlash,
  service: async () => (await import('./service')).registerService,
  rehearse: async () => (await import('./rehearse')).registerRehearse,
  token: async () => (await import('./token')).registerToken,
  etcd: async () => (await import('./etcd')).registerEtcd,
  'flanneld-standin': async () => (await import('./flanneld-standin')).registerFlanneldStandin,
};
