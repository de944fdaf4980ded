/** Where one resource (or one of its objects) lives in the Kubernetes REST layout. */
export interface ResourceRef {
  /** '' for the core group. */
  group: string;
  version: string;
  /** Plural lower-case resource name: 'pods', 'deployments'. */
  resource: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export function resourcePath(ref: ResourceRef): string {
  const base = ref.group === '' ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;
  const ns = ref.namespace ? `/namespaces/${encodeURIComponent(ref.namespace)}` : '';
  const name = ref.name ? `/${encodeURIComponent(ref.name)}` : '';
  const sub = ref.name && ref.subresource ? `/${ref.subresource}` : '';
  return `${base}${ns}/${ref.resource}${name}${sub}`;
}

/** The refs the agent and controllers use most, so callers do not spell groups by hand. */
export const core = (resource: string, namespace?: string, name?: string, subresource?: string): ResourceRef => ({
  group: '',
  version: 'v1',
  resource,
  namespace,
  name,
  subresource,
});

export const apps = (resource: string, namespace?: string, name?: string, subresource?: string): ResourceRef => ({
  group: 'apps',
  version: 'v1',
  resource,
  namespace,
  name,
  subresource,
});

export const batch = (resource: string, namespace?: string, name?: string, subresource?: string): ResourceRef => ({
  group: 'batch',
  version: 'v1',
  resource,
  namespace,
  name,
  subresource,
});
