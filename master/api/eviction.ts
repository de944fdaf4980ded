import { Selector } from '../../kube/label-selector';
import type { Obj, Registry } from './registry';
import { resources, type ResourceInfo } from './resources';
import { HttpError } from './status';

const pods = resources.find((r) => r.plural === 'pods') as ResourceInfo;
const budgets = resources.find((r) => r.plural === 'poddisruptionbudgets') as ResourceInfo;

interface Budget {
  metadata?: { name?: string; generation?: number };
  spec?: { selector?: Parameters<typeof Selector.fromLabelSelector>[0]; unhealthyPodEvictionPolicy?: string };
  status?: { observedGeneration?: number; disruptionsAllowed?: number; currentHealthy?: number; desiredHealthy?: number; disruptedPods?: Record<string, string> };
}

type PodObj = Obj & { status?: { phase?: string; conditions?: { type: string; status: string }[] } };

// No retryAfterSeconds, as in Kubernetes: it would become a Retry-After header, and client-go
// retries a 429 carrying one by itself (10 times), holding kubectl drain's own 5 s loop back.
const violation = (causes: { reason: string; message: string }[]): HttpError =>
  new HttpError(429, 'TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.", { causes });

/**
 * pods/eviction as the apiserver answers it: the pod is deleted unless that would take a
 * PodDisruptionBudget below what it needs (429, which `kubectl drain` waits on and retries). An
 * allowed eviction is first recorded in the budget's status (disruptionsAllowed less one, the pod
 * in disruptedPods) with a conditional write, so two evictions racing for the last allowed
 * disruption cannot both pass; the one that loses decides again on the budget as the other left
 * it, as the apiserver's EvictionsRetry does (kubectl drain evicts a node's pods in parallel, and
 * a 409 would end the drain). Pods that
 * are not running, or already going, are not counted.
 */
export async function evictPod(registry: Registry, namespace: string, name: string, deleteOptions: { gracePeriodSeconds?: number; dryRun?: boolean }): Promise<void> {
  const pod = (await registry.get(pods, namespace, name)) as PodObj;
  const phase = pod.status?.phase;
  const exempt = Boolean(pod.metadata?.deletionTimestamp) || phase === 'Pending' || phase === 'Succeeded' || phase === 'Failed';
  if (!exempt) await takeDisruption(registry, namespace, pod, Boolean(deleteOptions.dryRun));
  await registry.delete(pods, namespace, name, { gracePeriodSeconds: deleteOptions.gracePeriodSeconds, dryRun: deleteOptions.dryRun });
}

async function takeDisruption(registry: Registry, namespace: string, pod: PodObj, dryRun: boolean): Promise<void> {
  const { items } = await registry.list(budgets, namespace);
  const matching = items.filter((b) => Selector.fromLabelSelector((b as Budget).spec?.selector).matches(pod.metadata?.labels)) as Budget[];
  if (matching.length === 0) return;
  if (matching.length > 1) throw new HttpError(500, 'InternalError', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
  const pdbName = matching[0].metadata?.name ?? '';
  const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  // Decided on the budget as the write finds it: when another eviction wrote first, registry.update
  // reads the budget again and this runs again on what that one left.
  await registry.update(budgets, namespace, pdbName, (current) => {
    const pdb = current as Budget;
    const status = pdb.status ?? {};
    if (!ready && (pdb.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow' || (status.currentHealthy ?? 0) >= (status.desiredHealthy ?? 0))) return current;
    if ((status.observedGeneration ?? 0) < (pdb.metadata?.generation ?? 0)) {
      throw violation([{ reason: 'DisruptionBudget', message: `The disruption budget ${pdbName} is still being processed by the server.` }]);
    }
    if ((status.disruptionsAllowed ?? 0) <= 0) {
      throw violation([{ reason: 'DisruptionBudget', message: `The disruption budget ${pdbName} needs ${status.desiredHealthy ?? 0} healthy pods and has ${status.currentHealthy ?? 0} currently` }]);
    }
    pdb.status = {
      ...status,
      disruptionsAllowed: (status.disruptionsAllowed ?? 0) - 1,
      disruptedPods: { ...(status.disruptedPods ?? {}), [String(pod.metadata?.name)]: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') },
    };
    // No resourceVersion: not a precondition, so a lost race is decided again instead of answered 409.
    return { ...current, metadata: { ...current.metadata, resourceVersion: undefined } };
  }, { subresource: 'status', dryRun });
}
