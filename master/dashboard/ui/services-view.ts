/// <reference lib="dom" />
import type { Endpoints, Node, Service } from 'kubernetes-types/core/v1';
import { paths, useResource } from './feeds';
import { age } from './format';
import { html } from './html';
import { internalIp } from './nodes-view';
import { Badge, Section, Table, type Column } from './table';

/** Services with their ports, ready endpoints and, for NodePorts, a link per node. */
export function ServicesView(props: { namespace: string; now: number }) {
  const services = useResource<Service>(paths.services);
  const endpoints = useResource<Endpoints>(paths.endpoints);
  const nodes = useResource<Node>(paths.nodes);
  const nodeIps = nodes.items.map(internalIp).filter((ip): ip is string => !!ip);
  const rows = services.items
    .filter((s) => !props.namespace || s.metadata?.namespace === props.namespace)
    .sort((a, b) => `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`));
  const endpointsOf = (s: Service): Endpoints | undefined => endpoints.items.find((e) => e.metadata?.namespace === s.metadata?.namespace && e.metadata?.name === s.metadata?.name);
  const columns: Column<Service>[] = [
    { label: 'Name', cell: (s) => html`<strong>${s.metadata?.name}</strong><div class="muted small">${s.metadata?.namespace}</div>` },
    { label: 'Type', cell: (s) => html`<${Badge} tone="idle" text=${s.spec?.type ?? 'ClusterIP'} />` },
    { label: 'Cluster IP', cell: (s) => html`<span class="mono">${s.spec?.clusterIP ?? ''}</span>` },
    { label: 'Ports', cell: (s) => html`<span class="mono small">${(s.spec?.ports ?? []).map(portText).join(', ')}</span>` },
    { label: 'Endpoints', cell: (s) => html`<${EndpointList} endpoints=${endpointsOf(s)} />` },
    { label: 'Open', cell: (s) => html`<${NodePortLinks} service=${s} nodeIps=${nodeIps} />` },
    { label: 'Age', className: 'num', cell: (s) => age(s.metadata?.creationTimestamp, props.now) },
  ];
  return html`
    <${Section} title="Services" count=${rows.length}>
      <${Table} testId="services" columns=${columns} rows=${rows} rowKey=${(s: Service) => `${s.metadata?.namespace}/${s.metadata?.name}`}
        loaded=${services.loaded} error=${services.error} empty="No services. Try: kubectl expose deployment hello --type=NodePort --port=8080" />
    <//>
  `;
}

function portText(p: NonNullable<Service['spec']>['ports'] extends (infer P)[] | undefined ? P : never): string {
  const node = p.nodePort ? `:${p.nodePort}` : '';
  const target = p.targetPort !== undefined && String(p.targetPort) !== String(p.port) ? ` → ${p.targetPort}` : '';
  return `${p.port}${node}/${p.protocol ?? 'TCP'}${target}`;
}

function EndpointList(props: { endpoints?: Endpoints }) {
  const ready: string[] = [];
  let notReady = 0;
  for (const subset of props.endpoints?.subsets ?? []) {
    const port = subset.ports?.[0]?.port;
    for (const a of subset.addresses ?? []) ready.push(port ? `${a.ip}:${port}` : a.ip);
    notReady += subset.notReadyAddresses?.length ?? 0;
  }
  if (!ready.length && !notReady) return html`<span class="muted">none</span>`;
  return html`
    <span class="mono small">${ready.slice(0, 4).join(', ')}${ready.length > 4 ? ` +${ready.length - 4} more` : ''}</span>
    ${notReady > 0 && html` <${Badge} tone="warn" text=${`${notReady} not ready`} />`}
  `;
}

function NodePortLinks(props: { service: Service; nodeIps: string[] }) {
  const ports = (props.service.spec?.ports ?? []).filter((p) => p.nodePort);
  if (!ports.length || !props.nodeIps.length) return html`<span class="muted">—</span>`;
  return html`
    <div class="links">
      ${ports.flatMap((p) =>
        props.nodeIps.map((ip) => {
          const url = `http://${ip.includes(':') ? `[${ip}]` : ip}:${p.nodePort}`;
          return html`<a class="nodeport" href=${url} target="_blank" rel="noopener noreferrer">${url}</a>`;
        }),
      )}
    </div>
  `;
}
