/** The IngressClass the master creates and every agent's ingress router serves. */
export const LOTSE_INGRESS_CLASS = 'lotse';
/** Its spec.controller: the agents serve the Ingresses of every class naming this controller. */
export const LOTSE_INGRESS_CONTROLLER = 'lotse.dev/ingress';
/** Marks the class an Ingress without one gets, as Kubernetes names it. */
export const DEFAULT_INGRESS_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';

interface ClassLike {
  metadata?: { name?: string; annotations?: Record<string, string> };
  spec?: { controller?: string };
}
interface IngressLike {
  metadata?: { annotations?: Record<string, string> };
  spec?: { ingressClassName?: string };
}

/**
 * Whether an Ingress belongs to one of lotse's classes: its class (spec.ingressClassName, or the
 * legacy annotation) names an IngressClass of lotse's controller; without a class, when one of
 * lotse's classes is the default (admission normally fills the name in).
 */
export function servedByLotse(ingress: IngressLike, classes: ClassLike[]): boolean {
  const mine = classes.filter((c) => c.spec?.controller === LOTSE_INGRESS_CONTROLLER);
  const name = ingress.spec?.ingressClassName ?? ingress.metadata?.annotations?.['kubernetes.io/ingress.class'];
  if (name) return mine.some((c) => c.metadata?.name === name);
  return mine.some((c) => c.metadata?.annotations?.[DEFAULT_INGRESS_CLASS_ANNOTATION] === 'true');
}
