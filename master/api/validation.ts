import { CronScheduleError, parseCronSchedule } from '../../kube/cron-schedule';
import { validateCustomObject } from './custom-resources/custom-object';
import type { ResourceInfo } from './resources';
import { validateSelectors } from './selector-validation';
import type { StatusCause } from './status';

type Obj = Record<string, unknown>;
interface SchemaError {
  instancePath: string;
  message?: string;
  params?: Record<string, unknown>;
}
/** A kubernetes-models class: its type meta and the schema validator on its prototype. */
type Model = { apiVersion: string; kind: string; prototype: { validate(this: unknown): void } };
type Validate = (data: unknown) => SchemaError[];

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const qualifiedName = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const quantity = /^[+-]?(\d+(\.\d*)?|\.\d+)(([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/;

/** Kinds whose names must be DNS-1123 labels rather than subdomains. */
const labelNamed = new Set(['Namespace', 'Service']);

const validators = new Map<string, Validate>();

function schemaValidator(modelPath: string): Validate {
  let v = validators.get(modelPath);
  if (!v) {
    // kubernetes-models compiles the Kubernetes OpenAPI schema of each kind into a validator.
    const model = (require(`kubernetes-models/${modelPath}`) as Record<string, Model>)[modelPath.split('/').pop() as string];
    v = (data: unknown): SchemaError[] => {
      try {
        // The validator runs on the object itself: `new model(data)` first deep-copied every write
        // (the model's constructor copies each property), ~2 % of the master's CPU at 5,000 nodes.
        model.prototype.validate.call({ apiVersion: model.apiVersion, kind: model.kind, ...(data as object) });
        return [];
      } catch (err) {
        const errs = (err as { errors?: SchemaError[] }).errors;
        // A validator that throws without errors met a shape it cannot walk: that is an object it
        // cannot vouch for, refused like any other invalid one (the fuzz suite found such shapes).
        if (!errs) return [{ instancePath: '', message: `the object cannot be checked against its schema (${(err as Error).message})` }];
        return errs;
      }
    };
    validators.set(modelPath, v);
  }
  return v;
}

/** JSON pointer (/spec/containers/0/image) to Kubernetes' field path (spec.containers[0].image). */
export function fieldPath(pointer: string): string {
  return pointer
    .split('/')
    .filter((p) => p.length > 0)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

/**
 * The schema's type errors alone (a string where an object belongs...), ignoring required
 * fields: defaulting walks the object before validation and must not meet `spec: true`.
 * Kubernetes refuses these when decoding into its typed structs, before defaulting too.
 */
export function typeErrors(r: ResourceInfo, obj: Obj): StatusCause[] {
  if (r.custom) return [];
  return schemaValidator(r.validator)(obj)
    .filter((e) => e.params?.missingProperty === undefined)
    .map((e) => ({ reason: 'FieldValueInvalid', field: fieldPath(e.instancePath), message: `Invalid value: ${e.message ?? 'does not match the schema'}` }));
}

/**
 * Checks an object against its kind's schema (types, required fields) and the rules the schema
 * cannot express (names, labels, quantities, ports), returning one cause per bad field.
 */
export function validateObject(r: ResourceInfo, obj: Obj): StatusCause[] {
  if (r.custom) {
    // Labels and annotations as for every kind; the name only as a path segment (custom-object.ts).
    const causes = validateCustomObject(r, obj);
    validateMeta(r, { ...((obj.metadata ?? {}) as Obj), name: undefined }, causes);
    return causes;
  }
  const causes: StatusCause[] = [];
  for (const e of schemaValidator(r.validator)(obj)) {
    {
      const missing = e.params?.missingProperty;
      const field = fieldPath(e.instancePath) + (missing ? `${e.instancePath ? '.' : ''}${String(missing)}` : '');
      causes.push({ reason: missing ? 'FieldValueRequired' : 'FieldValueInvalid', field, message: missing ? 'Required value' : `Invalid value: ${e.message ?? 'does not match the schema'}` });
    }
  }
  // Kind rules read the structure the schema vouches for, so they run only on a well-typed object.
  const wellTyped = causes.length === 0;
  validateMeta(r, (obj.metadata ?? {}) as Obj, causes);
  if (wellTyped) {
    validateKind(r.kind, obj, causes);
    validateSelectors(obj, causes);
  }
  return causes;
}

function validateMeta(r: ResourceInfo, meta: Obj, causes: StatusCause[]): void {
  const name = meta.name;
  if (typeof name === 'string' && name.length > 0) {
    const re = labelNamed.has(r.kind) ? dns1123Label : dns1123Subdomain;
    const max = labelNamed.has(r.kind) ? 63 : 253;
    if (!re.test(name) || name.length > max) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: 'metadata.name',
        message: `Invalid value: "${name}": a lowercase RFC 1123 ${labelNamed.has(r.kind) ? 'label' : 'subdomain'} must consist of lower case alphanumeric characters, '-'${labelNamed.has(r.kind) ? '' : " or '.'"}, and must start and end with an alphanumeric character (at most ${max} characters)`,
      });
    }
  }
  const labels = meta.labels;
  if (labels && typeof labels === 'object') {
    for (const [k, val] of Object.entries(labels as Obj)) {
      if (!validLabelKey(k)) causes.push({ reason: 'FieldValueInvalid', field: `metadata.labels`, message: `Invalid value: "${k}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, with an optional DNS subdomain prefix and '/'` });
      if (typeof val === 'string' && (!labelValue.test(val) || val.length > 63)) causes.push({ reason: 'FieldValueInvalid', field: `metadata.labels`, message: `Invalid value: "${val}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (at most 63 characters)` });
    }
  }
  const annotations = meta.annotations;
  if (annotations && typeof annotations === 'object') {
    const size = Object.entries(annotations as Obj).reduce((n, [k, val]) => n + k.length + String(val).length, 0);
    if (size > 256 * 1024) causes.push({ reason: 'FieldValueTooLong', field: 'metadata.annotations', message: `Too long: must have at most 262144 bytes` });
  }
}

function validLabelKey(key: string): boolean {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : '';
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (slash >= 0 && (!dns1123Subdomain.test(prefix) || prefix.length > 253)) return false;
  return name.length > 0 && name.length <= 63 && qualifiedName.test(name);
}

function validateKind(kind: string, obj: Obj, causes: StatusCause[]): void {
  const spec = (obj.spec ?? {}) as Obj;
  switch (kind) {
    case 'Pod':
      validatePodSpec(spec, 'spec', causes);
      break;
    case 'Deployment':
    case 'ReplicaSet':
    case 'DaemonSet':
    case 'StatefulSet':
      validateWorkload(kind, spec, causes);
      break;
    case 'Job':
      validateJobSpec(spec, 'spec', causes);
      break;
    case 'CronJob':
      validateCronJobSpec(spec, causes);
      break;
    case 'Service':
      validateService(spec, causes);
      break;
    case 'ConfigMap':
    case 'Secret':
      for (const field of ['data', 'binaryData', 'stringData']) {
        for (const key of Object.keys((obj[field] ?? {}) as Obj)) {
          if (!/^[-._a-zA-Z0-9]+$/.test(key) || key.length > 253) causes.push({ reason: 'FieldValueInvalid', field: `${field}[${key}]`, message: `Invalid value: "${key}": a valid config key must consist of alphanumeric characters, '-', '_' or '.'` });
        }
      }
      break;
  }
}

function validateWorkload(kind: string, spec: Obj, causes: StatusCause[]): void {
  if (typeof spec.replicas === 'number' && spec.replicas < 0) causes.push({ reason: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${spec.replicas}: must be greater than or equal to 0` });
  const selector = spec.selector as { matchLabels?: Record<string, string> } | undefined;
  const template = (spec.template ?? {}) as Obj;
  const labels = ((template.metadata ?? {}) as Obj).labels as Record<string, string> | undefined;
  if (!selector || (!selector.matchLabels && !(selector as Obj).matchExpressions)) {
    causes.push({ reason: 'FieldValueRequired', field: 'spec.selector', message: 'Required value' });
  } else {
    for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
      if (labels?.[k] !== v) causes.push({ reason: 'FieldValueInvalid', field: 'spec.template.metadata.labels', message: `Invalid value: ${JSON.stringify(labels ?? {})}: \`selector\` does not match template \`labels\`` });
    }
  }
  validatePodSpec((template.spec ?? {}) as Obj, 'spec.template.spec', causes);
  if (kind === 'Deployment') {
    const strategy = (spec.strategy ?? {}) as Obj;
    if (strategy.type && !['RollingUpdate', 'Recreate'].includes(String(strategy.type))) causes.push({ reason: 'FieldValueNotSupported', field: 'spec.strategy.type', message: `Unsupported value: "${String(strategy.type)}": supported values: "Recreate", "RollingUpdate"` });
  }
}

