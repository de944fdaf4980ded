import type { Deployment } from 'kubernetes-types/apps/v1';
import type { Pod } from 'kubernetes-types/core/v1';
import { age, formatCpu, formatMemory, podProblem, podRequests, podStatus, restarts, rolloutState } from '../../../master/dashboard/ui/format';

const pod = (p: Partial<Pod>): Pod => ({ metadata: { name: 'p' }, spec: { containers: [{ name: 'c' }] }, ...p });

test('pod status reads like kubectl: waiting reasons beat the phase, deletion shows Terminating', () => {
  expect(podStatus(pod({ status: { phase: 'Pending' } }))).toBe('Pending');
  expect(podStatus(pod({ status: { phase: 'Running', containerStatuses: [{ name: 'c', ready: true, restartCount: 0, image: '', imageID: '', state: { running: {} } }] } }))).toBe('Running');
  const crash = pod({ spec: { nodeName: 'n', containers: [{ name: 'c' }] }, status: { phase: 'Running', containerStatuses: [{ name: 'c', ready: false, restartCount: 4, image: '', imageID: '', state: { waiting: { reason: 'CrashLoopBackOff' } } }] } });
  expect(podStatus(crash)).toBe('CrashLoopBackOff');
  expect(restarts(crash)).toBe(4);
  expect(podProblem(pod({ status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', message: '0/1 nodes are available: 1 Insufficient cpu.' }] } }))).toBe('0/1 nodes are available: 1 Insufficient cpu.');
  expect(podProblem(crash)).toBeUndefined();
  expect(podStatus(pod({ metadata: { name: 'p', deletionTimestamp: '2026-01-01T00:00:00Z' }, status: { phase: 'Running' } }))).toBe('Terminating');
});

test('rollout state follows kubectl rollout status', () => {
  const d = (spec: Deployment['spec'], status: Deployment['status'], generation = 2): Deployment => ({ metadata: { name: 'd', generation }, spec, status: { observedGeneration: 2, ...status } });
  const selector = { matchLabels: { a: 'b' } };
  const template = {};
  expect(rolloutState(d({ replicas: 3, selector, template }, { replicas: 3, updatedReplicas: 3, availableReplicas: 3 }))).toBe('Complete');
  expect(rolloutState(d({ replicas: 3, selector, template }, { replicas: 4, updatedReplicas: 1, availableReplicas: 3 }))).toBe('Rolling out: 1 of 3 updated');
  expect(rolloutState(d({ replicas: 3, selector, template }, { replicas: 4, updatedReplicas: 3, availableReplicas: 3 }))).toBe('Rolling out: 1 old pending termination');
  expect(rolloutState(d({ replicas: 3, selector, template }, { replicas: 3, updatedReplicas: 3, availableReplicas: 1 }))).toBe('Rolling out: 1 of 3 available');
  expect(rolloutState(d({ replicas: 3, selector, template }, { replicas: 3, updatedReplicas: 3, availableReplicas: 3 }, 3))).toBe('Rolling out: waiting for the controller');
  expect(rolloutState(d({ replicas: 3, selector, template, paused: true }, {}))).toBe('Paused');
});

test('requests are summed over containers; figures are short', () => {
  const p = pod({ spec: { containers: [{ name: 'a', resources: { requests: { cpu: '250m', memory: '128Mi' } } }, { name: 'b', resources: { requests: { cpu: '1', memory: '1Gi' } } }, { name: 'c' }] } });
  expect(podRequests(p)).toEqual({ cpuMillis: 1250, memoryBytes: 128 * 2 ** 20 + 2 ** 30 });
  expect(formatCpu(1250)).toBe('1250m');
  expect(formatCpu(2000)).toBe('2');
  expect(formatCpu(0)).toBe('0');
  expect(formatMemory(1.5 * 2 ** 30)).toBe('1.5 GiB');
  expect(formatMemory(512 * 2 ** 20)).toBe('512 MiB');
  const now = Date.parse('2026-01-02T00:00:00Z');
  expect(age('2026-01-01T23:59:30Z', now)).toBe('30s');
  expect(age('2026-01-01T23:00:00Z', now)).toBe('60m');
  expect(age('2026-01-01T00:00:00Z', now)).toBe('24h');
  expect(age('2025-12-01T00:00:00Z', now)).toBe('32d');
});
