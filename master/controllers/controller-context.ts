import type { KubeClient } from '../../kube/client';
import type { Log } from '../../kube/log';
import type { EventRecorder } from '../../kube/event-recorder';
import type { SharedInformers } from '../../kube/shared-informers';

/** What every control loop is built from; the controller manager makes one per process. */
export interface ControllerContext {
  client: KubeClient;
  informers: SharedInformers;
  /** A recorder whose events name `component` as their source. */
  recorder(component: string): EventRecorder;
  log: Log;
}

/** A control loop: handlers are registered in the constructor, work starts once informers synced. */
export interface Controller {
  readonly name: string;
  start(): void;
  stop(): Promise<void>;
}
