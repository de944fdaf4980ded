import type { Controller, ControllerContext } from './controller-context';
import { BootstrapTokenCleaner } from './bootstrap-token-cleaner/bootstrap-token-cleaner';
import { ClusterRoleAggregationController } from './clusterrole-aggregation/clusterrole-aggregation-controller';
import { CronJobController } from './cronjob/cronjob-controller';
import { DaemonSetController } from './daemonset/daemonset-controller';
import { DeploymentController } from './deployment/deployment-controller';
import { DisruptionController } from './disruption/disruption-controller';
import { EndpointsController } from './endpoints/endpoints-controller';
import { EventTtlCleaner } from './event-ttl/event-ttl-cleaner';
import { JobController, type JobControllerOptions } from './job/job-controller';
import { LocalPathProvisioner } from './local-path/local-path-provisioner';
import { GarbageCollector } from './garbage-collector/garbage-collector';
import { HorizontalPodAutoscalerController } from './horizontal-pod-autoscaler/horizontal-pod-autoscaler-controller';
import { IngressStatusController } from './ingress-status/ingress-status-controller';
import { NamespaceController } from './namespace/namespace-controller';
import { NodeIpamController, type NodeIpamSettings } from './node-ipam/node-ipam-controller';
import { NodeLifecycleController, type NodeMonitorOptions } from './node-lifecycle/node-lifecycle-controller';
import { REPLICATION_CONTROLLERS, ReplicaSetController } from './replicaset/replicaset-controller';
import { ResourceQuotaController } from './resource-quota/resource-quota-controller';
import { ServiceAccountController } from './service-account/service-account-controller';
import { StatefulSetController } from './statefulset/statefulset-controller';
import { TtlAfterFinishedController } from './ttl-after-finished/ttl-after-finished-controller';

/** Every loop the controller manager can run, by the name `controllers: [...]` selects it with. */
export const CONTROLLER_NAMES = ['scheduler', 'replicaset', 'deployment', 'daemonset', 'node-lifecycle', 'endpoints', 'garbage-collector', 'namespace', 'event-ttl', 'service-account', 'clusterrole-aggregation', 'job', 'cronjob', 'ttl-after-finished', 'node-ipam', 'ingress-status', 'statefulset', 'local-path', 'disruption', 'replicationcontroller', 'resourcequota', 'bootstrap-token-cleaner', 'horizontal-pod-autoscaler'] as const;
export type ControllerName = (typeof CONTROLLER_NAMES)[number];

/** What individual controllers are tuned with; the controller manager's options carry them. */
export interface ControllerSettings {
  nodeMonitor?: NodeMonitorOptions;
  /** Events older than this are deleted (default 1 h). */
  eventTtlMs?: number;
  /**
   * The cluster CA (PEM) that the service-account loop publishes in every namespace as the
   * kube-root-ca.crt ConfigMap; without it that loop does not run.
   */
  rootCaPem?: string;
  /** Job back-off tuning; tests shorten the 10 s first back-off. */
  job?: JobControllerOptions;
  /** The cluster pod range nodes get their podCIDR from; without it no podCIDRs are allocated. */
  nodeIpam?: NodeIpamSettings;
  /** How often each HPA is evaluated (default 15 s, as --horizontal-pod-autoscaler-sync-period). */
  hpaSyncPeriodMs?: number;
}

/** How one controller is built; undefined when the options leave it nothing to do. */
export interface ControllerEntry {
  name: Exclude<ControllerName, 'scheduler'>;
  make(ctx: ControllerContext, settings: ControllerSettings): Controller | undefined;
}

/**
 * The controllers, in start order. A new controller gets a folder beside the others and one
 * entry here (and its name in CONTROLLER_NAMES); the scheduler is started by the manager itself.
 */
export const CONTROLLERS: ControllerEntry[] = [
  { name: 'replicaset', make: (ctx) => new ReplicaSetController(ctx) },
  { name: 'deployment', make: (ctx) => new DeploymentController(ctx) },
  { name: 'daemonset', make: (ctx) => new DaemonSetController(ctx) },
  { name: 'replicationcontroller', make: (ctx) => new ReplicaSetController(ctx, {}, REPLICATION_CONTROLLERS) },
  { name: 'statefulset', make: (ctx) => new StatefulSetController(ctx) },
  { name: 'node-lifecycle', make: (ctx, opts) => new NodeLifecycleController(ctx, opts.nodeMonitor) },
  { name: 'endpoints', make: (ctx) => new EndpointsController(ctx) },
  { name: 'garbage-collector', make: (ctx) => new GarbageCollector(ctx) },
  { name: 'namespace', make: (ctx) => new NamespaceController(ctx) },
  { name: 'bootstrap-token-cleaner', make: (ctx) => new BootstrapTokenCleaner(ctx) },
  { name: 'event-ttl', make: (ctx, opts) => new EventTtlCleaner(ctx, { ttlMs: opts.eventTtlMs }) },
  { name: 'clusterrole-aggregation', make: (ctx) => new ClusterRoleAggregationController(ctx) },
  { name: 'job', make: (ctx, opts) => new JobController(ctx, opts.job) },
  { name: 'cronjob', make: (ctx) => new CronJobController(ctx) },
  { name: 'ttl-after-finished', make: (ctx) => new TtlAfterFinishedController(ctx) },
  { name: 'resourcequota', make: (ctx) => new ResourceQuotaController(ctx) },
  { name: 'horizontal-pod-autoscaler', make: (ctx, opts) => new HorizontalPodAutoscalerController(ctx, { syncPeriodMs: opts.hpaSyncPeriodMs }) },
  { name: 'disruption', make: (ctx) => new DisruptionController(ctx) },
  { name: 'local-path', make: (ctx) => new LocalPathProvisioner(ctx) },
  { name: 'ingress-status', make: (ctx) => new IngressStatusController(ctx) },
  { name: 'node-ipam', make: (ctx, opts) => (opts.nodeIpam ? new NodeIpamController(ctx, opts.nodeIpam) : undefined) },
  // Publishes the cluster CA in every namespace, so it has nothing to do without one.
  { name: 'service-account', make: (ctx, opts) => (opts.rootCaPem ? new ServiceAccountController(ctx, opts.rootCaPem) : undefined) },
];
