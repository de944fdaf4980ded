/**
 * A set of field paths, the unit of server-side apply's ownership bookkeeping, with the set
 * algebra structured-merge-diff uses and the FieldsV1 encoding kubectl reads and writes.
 *
 * A path is a sequence of path elements, each written as in FieldsV1: `f:name` (a field or map
 * key), `k:{"name":"main"}` (an item of a list keyed by its map keys), `v:"x"` (an item of a set
 * of primitives), `i:3` (an item by index). The set is a tree: every node says whether the path
 * that ends there is a member, and holds the longer paths below it. Sets are immutable: every
 * operation returns new nodes and may share unchanged subtrees with its inputs.
 */
export interface FieldSet {
  /** Whether the path leading to this node is itself in the set (meaningless at the root). */
  readonly member: boolean;
  readonly children: ReadonlyMap<string, FieldSet>;
}

/** FieldsV1 as stored in managedFields: `{"f:data":{".":{},"f:a":{}}}`. */
export type FieldsV1 = { [element: string]: FieldsV1 };

export const emptySet: FieldSet = { member: false, children: new Map() };

const leaf: FieldSet = { member: true, children: new Map() };

export function isEmpty(s: FieldSet): boolean {
  return !s.member && s.children.size === 0;
}

/** A set node; empty children maps are shared so leaves cost one object. */
export function node(member: boolean, children: ReadonlyMap<string, FieldSet> = new Map()): FieldSet {
  if (member && children.size === 0) return leaf;
  return { member, children };
}

/** The set holding exactly one path. */
export function pathSet(path: readonly string[]): FieldSet {
  let s: FieldSet = leaf;
  for (let i = path.length - 1; i >= 0; i--) s = node(false, new Map([[path[i], s]]));
  return s;
}

export function has(s: FieldSet, path: readonly string[]): boolean {
  let cur: FieldSet | undefined = s;
  for (const element of path) {
    cur = cur.children.get(element);
    if (!cur) return false;
  }
  return path.length > 0 && cur.member;
}

export function union(a: FieldSet, b: FieldSet): FieldSet {
  if (isEmpty(a)) return b;
  if (isEmpty(b)) return a;
  const children = new Map(a.children);
  for (const [element, child] of b.children) {
    const mine = children.get(element);
    children.set(element, mine ? union(mine, child) : child);
  }
  return node(a.member || b.member, children);
}

/** Paths of `a` that are not in `b`; a member of `b` does not take away paths below it. */
export function difference(a: FieldSet, b: FieldSet): FieldSet {
  if (isEmpty(b)) return a;
  const children = new Map<string, FieldSet>();
  for (const [element, child] of a.children) {
    const other = b.children.get(element);
    const rest = other ? difference(child, other) : child;
    if (!isEmpty(rest)) children.set(element, rest);
  }
  return node(a.member && !b.member, children);
}

export function intersection(a: FieldSet, b: FieldSet): FieldSet {
  const children = new Map<string, FieldSet>();
  const [small, large] = a.children.size <= b.children.size ? [a, b] : [b, a];
  for (const [element, child] of small.children) {
    const other = large.children.get(element);
    if (!other) continue;
    const both = intersection(child, other);
    if (!isEmpty(both)) children.set(element, both);
  }
  return node(a.member && b.member, children);
}

/** `a` without the subtrees rooted at the given top-level elements. */
export function without(a: FieldSet, elements: readonly string[]): FieldSet {
  if (!elements.some((e) => a.children.has(e))) return a;
  const children = new Map(a.children);
  for (const e of elements) children.delete(e);
  return node(a.member, children);
}

/** `a` keeping only the subtrees rooted at the given top-level elements. */
export function only(a: FieldSet, elements: readonly string[]): FieldSet {
  const children = new Map<string, FieldSet>();
  for (const e of elements) {
    const child = a.children.get(e);
    if (child) children.set(e, child);
  }
  return node(a.member, children);
}

/** The subtree below one element (empty when absent). */
export function child(a: FieldSet, element: string): FieldSet {
  return a.children.get(element) ?? emptySet;
}

