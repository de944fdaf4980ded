import type { Node, PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1';
import type { KubeClient } from '../../kube/client';
import { core, resourcePath } from '../../kube/resource-path';
import { Scheduler, type SchedulerOptions } from '../scheduler/scheduler';
import type { Log } from '../../kube/log';
import type { ControllerContext } from './controller-context';
import { EventRecorder } from '../../kube/event-recorder';
import { LeaderElector } from '../../kube/leader-election';
import { CONTROLLER_NAMES, CONTROLLERS, type ControllerName, type ControllerSettings } from './registry';
import { SharedInformers } from '../../kube/shared-informers';
import type { ListWatch } from '../../kube/list-watch';

export interface ControllerManagerOptions extends ControllerSettings {
  client: KubeClient;
  /** Where the shared informers list and watch (default: client). The master passes its store. */
  listWatch?: ListWatch;
  /** Who holds the leader lease: unique per master (e.g. hostname + pid). */
  identity: string;
  /** Run only while holding the kube-system lease (default false: run at once). */
  leaderElection?: boolean;
  log?: Log;
  /** Lease timing; tests shorten it. Defaults 15 s / 10 s / 2 s as upstream. */
  leaderElectionTiming?: { leaseDurationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number };
  /** Run only these loops (default all); benchmarks run the scheduler alone. */
  controllers?: ControllerName[];
  /** Scheduler tuning (bindings in flight, share of nodes scored, ...). */
  scheduler?: Partial<Omit<SchedulerOptions, 'client' | 'pods' | 'nodes'>>;
  /** Called with the scheduler each time this manager starts one (benchmarks read its stats). */
  onScheduler?: (scheduler: Scheduler) => void;
}

export interface RunningControllerManager {
  isLeader(): boolean;
  stop(): Promise<void>;
}

interface RunningSet {
  stop(): Promise<void>;
}

/** Builds every loop over one set of shared informers, waits for them to sync, then starts them all. */
async function startControllers(opts: ControllerManagerOptions, log: Log): Promise<RunningSet> {
  const enabled = new Set<string>(opts.controllers ?? CONTROLLER_NAMES);
  const informers = new SharedInformers(opts.listWatch ?? opts.client, (ref, err) => log('informer error', { resource: resourcePath(ref), error: err.message }));
  const recorders: EventRecorder[] = [];
  const ctx: ControllerContext = {
    client: opts.client,
    informers,
    log,
    recorder: (component) => {
      const r = new EventRecorder(opts.client, { component, instance: opts.identity, onError: (err) => log('event not recorded', { error: err.message }) });
      recorders.push(r);
      return r;
    },
  };
  const controllers = CONTROLLERS.filter((c) => enabled.has(c.name)).flatMap((c) => c.make(ctx, opts) ?? []);
  const scheduler = enabled.has('scheduler')
    ? new Scheduler({
        client: opts.client,
        pods: informers.get<Pod>(core('pods')),
        nodes: informers.get<Node>(core('nodes')),
        claims: informers.get<PersistentVolumeClaim>(core('persistentvolumeclaims')),
        volumes: informers.get<PersistentVolume>(core('persistentvolumes')),
        recorder: ctx.recorder('default-scheduler'),
        log,
        ...opts.scheduler,
      })
    : undefined;
  await informers.start();
  scheduler?.start();
  if (scheduler) opts.onScheduler?.(scheduler);
  for (const c of controllers) c.start();
  log('controllers started', { controllers: [...enabled] });
  return {
    stop: async () => {
      informers.stop();
      await Promise.all([scheduler?.stop(), ...controllers.map((c) => c.stop())]);
      for (const r of recorders) r.stop();
    },
  };
}

/**
 * Starts the scheduler and every controller, talking to the API only through KubeClient, so
 * the same code runs in the master process or against any Kubernetes-compatible API. With
 * leaderElection, two masters on one store run one set of loops between them.
 */
export async function startControllerManager(opts: ControllerManagerOptions): Promise<RunningControllerManager> {
  const log: Log = opts.log ?? (() => undefined);
  if (!opts.leaderElection) {
    const set = await startControllers(opts, log);
    return { isLeader: () => true, stop: () => set.stop() };
  }
  let current: Promise<RunningSet> | undefined;
  const elector = new LeaderElector({
    client: opts.client,
    identity: opts.identity,
    ...opts.leaderElectionTiming,
    log,
    onStartedLeading: () => {
      current = startControllers(opts, log);
      current.catch((err: Error) => log('controllers failed to start', { error: err.message }));
    },
    onStoppedLeading: async () => {
      const set = current;
      current = undefined;
      await (await set?.catch(() => undefined))?.stop();
    },
  });
  elector.run();
  return { isLeader: () => elector.isLeader(), stop: () => elector.stop() };
}
