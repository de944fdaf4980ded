import type { Job, PodFailurePolicyRule } from 'kubernetes-types/batch/v1';
import type { ContainerStatus, Pod } from 'kubernetes-types/core/v1';

/** What a Job's podFailurePolicy says about one failed pod. */
export interface FailureVerdict {
  action: 'FailJob' | 'FailIndex' | 'Ignore' | 'Count';
  /** Why a FailJob rule matched, as upstream words it (ends up in the Failed condition). */
  message?: string;
}

/**
 * Evaluates spec.podFailurePolicy for a failed pod as upstream does: rules in order, the first
 * match decides; no policy or no matching rule counts the failure towards backoffLimit.
 */
export function podFailureVerdict(job: Job, pod: Pod): FailureVerdict {
  const rules = job.spec?.podFailurePolicy?.rules ?? [];
  const podName = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
  for (const [index, rule] of rules.entries()) {
    const action = rule.action as FailureVerdict['action'];
    if (rule.onExitCodes) {
      const hit = matchingContainer(rule, pod);
      if (hit) return { action, message: `Container ${hit.name} for pod ${podName} failed with exit code ${hit.exitCode} matching ${action} rule at index ${index}` };
    } else if (rule.onPodConditions) {
      const cond = rule.onPodConditions.find((p) => (pod.status?.conditions ?? []).some((c) => c.type === p.type && c.status === (p.status ?? 'True')));
      if (cond) return { action, message: `Pod ${podName} has condition ${cond.type} matching ${action} rule at index ${index}` };
    }
  }
  return { action: 'Count' };
}

/** The first container (init containers first) that exited non-zero with a code the rule names. */
function matchingContainer(rule: PodFailurePolicyRule, pod: Pod): { name: string; exitCode: number } | undefined {
  const req = rule.onExitCodes;
  if (!req) return undefined;
  const statuses: ContainerStatus[] = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const s of statuses) {
    if (req.containerName && req.containerName !== s.name) continue;
    const code = s.state?.terminated?.exitCode;
    // Exit code 0 is success, never a failure a rule can match.
    if (code === undefined || code === 0) continue;
    const listed = req.values.includes(code);
    if (req.operator === 'In' ? listed : !listed) return { name: s.name, exitCode: code };
  }
  return undefined;
}
