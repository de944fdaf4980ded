import { runFilters, type PodFacts } from '../../../master/scheduler/filters';
import { failureMessage } from '../../../master/scheduler/failure-message';
import { NodeInfo, controllerUid } from '../../../master/scheduler/node-info';
import { podHostPorts, podRequests, podScoreRequests } from '../../../master/scheduler/pod-requests';
import type { Pod } from 'kubernetes-types/core/v1';
import { node, pod } from './fixtures';

function facts(p: Pod): PodFacts {
  return { pod: p, requests: podRequests(p), scoreRequests: podScoreRequests(p), hostPorts: podHostPorts(p), owner: controllerUid(p) };
}

describe('scheduler filters', () => {
  it('rejects nodes short of cpu or memory and names both', () => {
    const info = new NodeInfo(node('n1', { cpu: '1', memory: '1Gi' }));
    info.addPod(pod('existing', { cpu: '800m', memory: '900Mi', nodeName: 'n1' }));
    expect(runFilters(facts(pod('p', { cpu: '100m', memory: '100Mi' })), info)).toEqual([]);
    expect(runFilters(facts(pod('p', { cpu: '300m', memory: '200Mi' })), info)).toEqual(['Insufficient cpu', 'Insufficient memory']);
    info.removePod('default/existing');
    expect(runFilters(facts(pod('p', { cpu: '300m', memory: '200Mi' })), info)).toEqual([]);
  });

  it('counts pods against allocatable pods', () => {
    const info = new NodeInfo(node('n1', { pods: '1' }));
    info.addPod(pod('a', { nodeName: 'n1' }));
    expect(runFilters(facts(pod('p')), info)).toEqual(['Too many pods']);
  });

  it('honours nodeSelector and required node affinity', () => {
    const info = new NodeInfo(node('n1', { labels: { disk: 'ssd', gen: '5' } }));
    expect(runFilters(facts(pod('p', { nodeSelector: { disk: 'ssd' } })), info)).toEqual([]);
    expect(runFilters(facts(pod('p', { nodeSelector: { disk: 'hdd' } })), info)).toEqual(["node(s) didn't match Pod's node affinity/selector"]);
    const affinity = (op: string, values: string[]) => ({
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'gen', operator: op, values }] }] } },
    });
    expect(runFilters(facts(pod('p', { affinity: affinity('Gt', ['4']) })), info)).toEqual([]);
    expect(runFilters(facts(pod('p', { affinity: affinity('In', ['3', '4']) })), info)).toHaveLength(1);
    const byName = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n2'] }] }] } } };
    expect(runFilters(facts(pod('p', { affinity: byName })), info)).toHaveLength(1);
  });

  it('keeps pods off tainted, cordoned and not-ready nodes unless tolerated', () => {
    const tainted = new NodeInfo(node('n1', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] }));
    expect(runFilters(facts(pod('p')), tainted)).toEqual(['node(s) had untolerated taint {dedicated: db}']);
    expect(runFilters(facts(pod('p', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }] })), tainted)).toEqual([]);
    expect(runFilters(facts(pod('p', { tolerations: [{ operator: 'Exists' }] })), tainted)).toEqual([]);
    const soft = new NodeInfo(node('n1', { taints: [{ key: 'x', effect: 'PreferNoSchedule' }] }));
    expect(runFilters(facts(pod('p')), soft)).toEqual([]);
    expect(runFilters(facts(pod('p')), new NodeInfo(node('n1', { unschedulable: true })))).toEqual(['node(s) had untolerated taint {node.kubernetes.io/unschedulable: }']);
    expect(runFilters(facts(pod('p')), new NodeInfo(node('n1', { ready: 'False' })))).toEqual(['node(s) had untolerated taint {node.kubernetes.io/not-ready: }']);
  });

  it('detects host port conflicts', () => {
    const info = new NodeInfo(node('n1'));
    info.addPod(pod('a', { nodeName: 'n1', hostPort: 8080 }));
    expect(runFilters(facts(pod('p', { hostPort: 8080 })), info)).toEqual(["node(s) didn't have free ports for the requested pod ports"]);
    expect(runFilters(facts(pod('p', { hostPort: 8081 })), info)).toEqual([]);
  });

  it('words the failure like upstream', () => {
    const reasons = new Map([
      ['a', ['Insufficient memory']],
      ['b', ['Insufficient memory', 'Insufficient cpu']],
      ['c', ['node(s) had untolerated taint {k: v}']],
    ]);
    expect(failureMessage(3, reasons)).toBe('0/3 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {k: v}, 2 Insufficient memory.');
  });
});
