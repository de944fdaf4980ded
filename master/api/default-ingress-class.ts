import { DEFAULT_INGRESS_CLASS_ANNOTATION, LOTSE_INGRESS_CLASS, LOTSE_INGRESS_CONTROLLER } from '../../kube/ingress-class';
import { defaultClassName, ensureObject } from './cluster-defaults';
import type { Obj, Registry } from './registry';
import { resources, type ResourceInfo } from './resources';

const ingressClasses = resources.find((r) => r.plural === 'ingressclasses') as ResourceInfo;

/** The `lotse` IngressClass, marked default: every agent routes its Ingresses. */
export function ensureDefaultIngressClass(registry: Registry): Promise<void> {
  return ensureObject(registry, ingressClasses, {
    metadata: { name: LOTSE_INGRESS_CLASS, annotations: { [DEFAULT_INGRESS_CLASS_ANNOTATION]: 'true' } },
    spec: { controller: LOTSE_INGRESS_CONTROLLER },
  });
}

/** DefaultIngressClass admission: a new Ingress naming no class (nor the legacy annotation) gets the default one. */
export async function defaultIngressClass(registry: Registry, ingress: Obj): Promise<void> {
  const spec = (ingress.spec ??= {}) as { ingressClassName?: string };
  if (spec.ingressClassName || ingress.metadata?.annotations?.['kubernetes.io/ingress.class']) return;
  const name = await defaultClassName(registry, ingressClasses, DEFAULT_INGRESS_CLASS_ANNOTATION);
  if (name) spec.ingressClassName = name;
}
