import { JSONPath } from 'jsonpath-plus';
import { mapItems, type Items } from '../item-pages';
import type { Obj } from '../registry';
import type { PrinterColumn, ResourceInfo } from '../resources';
import { humanAge, type IncludeObject } from '../table';

type Cell = string | number | boolean | null;

/** Kubernetes' column for a CRD that declares none. */
const ageColumn: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.', priority: 0 };

/** A meta.k8s.io/v1 Table of custom resources: Name, then the CRD's additionalPrinterColumns (or Age). */
export function customResourceTable(r: ResourceInfo, items: Items<Obj>, meta: { resourceVersion?: string; continue?: string }, include: IncludeObject): Record<string, unknown> {
  const columns = r.custom?.columns.length ? r.custom.columns : [ageColumn];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: meta,
    columnDefinitions: [
      { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 },
      ...columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0 })),
    ],
    rows: mapItems(items, (o) => ({
      cells: [o.metadata?.name ?? '', ...columns.map((c) => cell(c, o))],
      object: include === 'Object' ? o : include === 'None' ? undefined : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}

/** One cell: nothing found is null (kubectl prints <none>), several values are joined, dates become ages. */
function cell(c: PrinterColumn, o: Obj): Cell {
  let found: unknown[];
  try {
    found = JSONPath({ path: `$${c.jsonPath}`, json: o as object, wrap: true }) as unknown[];
  } catch {
    return null;
  }
  if (found.length === 0 || found[0] === undefined || found[0] === null) return null;
  if (found.length > 1) return found.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(' ');
  const v = found[0];
  if (c.type === 'date') return typeof v === 'string' ? humanAge(v) : null;
  if (c.type === 'integer' || c.type === 'number') return typeof v === 'number' ? v : null;
  if (c.type === 'boolean') return typeof v === 'boolean' ? v : null;
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}
