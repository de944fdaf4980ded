import { SchedulerCache } from '../../../master/scheduler/scheduler-cache';
import { SchedulingQueue } from '../../../master/scheduler/scheduling-queue';
import { node, pod } from './fixtures';

describe('scheduler cache', () => {
  it('counts assumed pods at once and gives the room back when binding fails', () => {
    const cache = new SchedulerCache();
    cache.setNode(node('n1', { cpu: '1' }));
    const p = pod('p', { cpu: '600m' });
    cache.assume(p, 'n1');
    expect(cache.nodes.get('n1')?.requested.cpu).toBe(600);
    expect(cache.isAssumed('default/p')).toBe(true);
    // The watch confirms the binding: no double counting.
    cache.updatePod({ ...p, spec: { ...p.spec, containers: p.spec?.containers ?? [], nodeName: 'n1' } });
    expect(cache.nodes.get('n1')?.requested.cpu).toBe(600);
    expect(cache.isAssumed('default/p')).toBe(false);
    const q = pod('q', { cpu: '300m' });
    cache.assume(q, 'n1');
    cache.forget(q);
    expect(cache.nodes.get('n1')?.requested.cpu).toBe(600);
  });

  it('keeps pods of a node it has not seen yet and counts them when the node appears', () => {
    const cache = new SchedulerCache();
    cache.updatePod(pod('early', { cpu: '200m', nodeName: 'late' }));
    cache.setNode(node('late'));
    expect(cache.nodes.get('late')?.requested.cpu).toBe(200);
    cache.removeNode('late');
    cache.setNode(node('late'));
    expect(cache.nodes.get('late')?.requested.cpu).toBe(200);
    cache.updatePod({ ...pod('early', { cpu: '200m', nodeName: 'late' }), status: { phase: 'Succeeded' } });
    expect(cache.nodes.get('late')?.requested.cpu).toBe(0);
  });
});

describe('scheduling queue', () => {
  it('parks unschedulable pods until the cluster changes', async () => {
    const q = new SchedulingQueue();
    q.add(pod('a'));
    const { pods, cycle } = q.popBatch(10);
    expect(pods).toHaveLength(1);
    q.markUnschedulable(pods[0], cycle);
    expect(q.length).toBe(0);
    expect(q.unschedulableCount).toBe(1);
    q.moveAllToActive();
    expect(q.length).toBe(1);
    await q.wait();
  });

  it('retries at once a pod whose attempt raced with a cluster change', () => {
    const q = new SchedulingQueue();
    q.add(pod('a'));
    const { pods, cycle } = q.popBatch(10);
    q.moveAllToActive(); // e.g. a node was added while the pod was being filtered
    q.markUnschedulable(pods[0], cycle);
    expect(q.length).toBe(1);
  });
});