const nonNegative = (spec: Obj, field: string, at: string, causes: StatusCause[], min = 0): void => {
  const v = spec[field];
  if (v !== undefined && (typeof v !== 'number' || v < min)) causes.push({ reason: 'FieldValueInvalid', field: `${at}.${field}`, message: `Invalid value: ${String(v)}: must be greater than or equal to ${min}` });
};

/** A Job's spec (at "spec", or "spec.jobTemplate.spec" in a CronJob): counts, restart policy, failure policy. */
function validateJobSpec(spec: Obj, at: string, causes: StatusCause[]): void {
  for (const f of ['parallelism', 'completions', 'backoffLimit', 'ttlSecondsAfterFinished']) nonNegative(spec, f, at, causes);
  nonNegative(spec, 'activeDeadlineSeconds', at, causes, 1);
  const template = (spec.template ?? {}) as Obj;
  const podSpec = (template.spec ?? {}) as Obj;
  const restart = String(podSpec.restartPolicy ?? 'Always');
  if (restart !== 'OnFailure' && restart !== 'Never') causes.push({ reason: 'FieldValueNotSupported', field: `${at}.template.spec.restartPolicy`, message: `Unsupported value: "${restart}": supported values: "OnFailure", "Never"` });
  if (spec.completionMode !== undefined && !['NonIndexed', 'Indexed'].includes(String(spec.completionMode))) causes.push({ reason: 'FieldValueNotSupported', field: `${at}.completionMode`, message: `Unsupported value: "${String(spec.completionMode)}": supported values: "NonIndexed", "Indexed"` });
  if (spec.completionMode === 'Indexed' && spec.completions === undefined) causes.push({ reason: 'FieldValueRequired', field: `${at}.completions`, message: 'Required value: when completion mode is Indexed' });
  const policy = spec.podFailurePolicy as { rules?: Obj[] } | undefined;
  if (policy) {
    if (restart !== 'Never') causes.push({ reason: 'FieldValueInvalid', field: `${at}.podFailurePolicy`, message: 'Invalid value: only "Never" is supported for the pod template restartPolicy when podFailurePolicy is specified' });
    (policy.rules ?? []).forEach((rule, i) => {
      const f = `${at}.podFailurePolicy.rules[${i}]`;
      if (!['FailJob', 'FailIndex', 'Ignore', 'Count'].includes(String(rule.action))) causes.push({ reason: 'FieldValueNotSupported', field: `${f}.action`, message: `Unsupported value: "${String(rule.action)}": supported values: "Count", "FailIndex", "FailJob", "Ignore"` });
      const onExit = rule.onExitCodes as { operator?: string; values?: unknown[] } | undefined;
      if (Boolean(onExit) === Boolean(rule.onPodConditions)) causes.push({ reason: 'FieldValueInvalid', field: f, message: 'Invalid value: specifying one of OnExitCodes and OnPodConditions is required' });
      if (onExit && !['In', 'NotIn'].includes(String(onExit.operator))) causes.push({ reason: 'FieldValueNotSupported', field: `${f}.onExitCodes.operator`, message: `Unsupported value: "${String(onExit.operator)}": supported values: "In", "NotIn"` });
      if (onExit && (onExit.values ?? []).length === 0) causes.push({ reason: 'FieldValueRequired', field: `${f}.onExitCodes.values`, message: 'Required value: at least one value is required' });
    });
  }
  const selector = spec.selector as { matchLabels?: Record<string, string> } | undefined;
  const labels = ((template.metadata ?? {}) as Obj).labels as Record<string, string> | undefined;
  for (const [k, v] of Object.entries(selector?.matchLabels ?? {})) {
    if (labels?.[k] !== v) causes.push({ reason: 'FieldValueInvalid', field: `${at}.template.metadata.labels`, message: `Invalid value: ${JSON.stringify(labels ?? {})}: \`selector\` does not match template \`labels\`` });
  }
  validatePodSpec(podSpec, `${at}.template.spec`, causes);
}

