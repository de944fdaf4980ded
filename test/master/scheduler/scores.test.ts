import type { PodFacts } from '../../../master/scheduler/filters';
import { NodeInfo, controllerUid } from '../../../master/scheduler/node-info';
import { podHostPorts, podRequests, podScoreRequests } from '../../../master/scheduler/pod-requests';
import { balancedAllocationScore, leastAllocatedScore, scoreNodes, spreadScores } from '../../../master/scheduler/scores';
import type { Pod } from 'kubernetes-types/core/v1';
import { node, pod } from './fixtures';

function facts(p: Pod): PodFacts {
  return { pod: p, requests: podRequests(p), scoreRequests: podScoreRequests(p), hostPorts: podHostPorts(p), owner: controllerUid(p) };
}

describe('scheduler scores', () => {
  it('prefers the emptier node', () => {
    const busy = new NodeInfo(node('busy'));
    busy.addPod(pod('x', { cpu: '2', memory: '4Gi', nodeName: 'busy' }));
    const empty = new NodeInfo(node('empty'));
    const f = facts(pod('p', { cpu: '100m', memory: '100Mi' }));
    expect(leastAllocatedScore(f, empty)).toBeGreaterThan(leastAllocatedScore(f, busy));
  });

  it('prefers balanced cpu and memory use', () => {
    const cpuHeavy = new NodeInfo(node('a'));
    cpuHeavy.addPod(pod('x', { cpu: '3', memory: '100Mi', nodeName: 'a' }));
    const even = new NodeInfo(node('b'));
    even.addPod(pod('y', { cpu: '2', memory: '4Gi', nodeName: 'b' }));
    const f = facts(pod('p', { cpu: '100m', memory: '100Mi' }));
    expect(balancedAllocationScore(f, even)).toBeGreaterThan(balancedAllocationScore(f, cpuHeavy));
  });

  it("spreads a ReplicaSet's pods across nodes", () => {
    const a = new NodeInfo(node('a'));
    const b = new NodeInfo(node('b'));
    a.addPod(pod('rs-1', { owner: 'rs', nodeName: 'a' }));
    a.addPod(pod('other', { owner: 'other', nodeName: 'b' }));
    const f = facts(pod('rs-2', { owner: 'rs' }));
    expect(spreadScores(f, [a, b])).toEqual([0, 100]);
    const totals = scoreNodes(f, [a, b]);
    expect(totals[1]).toBeGreaterThan(totals[0]);
  });
});
