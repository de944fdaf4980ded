/** The IngressClass the master creates and every agent's ingress router serves. */
export const LOTSE_INGRESS_CLASS = 'lotse';
/** Its spec.controller: the agents serve the Ingresses of every class naming this controller. */
export const LOTSE_INGRESS_CONTROLLER = 'lotse.dev/ingress';
/** Marks the class an Ingress without one gets, as Kubernetes names it. */
export const DEFAULT_INGRESS_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