function validateCronJobSpec(spec: Obj, causes: StatusCause[]): void {
  const schedule = spec.schedule;
  if (typeof schedule !== 'string' || !schedule.trim()) causes.push({ reason: 'FieldValueRequired', field: 'spec.schedule', message: 'Required value' });
  else {
    try {
      parseCronSchedule(schedule, spec.timeZone as string | undefined);
    } catch (err) {
      if (!(err instanceof CronScheduleError)) throw err;
      const field = err.message.includes('time zone') && spec.timeZone !== undefined ? 'spec.timeZone' : 'spec.schedule';
      causes.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: "${String(field === 'spec.timeZone' ? spec.timeZone : schedule)}": ${err.message}` });
    }
  }
  if (spec.concurrencyPolicy !== undefined && !['Allow', 'Forbid', 'Replace'].includes(String(spec.concurrencyPolicy))) causes.push({ reason: 'FieldValueNotSupported', field: 'spec.concurrencyPolicy', message: `Unsupported value: "${String(spec.concurrencyPolicy)}": supported values: "Allow", "Forbid", "Replace"` });
  for (const f of ['startingDeadlineSeconds', 'successfulJobsHistoryLimit', 'failedJobsHistoryLimit']) nonNegative(spec, f, 'spec', causes);
  const jobSpec = (((spec.jobTemplate ?? {}) as Obj).spec ?? {}) as Obj;
  validateJobSpec(jobSpec, 'spec.jobTemplate.spec', causes);
}

function validatePodSpec(spec: Obj, at: string, causes: StatusCause[]): void {
  const containers = (spec.containers ?? []) as Obj[];
  if (containers.length === 0) causes.push({ reason: 'FieldValueRequired', field: `${at}.containers`, message: 'Required value' });
  const names = new Set<string>();
  const all: [string, Obj[]][] = [['containers', containers], ['initContainers', (spec.initContainers ?? []) as Obj[]]];
  for (const [list, items] of all) {
    items.forEach((c, i) => {
      const f = `${at}.${list}[${i}]`;
      const name = String(c.name ?? '');
      if (!name) causes.push({ reason: 'FieldValueRequired', field: `${f}.name`, message: 'Required value' });
      else if (!dns1123Label.test(name)) causes.push({ reason: 'FieldValueInvalid', field: `${f}.name`, message: `Invalid value: "${name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'` });
      else if (names.has(name)) causes.push({ reason: 'FieldValueDuplicate', field: `${f}.name`, message: `Duplicate value: "${name}"` });
      names.add(name);
      if (!c.image || !String(c.image).trim()) causes.push({ reason: 'FieldValueRequired', field: `${f}.image`, message: 'Required value' });
      ((c.ports ?? []) as Obj[]).forEach((p, j) => {
        for (const key of ['containerPort', 'hostPort']) {
          const n = p[key];
          if (n !== undefined && (typeof n !== 'number' || n < 1 || n > 65535)) causes.push({ reason: 'FieldValueInvalid', field: `${f}.ports[${j}].${key}`, message: `Invalid value: ${String(n)}: must be between 1 and 65535, inclusive` });
        }
      });
      const resources = (c.resources ?? {}) as Obj;
      for (const kind of ['limits', 'requests']) {
        for (const [res, q] of Object.entries((resources[kind] ?? {}) as Obj)) {
          if (!quantity.test(String(q))) causes.push({ reason: 'FieldValueInvalid', field: `${f}.resources.${kind}[${res}]`, message: `Invalid value: "${String(q)}": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'` });
        }
      }
    });
  }
  const volumes = new Set<string>();
  ((spec.volumes ?? []) as Obj[]).forEach((v, i) => {
    const name = String(v.name ?? '');
    if (!dns1123Label.test(name)) causes.push({ reason: 'FieldValueInvalid', field: `${at}.volumes[${i}].name`, message: `Invalid value: "${name}": must be a lowercase RFC 1123 label` });
    if (volumes.has(name)) causes.push({ reason: 'FieldValueDuplicate', field: `${at}.volumes[${i}].name`, message: `Duplicate value: "${name}"` });
    volumes.add(name);
  });
  if (spec.restartPolicy && !['Always', 'OnFailure', 'Never'].includes(String(spec.restartPolicy))) {
    causes.push({ reason: 'FieldValueNotSupported', field: `${at}.restartPolicy`, message: `Unsupported value: "${String(spec.restartPolicy)}": supported values: "Always", "OnFailure", "Never"` });
  }
}

