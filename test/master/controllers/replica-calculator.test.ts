import { behave, DEFAULT_SCALE_DOWN, DEFAULT_SCALE_UP, replicasForResource } from '../../../master/controllers/horizontal-pod-autoscaler/replica-calculator';

const pods = (usage: number[], request = 0.1) => usage.map((u, i) => ({ name: `p${i}`, request, usage: u }));

describe('the HPA replica calculator', () => {
  test('utilization against the target, rounded up; within 10% nothing changes', () => {
    expect(replicasForResource('cpu', { type: 'Utilization', averageUtilization: 50 }, 2, pods([0.1, 0.1])).replicas).toBe(4); // 100% of 50%
    expect(replicasForResource('cpu', { type: 'Utilization', averageUtilization: 50 }, 2, pods([0.054, 0.054])).replicas).toBe(2); // 54%: within tolerance
    expect(replicasForResource('cpu', { type: 'Utilization', averageUtilization: 50 }, 4, pods([0.01, 0.01, 0.01, 0.01])).replicas).toBe(1);
    expect(replicasForResource('cpu', { type: 'Utilization', averageUtilization: 50 }, 2, pods([0.1, 0.1])).currentUtilization).toBe(100);
  });

  test('average value targets divide the total usage; memory works the same way', () => {
    expect(replicasForResource('memory', { type: 'AverageValue', averageValue: '100Mi' }, 1, pods([300 * 2 ** 20], 2 ** 20)).replicas).toBe(3);
  });

  test('a pod without a request, or no figures at all, is the reason Kubernetes gives', () => {
    expect(() => replicasForResource('cpu', { type: 'Utilization', averageUtilization: 50 }, 1, [{ name: 'p', usage: 1 }])).toThrow('missing request for cpu in container(s) of pod p');
    expect(() => replicasForResource('cpu', { type: 'Utilization', averageUtilization: 50 }, 1, [{ name: 'p', request: 1 }])).toThrow('no metrics returned from resource metrics API');
  });

  const base = { history: [], events: [], up: DEFAULT_SCALE_UP, down: DEFAULT_SCALE_DOWN, min: 1, max: 100, now: 1_000_000 };
  test('scale-up is limited to max(4 pods, 100%) per 15 s by default; bounds win last', () => {
    expect(behave({ ...base, current: 1, recommendation: 20 })).toEqual({ replicas: 5, limitedBy: 'ScaleUpLimit' });
    expect(behave({ ...base, current: 10, recommendation: 50 })).toEqual({ replicas: 20, limitedBy: 'ScaleUpLimit' });
    // Changes already made in the period count against it.
    expect(behave({ ...base, current: 5, recommendation: 20, events: [{ at: base.now - 5000, change: 4 }] }).replicas).toBe(5);
    expect(behave({ ...base, current: 2, recommendation: 3, max: 2 })).toEqual({ replicas: 2, limitedBy: 'TooManyReplicas' });
  });

  test('scale-down takes the highest recommendation of the stabilization window', () => {
    const history = [{ at: base.now - 200_000, replicas: 6 }, { at: base.now - 100_000, replicas: 4 }, { at: base.now, replicas: 2 }];
    expect(behave({ ...base, current: 8, recommendation: 2, history }).replicas).toBe(6);
    expect(behave({ ...base, current: 8, recommendation: 2, history, down: { ...DEFAULT_SCALE_DOWN, stabilizationWindowSeconds: 0 } }).replicas).toBe(2);
    expect(behave({ ...base, current: 8, recommendation: 2, history: [], down: { ...DEFAULT_SCALE_DOWN, selectPolicy: 'Disabled' } }).replicas).toBe(8);
  });
});
