import type { Pod } from 'kubernetes-types/core/v1';

/** Value of a downward-API fieldRef (env or volume) for this pod, as the kubelet resolves it. */
export function fieldRefValue(pod: Pod, fieldPath: string, hostIP: string, podIP = ''): string {
  const meta = pod.metadata ?? {};
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (m) return (m[1] === 'labels' ? meta.labels : meta.annotations)?.[m[2]] ?? '';
  switch (fieldPath) {
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? '';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'metadata.labels':
      return formatMap(meta.labels);
    case 'metadata.annotations':
      return formatMap(meta.annotations);
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
      return hostIP;
    case 'status.podIP':
      return podIP;
    default:
      throw new Error(`fieldRef "${fieldPath}" is not supported (metadata.name/namespace/uid/labels/annotations, spec.nodeName, spec.serviceAccountName, status.hostIP/podIP are)`);
  }
}

function formatMap(map: Record<string, string> | undefined): string {
  return Object.entries(map ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join('\n');
}
