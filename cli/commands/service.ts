import type { Command } from 'commander';
import type { Node, Service } from 'kubernetes-types/core/v1';
import { ApiError } from '../../kube/api-error';
import { KubeClient } from '../../kube/client';
import { currentContext } from '../../kube/kubeconfig-file';
import type { KubeList } from '../../kube/object';
import { core } from '../../kube/resource-path';

export interface ServiceUrl {
  portName: string;
  port: number;
  url: string;
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
  const ctx = currentContext(env);
  if (!ctx.token) throw new Error(`user "${ctx.user}" of context "${ctx.name}" has no bearer token; lotse service needs token auth (lotse kubeconfig writes one)`);
  if (!ctx.ca) throw new Error(`cluster "${ctx.cluster}" has no certificate-authority(-data) in the kubeconfig; lotse only talks to clusters over verified TLS`);
  return { client: new KubeClient({ server: ctx.server, ca: ctx.ca, token: ctx.token, timeoutMs: 10_000 }), namespace: ctx.namespace };
}
