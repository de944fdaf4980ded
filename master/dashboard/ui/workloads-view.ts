/// <reference lib="dom" />
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1';
import type { Pod } from 'kubernetes-types/core/v1';
import { useState } from 'preact/hooks';
import { actions } from './actions';
import { paths, useFeeds, useResource } from './feeds';
import { age, podProblem, podStatus, readyContainers, restarts, rolloutState, tone } from './format';
import { html } from './html';
import { useNotify } from './notices';
import { Badge, Section, Table, type Column } from './table';

interface Named {
  metadata?: { name?: string; namespace?: string; creationTimestamp?: string };
}

/** Deployments, their replica sets and pods, with the actions a user needs most. */
export function WorkloadsView(props: { namespace: string; now: number; onLogs: (pod: Pod) => void }) {
  const deployments = useResource<Deployment>(paths.deployments);
  const replicaSets = useResource<ReplicaSet>(paths.replicasets);
  const pods = useResource<Pod>(paths.pods);
  const inNs = <T extends Named>(xs: T[]): T[] => sortByName(xs.filter((x) => !props.namespace || x.metadata?.namespace === props.namespace));
  const dep = inNs(deployments.items);
  const rs = inNs(replicaSets.items).filter((r) => (r.spec?.replicas ?? 0) > 0 || (r.status?.replicas ?? 0) > 0);
  const ps = inNs(pods.items);

  const depColumns: Column<Deployment>[] = [
    { label: 'Name', cell: (d) => html`<strong>${d.metadata?.name}</strong><div class="muted small">${d.metadata?.namespace}</div>` },
    { label: 'Ready', className: 'num', cell: (d) => html`<span data-testid="ready">${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}</span>` },
    { label: 'Rollout', cell: (d) => html`<${Badge} tone=${tone(rolloutState(d))} text=${rolloutState(d)} />` },
    { label: 'Images', cell: (d) => html`<span class="muted small mono">${(d.spec?.template?.spec?.containers ?? []).map((c) => c.image).join(', ')}</span>` },
    { label: 'Age', className: 'num', cell: (d) => age(d.metadata?.creationTimestamp, props.now) },
    { label: 'Actions', cell: (d) => html`<${DeploymentActions} deployment=${d} />` },
  ];
  const rsColumns: Column<ReplicaSet>[] = [
    { label: 'Name', cell: (r) => html`<strong>${r.metadata?.name}</strong><div class="muted small">${r.metadata?.namespace}</div>` },
    { label: 'Owner', cell: (r) => r.metadata?.ownerReferences?.find((o) => o.controller)?.name ?? '—' },
    { label: 'Desired', className: 'num', cell: (r) => r.spec?.replicas ?? 0 },
    { label: 'Current', className: 'num', cell: (r) => r.status?.replicas ?? 0 },
    { label: 'Ready', className: 'num', cell: (r) => r.status?.readyReplicas ?? 0 },
    { label: 'Age', className: 'num', cell: (r) => age(r.metadata?.creationTimestamp, props.now) },
  ];
  const podColumns: Column<Pod>[] = [
    { label: 'Name', cell: (p) => html`<strong class="mono">${p.metadata?.name}</strong><div class="muted small">${p.metadata?.namespace}</div>` },
    { label: 'Status', cell: (p) => html`<${Badge} tone=${tone(podStatus(p))} text=${podStatus(p)} />${podProblem(p) && html`<div class="muted small clip" title=${podProblem(p)}>${podProblem(p)}</div>`}` },
    { label: 'Ready', className: 'num', cell: (p) => readyContainers(p) },
    { label: 'Restarts', className: 'num', cell: (p) => restarts(p) },
    { label: 'Node', cell: (p) => p.spec?.nodeName ?? html`<span class="muted">unscheduled</span>` },
    { label: 'IP', cell: (p) => html`<span class="mono small">${p.status?.podIP ?? ''}</span>` },
    { label: 'Age', className: 'num', cell: (p) => age(p.metadata?.creationTimestamp, props.now) },
    { label: 'Actions', cell: (p) => html`<${PodActions} pod=${p} onLogs=${props.onLogs} />` },
  ];
  return html`
    <${Section} title="Deployments" count=${dep.length}>
      <${Table} testId="deployments" columns=${depColumns} rows=${dep} rowKey=${key} loaded=${deployments.loaded} error=${deployments.error}
        empty="No deployments. Try: kubectl create deployment hello --image=IMAGE" />
    <//>
    <${Section} title="Pods" count=${ps.length}>
      <${Table} testId="pods" columns=${podColumns} rows=${ps} rowKey=${key} loaded=${pods.loaded} error=${pods.error} empty="No pods." />
    <//>
    <${Section} title="Replica sets" count=${rs.length}>
      <${Table} testId="replicasets" columns=${rsColumns} rows=${rs} rowKey=${key} loaded=${replicaSets.loaded} error=${replicaSets.error} empty="No active replica sets." />
    <//>
  `;
}

