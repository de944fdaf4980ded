import type { CustomResource, JsonSchema, PrinterColumn, ResourceInfo } from '../resources';
import type { Crd, CrdVersion } from './crd-types';

/** Kubernetes' OpenAPI name of a custom kind: the group reversed, then version and kind (com.example.v1.CronTab). */
export function schemaName(group: string, version: string, kind: string): string {
  return [...group.split('.').reverse(), version, kind].join('.');
}

/**
 * The resources one CRD serves (a ResourceInfo per served version, all stored under one key
 * prefix, so conversion between them is `None`: only apiVersion changes) and the OpenAPI schema
 * of each, with the type meta and ObjectMeta every kind has.
 */
export function servedVersions(crd: Crd, terminating: boolean): { resources: ResourceInfo[]; schemas: Map<string, JsonSchema> } {
  const spec = crd.spec ?? {};
  const group = spec.group ?? '';
  const names = spec.names ?? {};
  const kind = names.kind ?? '';
  const plural = names.plural ?? '';
  const resources: ResourceInfo[] = [];
  const schemas = new Map<string, JsonSchema>();
  for (const v of spec.versions ?? []) {
    if (!v.served || !v.name) continue;
    const name = schemaName(group, v.name, kind);
    schemas.set(name, servedSchema(group, v.name, kind, v.schema?.openAPIV3Schema));
    resources.push({
      group,
      version: v.name,
      kind,
      plural,
      singular: names.singular ?? kind.toLowerCase(),
      namespaced: spec.scope !== 'Cluster',
      ...(names.shortNames?.length ? { shortNames: names.shortNames } : {}),
      ...(names.categories?.length ? { categories: names.categories } : {}),
      subresources: [...(v.subresources?.status ? ['status'] : []), ...(v.subresources?.scale ? ['scale'] : [])],
      schema: name,
      validator: '',
      // Kubernetes bumps a custom resource's generation on any change outside metadata (and status).
      hasGeneration: true,
      custom: customResource(crd, v, terminating),
    });
  }
  return { resources, schemas };
}

function customResource(crd: Crd, v: CrdVersion, terminating: boolean): CustomResource {
  const scale = v.subresources?.scale;
  return {
    crd: crd.metadata?.name ?? '',
    schema: v.schema?.openAPIV3Schema,
    columns: (v.additionalPrinterColumns ?? []).map((c) => ({
      name: c.name ?? '',
      type: (c.type ?? 'string') as PrinterColumn['type'],
      jsonPath: c.jsonPath ?? '',
      ...(c.format ? { format: c.format } : {}),
      ...(c.description ? { description: c.description } : {}),
      priority: c.priority ?? 0,
    })),
    ...(scale?.specReplicasPath && scale.statusReplicasPath
      ? { scale: { specReplicasPath: scale.specReplicasPath, statusReplicasPath: scale.statusReplicasPath, ...(scale.labelSelectorPath ? { labelSelectorPath: scale.labelSelectorPath } : {}) } }
      : {}),
    terminating,
  };
}

function servedSchema(group: string, version: string, kind: string, schema: JsonSchema | undefined): JsonSchema {
  const user = (schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }) as JsonSchema;
  const { metadata: _metadata, ...properties } = (user.properties ?? {}) as Record<string, JsonSchema>;
  return {
    ...user,
    type: 'object',
    properties: {
      apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
      kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
      metadata: { $ref: '#/components/schemas/V1ObjectMeta', description: "Standard object's metadata." },
      ...properties,
    },
    'x-kubernetes-group-version-kind': [{ group, version, kind }],
  };
}
