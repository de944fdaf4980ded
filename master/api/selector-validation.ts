import type { StatusCause } from './status';

type Obj = Record<string, unknown>;

const labelSelectorOperators = ['In', 'NotIn', 'Exists', 'DoesNotExist'];
const nodeSelectorOperators = [...labelSelectorOperators, 'Gt', 'Lt'];
/** Fields that hold a metav1.LabelSelector anywhere in the built-in kinds. */
const labelSelectorFields = new Set(['selector', 'labelSelector', 'namespaceSelector', 'podSelector']);
/** Fields whose items hold NodeSelectorRequirements (node affinity). */
const nodeSelectorFields = new Set(['nodeSelectorTerms', 'preference']);

/**
 * Checks every label selector's and node selector's expressions in an object, as Kubernetes'
 * validation does: an unknown operator such as `Like` is refused (422) instead of being stored
 * and failing forever in the controller that reads it; In/NotIn need values, Exists/DoesNotExist
 * take none, Gt/Lt take one integer.
 */
export function validateSelectors(obj: Obj, causes: StatusCause[]): void {
  // The root's metadata holds no selector, but its managedFields are the largest tree of a
  // written object: not walking them, and naming a field only when it is reported, kept this
  // walk from being the master's largest allocator per write (5 % of its bytes at 5,000 nodes).
  const stack: Step[] = Object.keys(obj)
    .filter((k) => k !== 'metadata')
    .map((k) => ({ value: obj[k], key: k, field: k }));
  for (let step = stack.pop(); step !== undefined; step = stack.pop()) {
    const { value, key } = step;
    if (typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) stack.push({ value: value[i] as unknown, key, index: i, parent: step });
      continue;
    }
    const o = value as Obj;
    if (labelSelectorFields.has(key) && Array.isArray(o.matchExpressions)) checkExpressions(o.matchExpressions, `${fieldName(step)}.matchExpressions`, labelSelectorOperators, causes);
    if (nodeSelectorFields.has(key)) {
      for (const list of ['matchExpressions', 'matchFields']) {
        if (Array.isArray(o[list])) checkExpressions(o[list] as unknown[], `${fieldName(step)}.${list}`, nodeSelectorOperators, causes);
      }
    }
    for (const k of Object.keys(o)) stack.push({ value: o[k], key: k, field: k, parent: step });
  }
}

/** A value to visit, and the chain back to the root its field name is built from when a cause needs it. */
interface Step {
  value: unknown;
  /** The field name the value is under (an array's items keep the array's). */
  key: string;
  /** The value's own field name, or its index in the parent array. */
  field?: string;
  index?: number;
  parent?: Step;
}

function fieldName(step: Step): string {
  const segments: string[] = [];
  for (let s: Step | undefined = step; s; s = s.parent) {
    segments.push(s.index !== undefined ? `[${s.index}]` : s.parent ? `.${s.field}` : String(s.field));
  }
  return segments.reverse().join('');
}

function checkExpressions(expressions: unknown[], at: string, operators: string[], causes: StatusCause[]): void {
  expressions.forEach((e, i) => {
    const field = `${at}[${i}]`;
    const { key, operator, values } = (e ?? {}) as { key?: unknown; operator?: unknown; values?: unknown };
    if (typeof key !== 'string' || key === '') causes.push({ reason: 'FieldValueRequired', field: `${field}.key`, message: 'Required value' });
    if (typeof operator !== 'string' || !operators.includes(operator)) {
      causes.push({ reason: 'FieldValueNotSupported', field: `${field}.operator`, message: `Unsupported value: ${JSON.stringify(operator ?? '')}: supported values: ${operators.map((o) => `"${o}"`).join(', ')}` });
      return;
    }
    const count = Array.isArray(values) ? values.length : 0;
    if ((operator === 'In' || operator === 'NotIn') && count === 0) {
      causes.push({ reason: 'FieldValueRequired', field: `${field}.values`, message: `Required value: must be specified when \`operator\` is 'In' or 'NotIn'` });
    }
    if ((operator === 'Exists' || operator === 'DoesNotExist') && count > 0) {
      causes.push({ reason: 'FieldValueForbidden', field: `${field}.values`, message: `Forbidden: may not be specified when \`operator\` is 'Exists' or 'DoesNotExist'` });
    }
    if ((operator === 'Gt' || operator === 'Lt') && (count !== 1 || !/^-?\d+$/.test(String((values as unknown[])[0])))) {
      causes.push({ reason: 'FieldValueRequired', field: `${field}.values`, message: `Required value: must be specified single value when \`operator\` is 'Lt' or 'Gt'` });
    }
  });
}
