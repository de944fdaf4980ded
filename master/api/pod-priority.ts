import { ensureObject } from './cluster-defaults';
import type { Obj, Registry } from './registry';
import { resources, type ResourceInfo } from './resources';
import { HttpError } from './status';

const priorityClasses = resources.find((r) => r.plural === 'priorityclasses') as ResourceInfo;

/** The classes every Kubernetes cluster has, with upstream's values. */
const systemClasses = [
  { name: 'system-node-critical', value: 2000001000, description: 'Used for system critical pods that must not be moved from their current node.' },
  { name: 'system-cluster-critical', value: 2000000000, description: 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.' },
];

export async function ensureSystemPriorityClasses(registry: Registry): Promise<void> {
  for (const c of systemClasses) {
    await ensureObject(registry, priorityClasses, { metadata: { name: c.name }, value: c.value, description: c.description, preemptionPolicy: 'PreemptLowerPriority' });
  }
}

/**
 * Kubernetes' Priority admission: a new pod gets spec.priority (and preemptionPolicy) from its
 * priorityClassName, or from the class marked globalDefault, else 0; naming a class that does
 * not exist is refused.
 */
export async function admitPodPriority(registry: Registry, classes: Obj[], pod: Obj): Promise<void> {
  const spec = (pod.spec ??= {}) as { priorityClassName?: string; priority?: number; preemptionPolicy?: string };
  let cls: Obj | undefined;
  if (spec.priorityClassName) {
    // The watched copy first; a class created a moment ago is read from the store.
    cls = classes.find((c) => c.metadata?.name === spec.priorityClassName) ?? (await registry.find(priorityClasses, undefined, spec.priorityClassName));
    if (!cls) throw new HttpError(403, 'Forbidden', `pods "${String(pod.metadata?.name ?? pod.metadata?.generateName ?? '')}" is forbidden: no PriorityClass with name ${spec.priorityClassName} was found`, { name: String(pod.metadata?.name ?? ''), kind: 'pods' });
  } else {
    cls = classes.filter((c) => c.globalDefault === true).sort((a, b) => Number(b.value) - Number(a.value))[0];
    if (cls) spec.priorityClassName = String(cls.metadata?.name);
  }
  const value = cls ? Number(cls.value ?? 0) : 0;
  if (spec.priority !== undefined && spec.priority !== value) {
    throw new HttpError(403, 'Forbidden', `pods "${String(pod.metadata?.name ?? '')}" is forbidden: the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${value} from the given PriorityClass name`);
  }
  spec.priority = value;
  if (cls) spec.preemptionPolicy = String(cls.preemptionPolicy ?? 'PreemptLowerPriority');
}
