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
  const stack: [unknown, string, string][] = [[obj, '', '']];
  while (stack.length > 0) {
    const [value, path, key] = stack.pop() as [unknown, string, string];
    if (typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value)) {
      value.forEach((item, i) => stack.push([item, `${path}[${i}]`, key]));
      continue;
    }
    const o = value as Obj;
    if (labelSelectorFields.has(key) && Array.isArray(o.matchExpressions)) checkExpressions(o.matchExpressions, `${path}.matchExpressions`, labelSelectorOperators, causes);
    if (nodeSelectorFields.has(key)) {
      for (const list of ['matchExpressions', 'matchFields']) {
        if (Array.isArray(o[list])) checkExpressions(o[list] as unknown[], `${path}.${list}`, nodeSelectorOperators, causes);
      }
    }
    for (const [k, v] of Object.entries(o)) stack.push([v, path ? `${path}.${k}` : k, k]);
  }
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
