/// <reference lib="dom" />
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { cpuMillis, parseQuantity } from '../../../kube/quantity';
import { paths, useResource } from './feeds';
import { age, formatCpu, formatMemory, percent, podRequests } from './format';
import { html } from './html';
import { Badge, Section, Table, type Column } from './table';

interface NodeRow {
  node: Node;
  pods: number;
  cpu: number;
  memory: number;
}

/** Nodes with their conditions, capacity and what the pods on them request. */
export function NodesView(props: { now: number }) {
  const nodes = useResource<Node>(paths.nodes);
  const pods = useResource<Pod>(paths.pods);
  const rows: NodeRow[] = nodes.items
    .map((node) => {
      const mine = pods.items.filter((p) => p.spec?.nodeName === node.metadata?.name && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
      const req = mine.map(podRequests);
      return { node, pods: mine.length, cpu: sum(req.map((r) => r.cpuMillis)), memory: sum(req.map((r) => r.memoryBytes)) };
    })
    .sort((a, b) => name(a.node).localeCompare(name(b.node)));
  const columns: Column<NodeRow>[] = [
    { label: 'Name', cell: (r) => html`<strong>${name(r.node)}</strong><div class="muted small">${internalIp(r.node) ?? ''}</div>` },
    { label: 'Status', cell: (r) => html`<${Conditions} node=${r.node} />` },
    { label: 'Capacity', cell: (r) => html`<span class="small">${capacity(r.node)}</span>` },
    { label: 'CPU requested', cell: (r) => html`<${Usage} used=${r.cpu} total=${quantity(() => cpuMillis(alloc(r.node, 'cpu')))} format=${formatCpu} />` },
    { label: 'Memory requested', cell: (r) => html`<${Usage} used=${r.memory} total=${quantity(() => parseQuantity(alloc(r.node, 'memory')))} format=${formatMemory} />` },
    { label: 'Pods', className: 'num', cell: (r) => `${r.pods} / ${alloc(r.node, 'pods') ?? '?'}` },
    { label: 'Version', cell: (r) => html`<span class="muted">${r.node.status?.nodeInfo?.kubeletVersion ?? ''}</span>` },
    { label: 'Age', className: 'num', cell: (r) => age(r.node.metadata?.creationTimestamp, props.now) },
  ];
  return html`
    <${Section} title="Nodes" count=${rows.length}>
      <${Table} testId="nodes" columns=${columns} rows=${rows} rowKey=${(r: NodeRow) => name(r.node)} loaded=${nodes.loaded} error=${nodes.error}
        empty="No nodes have joined yet. Start one with lotse up or lotse agent." />
    <//>
  `;
}

function Conditions(props: { node: Node }) {
  const conditions = props.node.status?.conditions ?? [];
  const ready = conditions.find((c) => c.type === 'Ready');
  const readyText = ready?.status === 'True' ? 'Ready' : ready?.status === 'False' ? 'NotReady' : 'Unknown';
  const problems = conditions.filter((c) => c.type !== 'Ready' && c.status === 'True');
  return html`
    <div class="badges">
      <${Badge} tone=${readyText === 'Ready' ? 'ok' : 'bad'} text=${readyText} />
      ${props.node.spec?.unschedulable && html`<${Badge} tone="warn" text="SchedulingDisabled" />`}
      ${problems.map((c) => html`<${Badge} tone="bad" text=${c.type} />`)}
    </div>
    ${ready?.status !== 'True' && ready?.message && html`<div class="muted small">${ready.message}</div>`}
  `;
}

function Usage(props: { used: number; total: number; format: (n: number) => string }) {
  const p = percent(props.used, props.total);
  return html`
    <div class="usage">
      <div class="bar"><div class=${`fill ${p > 90 ? 'bad' : p > 70 ? 'warn' : 'ok'}`} style=${{ width: `${p}%` }}></div></div>
      <span class="small">${props.format(props.used)} of ${props.format(props.total)} (${p}%)</span>
    </div>
  `;
}

function capacity(n: Node): string {
  const c = n.status?.capacity ?? {};
  const cpu = quantity(() => cpuMillis(c.cpu));
  const memory = quantity(() => parseQuantity(c.memory));
  return `${formatCpu(cpu)} CPU · ${formatMemory(memory)} · ${c.pods ?? '?'} pods`;
}

function name(n: Node): string {
  return n.metadata?.name ?? '';
}

function alloc(n: Node, resource: string): string | undefined {
  return n.status?.allocatable?.[resource] ?? n.status?.capacity?.[resource];
}

export function internalIp(n: Node): string | undefined {
  return n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
}

function quantity(f: () => number): number {
  try {
    return f();
  } catch {
    return 0;
  }
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
