import type { Node, Pod } from 'kubernetes-types/core/v1';
import type { KubeClient } from '../../kube/client';
import { core, resourcePath } from '../../kube/resource-path';
import { Scheduler, type SchedulerOptions } from '../scheduler/scheduler';
import type { Controller, ControllerContext, Log } from './controller-context';
import { DaemonSetController } from './daemonset-controller';
import { DeploymentController } from './deployment-controller';
import { EndpointsController } from './endpoints-controller';
import { EventRecorder } from './event-recorder';
import { EventTtlCleaner } from './event-ttl-cleaner';
import { GarbageCollector } from './garbage-collector';
import { LeaderElector } from './leader-election';
import { NamespaceController } from './namespace-controller';
import { NodeLifecycleController, type NodeMonitorOptions } from './node-lifecycle-controller';
import { ReplicaSetController } from './replicaset-controller';
import { ClusterRoleAggregationController } from './clusterrole-aggregation/clusterrole-aggregation-controller';
import { ServiceAccountController } from './service-account/service-account-controller';
import { SharedInformers } from './shared-informers';

export const CONTROLLER_NAMES = ['scheduler', 'replicaset', 'deployment', 'daemonset', 'node-lifecycle', 'endpoints', 'garbage-collector', 'namespace', 'event-ttl', 'service-account', 'clusterrole-aggregation'] as const;
export type ControllerName = (typeof CONTROLLER_NAMES)[number];

export interface ControllerManagerOptions {
  client: KubeClient;
  /** Who holds the leader lease: unique per master (e.g. hostname + pid). */
  identity: string;
  /** Run only while holding the kube-system lease (default false: run at once). */
  leaderElection?: boolean;
  log?: Log;
  nodeMonitor?: NodeMonitorOptions;
  /** Lease timing; tests shorten it. Defaults 15 s / 10 s / 2 s as upstream. */
  leaderElectionTiming?: { leaseDurationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number };
  /** Events older than this are deleted (default 1 h). */
  eventTtlMs?: number;
  /**
   * The cluster CA (PEM) that the service-account loop publishes in every namespace as the
   * kube-root-ca.crt ConfigMap; without it that loop does not run.
   */
  rootCaPem?: string;
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
  const informers = new SharedInformers(opts.client, (ref, err) => log('informer error', { resource: resourcePath(ref), error: err.message }));
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
  const factories: [ControllerName, () => Controller][] = [
    ['replicaset', () => new ReplicaSetController(ctx)],
    ['deployment', () => new DeploymentController(ctx)],
    ['daemonset', () => new DaemonSetController(ctx)],
    ['node-lifecycle', () => new NodeLifecycleController(ctx, opts.nodeMonitor)],
    ['endpoints', () => new EndpointsController(ctx)],
    ['garbage-collector', () => new GarbageCollector(ctx)],
    ['namespace', () => new NamespaceController(ctx)],
    ['event-ttl', () => new EventTtlCleaner(ctx, { ttlMs: opts.eventTtlMs })],
    ['clusterrole-aggregation', () => new ClusterRoleAggregationController(ctx)],
  ];
  if (opts.rootCaPem) {
    const rootCaPem = opts.rootCaPem;
    factories.push(['service-account', () => new ServiceAccountController(ctx, rootCaPem)]);
  }
  const controllers = factories.filter(([name]) => enabled.has(name)).map(([, make]) => make());
  const scheduler = enabled.has('scheduler')
    ? new Scheduler({ client: opts.client, pods: informers.get<Pod>(core('pods')), nodes: informers.get<Node>(core('nodes')), recorder: ctx.recorder('default-scheduler'), log, ...opts.scheduler })
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
