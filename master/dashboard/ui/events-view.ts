/// <reference lib="dom" />
import type { Event as KubeEvent } from 'kubernetes-types/core/v1';
import { paths, useResource } from './feeds';
import { age } from './format';
import { html } from './html';
import { Badge, Section, Table, type Column } from './table';

const shown = 200;

/** The newest events first, warnings marked. */
export function EventsView(props: { namespace: string; now: number }) {
  const events = useResource<KubeEvent>(paths.events);
  const rows = events.items
    .filter((e) => !props.namespace || e.metadata?.namespace === props.namespace)
    .sort((a, b) => last(b) - last(a))
    .slice(0, shown);
  const columns: Column<KubeEvent>[] = [
    { label: 'Last seen', className: 'num', cell: (e) => age(new Date(last(e)).toISOString(), props.now) },
    { label: 'Type', cell: (e) => html`<${Badge} tone=${e.type === 'Warning' ? 'bad' : 'idle'} text=${e.type ?? 'Normal'} />` },
    { label: 'Reason', cell: (e) => html`<strong>${e.reason}</strong>` },
    { label: 'Object', cell: (e) => html`<span class="mono small">${e.involvedObject?.kind?.toLowerCase()}/${e.involvedObject?.name}</span>` },
    { label: 'Message', cell: (e) => e.message },
    { label: 'Count', className: 'num', cell: (e) => e.count ?? 1 },
  ];
  return html`
    <${Section} title="Events" count=${rows.length}>
      <${Table} testId="events" columns=${columns} rows=${rows} rowKey=${(e: KubeEvent) => `${e.metadata?.namespace}/${e.metadata?.name}`}
        loaded=${events.loaded} error=${events.error} empty="No events." />
    <//>
  `;
}

function last(e: KubeEvent): number {
  return Date.parse(e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp ?? '') || 0;
}
