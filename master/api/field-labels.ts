import type { FieldSelector } from './field-selector';
import { errors } from './status';

const meta = ['metadata.name', 'metadata.namespace'];

/**
 * The fields each kind can be selected by, as Kubernetes' field label conversions list them;
 * every other kind takes metadata.name and metadata.namespace only.
 */
const fieldLabels: Record<string, string[]> = {
  Pod: [...meta, 'spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.podIPs', 'status.nominatedNodeName'],
  Node: ['metadata.name', 'spec.unschedulable'],
  Namespace: ['metadata.name', 'status.phase'],
  Secret: [...meta, 'type'],
  Service: [...meta, 'spec.clusterIP', 'spec.type'],
  Event: [...meta, 'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
  ReplicaSet: [...meta, 'status.replicas'],
  ReplicationController: [...meta, 'status.replicas'],
  Job: [...meta, 'status.successful'],
  CertificateSigningRequest: ['metadata.name', 'spec.signerName'],
};

/** Refuses (400) a field selector on a field its kind cannot be selected by, as Kubernetes does. */
export function checkFieldLabels(kind: string, selector: FieldSelector): void {
  const supported = fieldLabels[kind] ?? meta;
  for (const field of selector.fields()) {
    if (!supported.includes(field)) {
      throw errors.badRequest(`field label not supported: ${field} (a ${kind} can be selected by ${supported.join(', ')})`);
    }
  }
}
