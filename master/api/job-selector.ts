import type { Obj } from './registry';
import type { StatusCause } from './status';

/** The label every pod of a Job carries and its generated selector matches: the Job's own uid. */
export const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
/** The unprefixed forms older clients and charts still select on; upstream sets both. */
const LEGACY_CONTROLLER_UID_LABEL = 'controller-uid';
const LEGACY_JOB_NAME_LABEL = 'job-name';

interface JobLike {
  metadata?: { name?: string };
  spec?: { manualSelector?: boolean; selector?: { matchLabels?: Record<string, string> }; template?: { metadata?: { labels?: Record<string, string> } } };
}

/**
 * Gives a new Job the selector upstream's Job strategy generates: its pods are labelled with the
 * Job's uid and name, and the selector matches the uid, so two Jobs never share pods even when
 * their templates are alike. With spec.manualSelector the user's selector is kept.
 */
export function generateJobSelector(obj: Obj, uid: string): StatusCause[] {
  const job = obj as JobLike;
  const spec = (job.spec ??= {});
  if (spec.manualSelector === true) return [];
  if (spec.selector) {
    return [{ reason: 'FieldValueInvalid', field: 'spec.selector', message: `Invalid value: ${JSON.stringify(spec.selector)}: \`selector\` will be auto-generated; remove it, or set spec.manualSelector: true to select pods yourself` }];
  }
  const tpl = (spec.template ??= {});
  const meta = (tpl.metadata ??= {});
  const name = job.metadata?.name ?? '';
  meta.labels = {
    ...(meta.labels ?? {}),
    [CONTROLLER_UID_LABEL]: uid,
    [JOB_NAME_LABEL]: name,
    [LEGACY_CONTROLLER_UID_LABEL]: uid,
    [LEGACY_JOB_NAME_LABEL]: name,
  };
  spec.selector = { matchLabels: { [CONTROLLER_UID_LABEL]: uid } };
  return [];
}