function validateService(spec: Obj, causes: StatusCause[]): void {
  const type = String(spec.type ?? 'ClusterIP');
  if (!['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'].includes(type)) causes.push({ reason: 'FieldValueNotSupported', field: 'spec.type', message: `Unsupported value: "${type}": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"` });
  const ports = (spec.ports ?? []) as Obj[];
  if (ports.length === 0 && type !== 'ExternalName' && spec.clusterIP !== 'None') causes.push({ reason: 'FieldValueRequired', field: 'spec.ports', message: 'Required value' });
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const port = p.port;
    if (typeof port !== 'number' || port < 1 || port > 65535) causes.push({ reason: 'FieldValueInvalid', field: `spec.ports[${i}].port`, message: `Invalid value: ${String(port)}: must be between 1 and 65535, inclusive` });
    if (ports.length > 1 && !p.name) causes.push({ reason: 'FieldValueRequired', field: `spec.ports[${i}].name`, message: 'Required value' });
    if (p.name) {
      if (names.has(String(p.name))) causes.push({ reason: 'FieldValueDuplicate', field: `spec.ports[${i}].name`, message: `Duplicate value: "${String(p.name)}"` });
      names.add(String(p.name));
    }
    if (p.protocol && !['TCP', 'UDP', 'SCTP'].includes(String(p.protocol))) causes.push({ reason: 'FieldValueNotSupported', field: `spec.ports[${i}].protocol`, message: `Unsupported value: "${String(p.protocol)}": supported values: "SCTP", "TCP", "UDP"` });
  });
}
