import type { StatefulSet } from 'kubernetes-types/apps/v1';
import type { PersistentVolumeClaim, Pod, PodTemplateSpec } from 'kubernetes-types/core/v1';
import { isPodReady } from '../../../kube/pod-conditions';
import { newControllerRef } from '../owner-references';
import { REVISION_LABEL } from '../controller-revisions';

/** `web-2` → 2; undefined when the name is not NAME-ORDINAL of this set. */
export function ordinalOf(sts: StatefulSet, pod: Pod): number | undefined {
  const prefix = `${sts.metadata?.name}-`;
  const name = pod.metadata?.name ?? '';
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : undefined;
}

/** The first ordinal (spec.ordinals.start, default 0). */
export function startOrdinal(sts: StatefulSet): number {
  return sts.spec?.ordinals?.start ?? 0;
}

/** Running, Ready and not being deleted: what OrderedReady waits for before the next ordinal. */
export function isHealthy(pod: Pod): boolean {
  return pod.status?.phase === 'Running' && isPodReady(pod) && !pod.metadata?.deletionTimestamp;
}

export function isFinished(pod: Pod): boolean {
  return pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded';
}

/** The claim a pod of the set gets from a volumeClaimTemplate: TEMPLATE-POD, labelled with the set's selector. */
export function claimFor(sts: StatefulSet, template: PersistentVolumeClaim, podName: string): PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: `${template.metadata?.name}-${podName}`,
      namespace: sts.metadata?.namespace,
      labels: { ...(template.metadata?.labels ?? {}), ...(sts.spec?.selector?.matchLabels ?? {}) },
      ...(template.metadata?.annotations ? { annotations: template.metadata.annotations } : {}),
    },
    spec: template.spec,
  };
}

/**
 * Pod NAME-ORDINAL of the set from a template: its identity (hostname, the governing Service as
 * subdomain, so NAME-ORDINAL.SERVICE resolves), the revision it was made from, and a volume per
 * claim template pointing at its own claim.
 */
export function statefulPod(sts: StatefulSet, ordinal: number, template: PodTemplateSpec, revision: string): Pod {
  const name = `${sts.metadata?.name}-${ordinal}`;
  const spec = structuredClone(template.spec ?? { containers: [] });
  const claimVolumes = (sts.spec?.volumeClaimTemplates ?? []).map((t) => ({ name: t.metadata?.name ?? '', persistentVolumeClaim: { claimName: `${t.metadata?.name}-${name}` } }));
  const claimed = new Set(claimVolumes.map((v) => v.name));
  spec.volumes = [...(spec.volumes ?? []).filter((v) => !claimed.has(v.name)), ...claimVolumes];
  spec.hostname = name;
  if (sts.spec?.serviceName) spec.subdomain = sts.spec.serviceName;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: sts.metadata?.namespace,
      labels: {
        ...(template.metadata?.labels ?? {}),
        'statefulset.kubernetes.io/pod-name': name,
        'apps.kubernetes.io/pod-index': String(ordinal),
        [REVISION_LABEL]: revision,
      },
      ...(template.metadata?.annotations ? { annotations: template.metadata.annotations } : {}),
      ownerReferences: [newControllerRef(sts, 'apps/v1', 'StatefulSet')],
    },
    spec,
  };
}