function DeploymentActions(props: { deployment: Deployment }) {
  const { api } = useFeeds();
  const notify = useNotify();
  const ns = props.deployment.metadata?.namespace ?? 'default';
  const name = props.deployment.metadata?.name ?? '';
  const [replicas, setReplicas] = useState<string | undefined>(undefined);
  const shown = replicas ?? String(props.deployment.spec?.replicas ?? 1);

  const scale = async (e: Event): Promise<void> => {
    e.preventDefault();
    const n = Number(shown);
    if (!Number.isInteger(n) || n < 0) return notify('error', `Replicas must be a whole number of 0 or more, not "${shown}".`);
    try {
      await actions.scale(api, ns, name, n);
      setReplicas(undefined);
      notify('ok', `Scaled ${ns}/${name} to ${n}.`);
    } catch (err) {
      notify('error', `Scaling ${ns}/${name} failed: ${(err as Error).message}`);
    }
  };
  const restart = async (): Promise<void> => {
    try {
      await actions.restart(api, ns, name);
      notify('ok', `Restarting ${ns}/${name}: new pods replace the old ones.`);
    } catch (err) {
      notify('error', `Restarting ${ns}/${name} failed: ${(err as Error).message}`);
    }
  };
  return html`
    <form class="actions" onSubmit=${scale}>
      <input class="replicas" type="number" min="0" step="1" aria-label=${`replicas of ${name}`} value=${shown}
        onInput=${(e: Event) => setReplicas((e.target as HTMLInputElement).value)} />
      <button type="submit">Scale</button>
      <button type="button" onClick=${restart}>Restart</button>
    </form>
  `;
}

function PodActions(props: { pod: Pod; onLogs: (pod: Pod) => void }) {
  const { api } = useFeeds();
  const notify = useNotify();
  const [confirming, setConfirming] = useState(false);
  const ns = props.pod.metadata?.namespace ?? 'default';
  const name = props.pod.metadata?.name ?? '';
  const remove = async (): Promise<void> => {
    setConfirming(false);
    try {
      await actions.deletePod(api, ns, name);
      notify('ok', `Deleting pod ${ns}/${name}.`);
    } catch (err) {
      notify('error', `Deleting pod ${ns}/${name} failed: ${(err as Error).message}`);
    }
  };
  return html`
    <div class="actions">
      <button type="button" onClick=${() => props.onLogs(props.pod)}>Logs</button>
      ${confirming
        ? html`<button type="button" class="danger" onClick=${remove}>Confirm delete</button><button type="button" onClick=${() => setConfirming(false)}>Cancel</button>`
        : html`<button type="button" onClick=${() => setConfirming(true)}>Delete</button>`}
    </div>
  `;
}

function key(o: Named): string {
  return `${o.metadata?.namespace}/${o.metadata?.name}`;
}

function sortByName<T extends Named>(xs: T[]): T[] {
  return [...xs].sort((a, b) => key(a).localeCompare(key(b)));
}
