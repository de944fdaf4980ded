import type { ResourceCatalog } from './resource-catalog';
import type { ResourceInfo } from './resources';
import { errors } from './status';

export interface ResourceRequest {
  type: 'resource';
  verb: 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';
  resource: ResourceInfo;
  namespace?: string;
  name?: string;
  subresource?: string;
  query: URLSearchParams;
}

export interface OtherRequest {
  type: 'other';
  path: string;
  query: URLSearchParams;
}

/**
 * Maps method + URL onto a resource request, as the Kubernetes RequestInfoResolver does:
 * /api/v1[/namespaces/NS]/RESOURCE[/NAME[/SUB]] and /apis/GROUP/VERSION/...
 */
export function parseRequest(method: string, rawUrl: string, catalog: ResourceCatalog): ResourceRequest | OtherRequest {
  const url = new URL(rawUrl, 'https://lotse.invalid');
  const parts = url.pathname.split('/').filter((p) => p.length > 0).map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    version = parts[1];
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1];
    version = parts[2];
    rest = parts.slice(3);
  } else {
    return { type: 'other', path: url.pathname, query: url.searchParams };
  }
  let namespace: string | undefined;
  // "namespaces/NAME" is a namespace object unless more segments follow (then it scopes a resource).
  if (rest[0] === 'namespaces' && rest.length >= 3 && !(rest.length === 3 && ['status', 'finalize'].includes(rest[2]))) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, subresource, ...extra] = rest;
  const resource = catalog.find(group, version, plural);
  if (!resource) throw new NotServed(`the server could not find the requested resource (${group ? `${plural}.${group}` : plural} in ${group || 'core'}/${version})`);
  if (extra.length > 0) throw new NotServed(`the server could not find the requested resource: ${url.pathname}`);
  if (subresource && !resource.subresources.includes(subresource)) {
    // An empty name in the details tells clients the subresource is not served at all, not that the
    // object is missing: kubectl debug reads details.name and panics without details.
    throw new NotServed(`the server could not find the requested resource: ${resource.plural}/${subresource}`, { name: '', group: resource.group, kind: resource.plural });
  }
  if (resource.namespaced && name && !namespace && resource.plural !== 'namespaces') {
    throw errors.badRequest(`${resource.kind} is namespaced: the path must name a namespace (/namespaces/NS/${resource.plural}/${name})`);
  }
  const verb = verbFor(method, Boolean(name), queryFlag(url.searchParams, 'watch'));
  return { type: 'resource', verb, resource, namespace, name, subresource, query: url.searchParams };
}

/** A path naming no served resource or subresource; `details` goes into the 404 Status. */
export class NotServed extends Error {
  constructor(
    message: string,
    readonly details: { name: string; group: string; kind: string } = { name: '', group: '', kind: '' },
  ) {
    super(message);
  }
}

/**
 * A boolean query parameter as the apiserver converts it: present and not "0" or "false" (in any
 * case) is true, so the Python client's `watch=True` watches like kubectl's `watch=true`.
 */
export function queryFlag(query: URLSearchParams, name: string): boolean {
  const v = query.get(name);
  if (v === null) return false;
  return v !== '0' && v.toLowerCase() !== 'false';
}

function verbFor(method: string, named: boolean, watch: boolean): ResourceRequest['verb'] {
  switch (method) {
    case 'GET':
    case 'HEAD':
      return named ? 'get' : watch ? 'watch' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return named ? 'delete' : 'deletecollection';
    default:
      throw errors.methodNotAllowed(`method ${method} is not supported`);
  }
}
