import type { Pod } from 'kubernetes-types/core/v1';
import { ApiError } from '../../kube/api-error';
import type { KubeClient } from '../../kube/client';
import type { Selector } from '../../kube/label-selector';
import type { KubeObject } from '../../kube/object';
import { isPodActive } from '../../kube/pod-conditions';
import { core } from '../../kube/resource-path';
import { controllerRef, newControllerRef } from './owner-references';

/**
 * The pods a controller owns, as Kubernetes' ControllerRefManager claims them: its own pods that
 * still match (and belong, for StatefulSets: a name of the set), after releasing those that no
 * longer do and adopting active orphans that do. An empty selector adopts nothing (Kubernetes
 * refuses one), and an owner being deleted adopts nothing.
 */
export async function claimPods(client: KubeClient, owner: KubeObject, kind: { apiVersion: string; kind: string }, selector: Selector, candidates: Pod[], belongs: (pod: Pod) => boolean = () => true): Promise<Pod[]> {
  const uid = owner.metadata?.uid ?? '';
  const owned: Pod[] = [];
  const canAdopt = !selector.isEmpty() && !owner.metadata?.deletionTimestamp;
  for (const pod of candidates) {
    const ref = controllerRef(pod);
    const matches = selector.matches(pod.metadata?.labels) && belongs(pod);
    if (ref?.uid === uid) {
      if (matches || selector.isEmpty()) owned.push(pod);
      else await setController(client, pod, owner, kind, false);
    } else if (!ref && matches && canAdopt && isPodActive(pod)) {
      if (await setController(client, pod, owner, kind, true)) owned.push(pod);
    }
  }
  return owned;
}

/** Adds (adopt) or removes (release) the owner's controller reference; false when the pod changed or went meanwhile. */
async function setController(client: KubeClient, pod: Pod, owner: KubeObject, kind: { apiVersion: string; kind: string }, adopt: boolean): Promise<boolean> {
  const others = (pod.metadata?.ownerReferences ?? []).filter((o) => o.uid !== owner.metadata?.uid);
  const refs = adopt ? [...others, newControllerRef(owner, kind.apiVersion, kind.kind)] : others;
  try {
    await client.patch(core('pods', pod.metadata?.namespace, pod.metadata?.name), 'merge', { metadata: { ownerReferences: refs, resourceVersion: pod.metadata?.resourceVersion } });
    return true;
  } catch (err) {
    if (ApiError.isNotFound(err) || ApiError.isConflict(err)) return false;
    throw err;
  }
}
