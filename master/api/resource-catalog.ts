import { apiVersionOf, resources, type JsonSchema, type ResourceInfo } from './resources';

/**
 * What one API server serves: the built-in resources and the versions of the
 * CustomResourceDefinitions it has accepted. Each server holds its own (a test may run several
 * masters in one process); `generation` moves on every change so discovery and OpenAPI know when
 * what they built is stale.
 */
/**
 * Kubernetes' version priority: GA before beta before alpha, higher numbers first, and versions
 * that do not look like Kubernetes versions last, alphabetically.
 */
export function compareVersions(a: string, b: string): number {
  const rank = (v: string): [number, number, number] | undefined => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return undefined;
    return [m[2] === undefined ? 3 : m[2] === 'beta' ? 2 : 1, Number(m[1]), Number(m[3] ?? 0)];
  };
  const ra = rank(a);
  const rb = rank(b);
  if (!ra || !rb) return ra ? -1 : rb ? 1 : a.localeCompare(b);
  return rb[0] - ra[0] || rb[1] - ra[1] || rb[2] - ra[2];
}

export class ResourceCatalog {
  private custom = new Map<string, ResourceInfo[]>();
  private everything: ResourceInfo[] = [...resources];
  private schemas = new Map<string, JsonSchema>();
  private changes = 0;

  get generation(): number {
    return this.changes;
  }

  all(): readonly ResourceInfo[] {
    return this.everything;
  }

  customResources(): ResourceInfo[] {
    return [...this.custom.values()].flat();
  }

  find(group: string, version: string, plural: string): ResourceInfo | undefined {
    return this.everything.find((r) => r.group === group && r.version === version && r.plural === plural);
  }

  findByKind(apiVersion: string, kind: string): ResourceInfo | undefined {
    return this.everything.find((r) => apiVersionOf(r) === apiVersion && r.kind === kind);
  }

  /**
   * Group-versions in discovery order: core, the built-in groups, then custom groups; within a
   * group by Kubernetes' version priority, so the first is the preferred version.
   */
  groupVersions(): { group: string; version: string }[] {
    const seen = new Map<string, { group: string; version: string }>();
    for (const r of this.everything) seen.set(apiVersionOf(r), { group: r.group, version: r.version });
    const groups = [...new Set([...seen.values()].map((gv) => gv.group))];
    return [...seen.values()].sort((a, b) => groups.indexOf(a.group) - groups.indexOf(b.group) || compareVersions(a.version, b.version));
  }

  /** The served schema of a custom resource version (named as ResourceInfo.schema says). */
  schema(name: string): JsonSchema | undefined {
    return this.schemas.get(name);
  }

  /** Serves (or stops serving, with an empty list) the versions of one CRD. */
  setCustom(crd: string, versions: ResourceInfo[], schemas: Map<string, JsonSchema>): void {
    const before = JSON.stringify(this.custom.get(crd) ?? []);
    if (before === JSON.stringify(versions)) return;
    for (const old of this.custom.get(crd) ?? []) this.schemas.delete(old.schema);
    if (versions.length === 0) this.custom.delete(crd);
    else this.custom.set(crd, versions);
    for (const [name, schema] of schemas) this.schemas.set(name, schema);
    this.everything = [...resources, ...this.customResources()];
    this.changes++;
  }
}
