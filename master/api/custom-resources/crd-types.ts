import type { JsonSchema } from '../resources';

/** The parts of an apiextensions.k8s.io/v1 CustomResourceDefinition lotse reads. */
export interface Crd {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; deletionTimestamp?: string; finalizers?: string[]; resourceVersion?: string; generation?: number; [k: string]: unknown };
  spec?: CrdSpec;
  status?: CrdStatus;
}

export interface CrdNames {
  plural?: string;
  singular?: string;
  kind?: string;
  listKind?: string;
  shortNames?: string[];
  categories?: string[];
}

export interface CrdVersion {
  name?: string;
  served?: boolean;
  storage?: boolean;
  deprecated?: boolean;
  deprecationWarning?: string;
  schema?: { openAPIV3Schema?: JsonSchema };
  subresources?: { status?: Record<string, never>; scale?: { specReplicasPath?: string; statusReplicasPath?: string; labelSelectorPath?: string } };
  additionalPrinterColumns?: { name?: string; type?: string; jsonPath?: string; format?: string; description?: string; priority?: number }[];
}

export interface CrdSpec {
  group?: string;
  names?: CrdNames;
  scope?: string;
  versions?: CrdVersion[];
  conversion?: { strategy?: string; webhook?: unknown };
  preserveUnknownFields?: boolean;
}

export interface CrdCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface CrdStatus {
  conditions?: CrdCondition[];
  acceptedNames?: CrdNames;
  storedVersions?: string[];
}

/** The finalizer that holds a CRD until its objects are gone, as Kubernetes names it. */
export const cleanupFinalizer = 'customresourcecleanup.apiextensions.k8s.io';
