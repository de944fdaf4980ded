import type { Pod } from 'kubernetes-types/core/v1';
import type { KubeClient } from '../kube/client';
import { core } from '../kube/resource-path';

/**
 * Fire-and-forget Events about pods (Started, Killing, BackOff, Failed), so `kubectl describe`
 * tells the story. Repeats of one message within a minute are dropped to spare the master.
 */
export class EventRecorder {
  private readonly recent = new Map<string, number>();

  constructor(private readonly client: KubeClient | undefined, private readonly nodeName: string) {}

  normal(pod: Pod, reason: string, message: string): void {
    this.emit(pod, 'Normal', reason, message);
  }

  warn(pod: Pod, reason: string, message: string): void {
    this.emit(pod, 'Warning', reason, message);
  }

  private emit(pod: Pod, type: string, reason: string, message: string): void {
    if (!this.client) return;
    const ns = pod.metadata?.namespace ?? 'default';
    const key = `${pod.metadata?.uid}/${reason}/${message}`;
    const now = Date.now();
    if ((this.recent.get(key) ?? 0) > now - 60_000) return;
    this.recent.set(key, now);
    if (this.recent.size > 5000) for (const [k, t] of this.recent) if (t < now - 60_000) this.recent.delete(k);
    const time = new Date(now).toISOString();
    void this.client
      .create(core('events', ns), {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${pod.metadata?.name}.${now.toString(16)}${Math.floor(Math.random() * 1e6).toString(16)}`, namespace: ns },
        involvedObject: { kind: 'Pod', apiVersion: 'v1', namespace: ns, name: pod.metadata?.name, uid: pod.metadata?.uid },
        reason,
        message,
        type,
        source: { component: 'kubelet', host: this.nodeName },
        reportingComponent: 'kubelet',
        reportingInstance: this.nodeName,
        firstTimestamp: time,
        lastTimestamp: time,
        count: 1,
      } as never)
      .catch(() => undefined);
  }
}