/** `a` with the subtree below `element` replaced (dropped when empty). */
export function withChild(a: FieldSet, element: string, sub: FieldSet): FieldSet {
  const children = new Map(a.children);
  if (isEmpty(sub)) children.delete(element);
  else children.set(element, sub);
  return node(a.member, children);
}

/**
 * Makes every field that has paths below it a member too. Apply uses this when pruning, as
 * structured-merge-diff does for named fields: dropping every key of `labels` from a
 * configuration removes the emptied `labels` map as well, instead of leaving `labels: {}`.
 */
export function withFieldsAsMembers(a: FieldSet): FieldSet {
  if (a.children.size === 0) return a;
  const children = new Map<string, FieldSet>();
  for (const [element, sub] of a.children) {
    const inner = withFieldsAsMembers(sub);
    children.set(element, element.startsWith('f:') && inner.children.size > 0 ? node(true, inner.children) : inner);
  }
  return node(a.member, children);
}

/** Every member path, in FieldsV1 order. */
export function members(a: FieldSet): string[][] {
  const out: string[][] = [];
  const walk = (s: FieldSet, prefix: string[]): void => {
    for (const element of sortedElements(s.children.keys())) {
      const sub = s.children.get(element) as FieldSet;
      const path = [...prefix, element];
      if (sub.member) out.push(path);
      walk(sub, path);
    }
  };
  walk(a, []);
  return out;
}

/** Decodes FieldsV1; throws on a value that is not an object tree. */
export function fromFieldsV1(value: unknown, where = ''): FieldSet {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`fieldsV1${where}: expected an object, got ${JSON.stringify(value)}`);
  let member = false;
  const children = new Map<string, FieldSet>();
  for (const [element, sub] of Object.entries(value)) {
    if (element === '.') {
      member = true;
      continue;
    }
    if (!/^[fkvi]:/.test(element)) throw new Error(`fieldsV1${where}: "${element}" is not a path element (f:, k:, v: or i:)`);
    const decoded = fromFieldsV1(sub, `${where}/${element}`);
    children.set(element, decoded.children.size === 0 ? leaf : decoded);
  }
  return node(member, children);
}

/** Encodes to FieldsV1 with elements in structured-merge-diff's order, so output is stable. */
export function toFieldsV1(a: FieldSet): FieldsV1 {
  return encodeInto(a, {});
}

/** Writes a set's elements into `out` (which may already hold "."), nested objects built in place. */
function encodeInto(a: FieldSet, out: FieldsV1): FieldsV1 {
  for (const element of sortedElements(a.children.keys())) {
    const sub = a.children.get(element) as FieldSet;
    out[element] = sub.children.size === 0 ? {} : encodeInto(sub, sub.member ? { '.': {} } : {});
  }
  return out;
}

/**
 * Fields, then keyed items, then values, then indexes, each by text: as Kubernetes sorts. Sets
 * decoded from FieldsV1 that this server wrote are in that order already, so the sort is
 * skipped when a pass finds nothing out of place.
 */
function sortedElements(elements: Iterable<string>): string[] {
  const list = [...elements];
  for (let i = 1; i < list.length; i++) if (byElement(list[i - 1], list[i]) > 0) return list.sort(byElement);
  return list;
}

const rank = (e: string): number => 'fkvi'.indexOf(e[0]);
const byElement = (x: string, y: string): number => rank(x) - rank(y) || (x < y ? -1 : x > y ? 1 : 0);

/** A path as Kubernetes prints it in conflicts: `.spec.containers[name="main"].image`. */
export function formatPath(path: readonly string[]): string {
  return path.map(formatElement).join('');
}

function formatElement(element: string): string {
  const body = element.slice(2);
  switch (element[0]) {
    case 'f':
      return `.${body}`;
    case 'k': {
      const fields = JSON.parse(body) as Record<string, unknown>;
      return `[${Object.entries(fields).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
    }
    case 'v':
      return `[=${body}]`;
    default:
      return `[${body}]`;
  }
}
