import type { Job } from 'kubernetes-types/batch/v1';
import type { Pod } from 'kubernetes-types/core/v1';
import { backoffRemainingMs, classifyPods, completedIndexes, missingIndexes } from '../../../master/controllers/job/job-pods';
import { podFailureVerdict } from '../../../master/controllers/job/pod-failure-policy';

const pod = (name: string, phase: string, o: { exitCode?: number; finishedAt?: number; index?: number; conditions?: { type: string; status: string }[] } = {}): Pod => ({
  metadata: { name, namespace: 'ns', creationTimestamp: new Date(0).toISOString(), annotations: o.index === undefined ? undefined : { 'batch.kubernetes.io/job-completion-index': String(o.index) } },
  spec: { containers: [{ name: 'work' }] },
  status: {
    phase,
    conditions: o.conditions,
    containerStatuses: o.exitCode === undefined ? [] : [{ name: 'work', image: 'x', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: o.exitCode, finishedAt: new Date(o.finishedAt ?? 0).toISOString() } } }],
  },
});

const policyJob = (rules: NonNullable<NonNullable<Job['spec']>['podFailurePolicy']>['rules']): Job => ({ spec: { template: {}, podFailurePolicy: { rules } } });

describe('Job pod accounting', () => {
  it('applies pod failure policy rules in order: the first match decides, exit code 0 never matches', () => {
    const job = policyJob([
      { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
      { action: 'FailJob', onExitCodes: { operator: 'NotIn', values: [0, 1] } },
    ]);
    expect(podFailureVerdict(job, pod('a', 'Failed', { exitCode: 1 })).action).toBe('Count');
    expect(podFailureVerdict(job, pod('b', 'Failed', { exitCode: 2 }))).toEqual({ action: 'FailJob', message: 'Container work for pod ns/b failed with exit code 2 matching FailJob rule at index 1' });
    const disrupted = pod('c', 'Failed', { exitCode: 2, conditions: [{ type: 'DisruptionTarget', status: 'True' }] });
    expect(podFailureVerdict(job, disrupted).action).toBe('Ignore');
    const counted = classifyPods(job, [disrupted, pod('d', 'Failed', { exitCode: 1 }), pod('e', 'Running')]);
    expect(counted.failed.map((p) => p.metadata?.name)).toEqual(['d']);
    expect(counted.active).toHaveLength(1);
  });

  it('backs off 10 s doubling per failure since the last success, capped', () => {
    const job: Job = { spec: { template: {} } };
    const failures = (n: number, at: number) => Array.from({ length: n }, (_, i) => pod(`f${i}`, 'Failed', { exitCode: 1, finishedAt: at }));
    expect(backoffRemainingMs(classifyPods(job, failures(1, 1000)), 1000)).toBe(10_000);
    expect(backoffRemainingMs(classifyPods(job, failures(3, 1000)), 6000)).toBe(35_000);
    expect(backoffRemainingMs(classifyPods(job, failures(10, 0)), 0)).toBe(360_000);
    // A success after the failures resets the count.
    expect(backoffRemainingMs(classifyPods(job, [...failures(3, 1000), pod('s', 'Succeeded', { exitCode: 0, finishedAt: 2000 })]), 2000)).toBe(0);
  });

  it('tracks Indexed completions as intervals and hands out the lowest free indexes', () => {
    const job: Job = { spec: { template: {}, completionMode: 'Indexed', completions: 6 } };
    const pods = classifyPods(job, [pod('a', 'Succeeded', { index: 0 }), pod('b', 'Succeeded', { index: 1 }), pod('b2', 'Succeeded', { index: 1 }), pod('c', 'Succeeded', { index: 4 }), pod('d', 'Running', { index: 2 })]);
    expect(completedIndexes(pods.succeeded, 6)).toEqual({ text: '0-1,4', count: 3 });
    expect(missingIndexes(6, pods)).toEqual([3, 5]);
  });
});
