import type { Pod } from 'kubernetes-types/core/v1';
import { cpuMillis, formatBytes, formatCpuMillis, parseQuantity, quantityInt } from '../../../kube/quantity';
import { hostPortsConflict, podHostPorts, podRequests, podScoreRequests } from '../../../master/scheduler/pod-requests';

describe('quantities', () => {
  it('parses the suffixes Kubernetes accepts', () => {
    expect(cpuMillis('250m')).toBe(250);
    expect(cpuMillis('1.5')).toBe(1500);
    expect(cpuMillis(2)).toBe(2000);
    expect(cpuMillis('100u')).toBe(1);
    expect(quantityInt('128Mi')).toBe(128 * 2 ** 20);
    expect(quantityInt('1G')).toBe(1e9);
    expect(quantityInt('2e3')).toBe(2000);
    expect(parseQuantity(undefined)).toBe(0);
    expect(() => parseQuantity('12 apples')).toThrow(/malformed/);
    expect(formatCpuMillis(1500)).toBe('1500m');
    expect(formatCpuMillis(2000)).toBe('2');
    expect(formatBytes(3 * 2 ** 30)).toBe('3Gi');
  });
});

describe('pod requests', () => {
  const pod: Pod = {
    spec: {
      initContainers: [{ name: 'init', image: 'x', resources: { requests: { cpu: '2', memory: '64Mi' } } }],
      containers: [
        { name: 'a', image: 'x', resources: { requests: { cpu: '500m', memory: '100Mi' } }, ports: [{ containerPort: 80, hostPort: 8080 }] },
        { name: 'b', image: 'x', resources: { limits: { cpu: '250m', memory: '50Mi' } } },
        { name: 'c', image: 'x' },
      ],
      overhead: { cpu: '10m' },
    },
  };
  it('takes the larger of the containers and the biggest init container, plus overhead', () => {
    expect(podRequests(pod)).toEqual({ cpu: 2010, memory: 150 * 2 ** 20 });
    // For scoring, a container without requests counts as 100m / 200Mi.
    expect(podScoreRequests(pod)).toEqual({ cpu: 2010, memory: 350 * 2 ** 20 });
  });

  it('lists host ports and finds conflicts', () => {
    expect(podHostPorts(pod)).toEqual(['TCP/0.0.0.0/8080']);
    expect(hostPortsConflict('TCP/0.0.0.0/8080', 'TCP/10.0.0.1/8080')).toBe(true);
    expect(hostPortsConflict('TCP/10.0.0.2/8080', 'TCP/10.0.0.1/8080')).toBe(false);
    expect(hostPortsConflict('UDP/0.0.0.0/8080', 'TCP/0.0.0.0/8080')).toBe(false);
  });
});
