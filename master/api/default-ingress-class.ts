import { DEFAULT_INGRESS_CLASS_ANNOTATION, LOTSE_INGRESS_CLASS, LOTSE_INGRESS_CONTROLLER } from '../../kube/ingress-class';
import type { Registry, Obj } from './registry';
import { resources, type ResourceInfo } from './resources';
import { HttpError } from './status';

const ingressClasses = resources.find((r) => r.plural === 'ingressclasses') as ResourceInfo;


/** Creates the `lotse` IngressClass, marked default, unless it exists (an edited one is kept). */
export async function ensureDefaultIngressClass(registry: Registry): Promise<void> {
  if (await registry.find(ingressClasses, undefined, LOTSE_INGRESS_CLASS)) return;
  try {
    await registry.create(ingressClasses, undefined, {
      metadata: { name: LOTSE_INGRESS_CLASS, annotations: { [DEFAULT_INGRESS_CLASS_ANNOTATION]: 'true' } },
      spec: { controller: LOTSE_INGRESS_CONTROLLER },
    });
  } catch (err) {
    if (!(err instanceof HttpError && err.code === 409)) throw err;
  }
}

/**
 * Kubernetes' DefaultIngressClass admission: a new Ingress that names no class (neither
 * spec.ingressClassName nor the legacy annotation) gets the default one, when exactly one
 * class is marked default.
 */
export async function defaultIngressClass(registry: Registry, ingress: Obj): Promise<void> {
  const spec = (ingress.spec ??= {}) as { ingressClassName?: string };
  if (spec.ingressClassName || ingress.metadata?.annotations?.['kubernetes.io/ingress.class']) return;
  const { items } = await registry.list(ingressClasses, undefined);
  const defaults = items.filter((c) => c.metadata?.annotations?.[DEFAULT_INGRESS_CLASS_ANNOTATION] === 'true');
  if (defaults.length === 1) spec.ingressClassName = String(defaults[0].metadata?.name);
}
