import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import type { Node, Service } from 'kubernetes-types/core/v1';
import YAML from 'yaml';
import { ApiError } from '../../kube/api-error';
import { KubeClient } from '../../kube/client';
import type { KubeList } from '../../kube/object';
import { core } from '../../kube/resource-path';

export interface ServiceUrl {
  portName: string;
  port: number;
  url: string;
}

interface Kubeconfig {
  'current-context'?: string;
  contexts?: { name: string; context?: { cluster?: string; user?: string; namespace?: string } }[];
  clusters?: { name: string; cluster?: { server?: string; 'certificate-authority-data'?: string; 'certificate-authority'?: string } }[];
  users?: { name: string; user?: { token?: string; tokenFile?: string } }[];
}

export function registerService(program: Command): void {
  program
    .command('service <name>')
    .description("Print the NodePort URL of each port of a service (http://NODE_IP:NODEPORT), from the kubeconfig's current context")
    .option('-n, --namespace <ns>', 'namespace of the service (default: the context namespace, else default)')
    .option('--url', 'print only the URLs, one per line')
    .action(async (name: string, flags: { namespace?: string; url?: boolean }) => {
      const { client, namespace: contextNs } = clientFromKubeconfig(process.env);
      try {
        const namespace = flags.namespace ?? contextNs ?? 'default';
        const urls = await serviceUrls(client, name, namespace);
        if (flags.url) process.stdout.write(urls.map((u) => `${u.url}\n`).join(''));
        else process.stdout.write(urls.map((u) => `${namespace}/${name} ${u.portName || u.port} ${u.url}\n`).join(''));
      } finally {
        client.close();
      }
    });
}

/**
 * The URLs under which a NodePort service answers from outside: every node listens on the port,
 * so one node address (ExternalIP over InternalIP, Ready nodes first) is enough.
 */
export async function serviceUrls(client: KubeClient, name: string, namespace: string): Promise<ServiceUrl[]> {
  let svc: Service;
  try {
    svc = await client.get<Service>(core('services', namespace, name));
  } catch (err) {
    if (ApiError.isNotFound(err)) throw new Error(`service "${name}" not found in namespace "${namespace}": list them with kubectl get svc -n ${namespace}`);
    throw err;
  }
  const ports = (svc.spec?.ports ?? []).filter((p) => p.nodePort);
  if (ports.length === 0) {
    throw new Error(
      `service "${name}" is of type ${svc.spec?.type ?? 'ClusterIP'} and has no NodePort: expose it with kubectl patch svc ${name} -n ${namespace} -p '{"spec":{"type":"NodePort"}}'`,
    );
  }
  const nodes = await client.list<Node>(core('nodes'));
  const address = nodeAddress(nodes);
  if (!address) throw new Error('no node reports an address: check kubectl get nodes -o wide, and that an agent has joined');
  return ports.map((p) => ({ portName: p.name ?? '', port: p.port, url: `http://${address}:${p.nodePort}` }));
}

function nodeAddress(nodes: KubeList<Node>): string | undefined {
  const ready = (n: Node): boolean => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  const sorted = [...nodes.items].sort((a, b) => Number(ready(b)) - Number(ready(a)));
  for (const type of ['ExternalIP', 'InternalIP']) {
    for (const node of sorted) {
      const addr = node.status?.addresses?.find((a) => a.type === type)?.address;
      if (addr) return addr;
    }
  }
  return undefined;
}

/** A client for the current context of $KUBECONFIG (its files in order) or ~/.kube/config. */
export function clientFromKubeconfig(env: NodeJS.ProcessEnv): { client: KubeClient; namespace?: string } {
  const files = (env.KUBECONFIG ?? '').split(path.delimiter).filter(Boolean);
  if (files.length === 0) files.push(path.join(env.HOME ?? os.homedir(), '.kube', 'config'));
  const configs = files.filter((f) => fs.existsSync(f)).map((f) => ({ file: f, config: (YAML.parse(fs.readFileSync(f, 'utf8')) ?? {}) as Kubeconfig }));
  if (configs.length === 0) throw new Error(`no kubeconfig at ${files.join(', ')}: run lotse up or lotse kubeconfig, or set KUBECONFIG`);
  const current = configs.map((c) => c.config['current-context']).find(Boolean);
  if (!current) throw new Error(`${files.join(', ')} sets no current-context: pick one with kubectl config use-context NAME`);
  const find = <T extends { name: string }>(pick: (c: Kubeconfig) => T[] | undefined, n?: string): { item?: T; file: string } => {
    for (const c of configs) {
      const item = pick(c.config)?.find((x) => x.name === n);
      if (item) return { item, file: c.file };
    }
    return { file: configs[0].file };
  };
  const context = find((c) => c.contexts, current).item?.context;
  if (!context) throw new Error(`context "${current}" is not defined in ${files.join(', ')}: fix current-context with kubectl config use-context`);
  const { item: cluster, file: clusterFile } = find((c) => c.clusters, context.cluster);
  const user = find((c) => c.users, context.user).item?.user;
  if (!cluster?.cluster?.server) throw new Error(`cluster "${context.cluster}" of context "${current}" has no server in the kubeconfig`);
  const token = user?.token ?? (user?.tokenFile ? fs.readFileSync(user.tokenFile, 'utf8').trim() : undefined);
  if (!token) throw new Error(`user "${context.user}" of context "${current}" has no bearer token; lotse service needs token auth (lotse kubeconfig writes one)`);
  const caData = cluster.cluster['certificate-authority-data'];
  const caFile = cluster.cluster['certificate-authority'];
  const ca = caData ? Buffer.from(caData, 'base64') : caFile ? fs.readFileSync(path.resolve(path.dirname(clusterFile), caFile)) : undefined;
  if (!ca) throw new Error(`cluster "${context.cluster}" has no certificate-authority(-data) in the kubeconfig; lotse only talks to clusters over verified TLS`);
  return { client: new KubeClient({ server: cluster.cluster.server, ca, token, timeoutMs: 10_000 }), namespace: context.namespace };
}
