import type Docker from 'dockerode';
import { RuntimeError, SANDBOX_NAME, type SandboxSpec } from './container-runtime';
import type { ContainerList } from './container-list';
import { containerName, type EngineContainers } from './containers';
import { engineMessage } from './engine-message';
import type { EngineImages } from './images';
import { PAUSE_COMMAND } from './pause-image';
import { traced } from '../start-trace';

/** Pod sandboxes: a pause container holding the pod's network, hostname, ports and DNS. */
export class EngineSandboxes {
  constructor(
    private readonly docker: Docker,
    private readonly images: EngineImages,
    private readonly containers: EngineContainers,
    private readonly list: ContainerList,
  ) {}

  async create(spec: SandboxSpec): Promise<{ id: string; ip: string }> {
    const uid = spec.pod.uid;
    await traced(uid, 'sandbox.pause-image', () => this.images.ensurePause());
    const exposed: Record<string, object> = {};
    const bindings: Record<string, Array<{ HostPort: string; HostIp?: string }>> = {};
    for (const p of spec.ports) {
      const key = `${p.containerPort}/${p.protocol.toLowerCase()}`;
      exposed[key] = {};
      if (p.hostPort) (bindings[key] ??= []).push({ HostPort: String(p.hostPort), ...(p.hostIP ? { HostIp: p.hostIP } : {}) });
    }
    const name = containerName(spec.pod, SANDBOX_NAME, spec.attempt ?? 0);
    let container: Docker.Container;
    try {
      container = await this.containers.createNamed(name, () => traced(uid, 'sandbox.create', () => this.docker.createContainer({
        name,
        Image: this.images.pauseImage,
        Entrypoint: PAUSE_COMMAND,
        Cmd: [],
        Hostname: spec.hostNetwork ? undefined : spec.hostname.slice(0, 63),
        Labels: this.containers.labels(spec.pod, SANDBOX_NAME, 'sandbox', spec.attempt ?? 0, ''),
        ExposedPorts: exposed,
        HostConfig: {
          NetworkMode: spec.hostNetwork ? 'host' : spec.network ?? 'bridge',
          PortBindings: bindings,
          Binds: (spec.volumes ?? []).map((v) => `${v}:/lotse-volumes/${v}`),
          Dns: spec.dnsServers,
          DnsSearch: spec.dnsSearches,
          DnsOptions: spec.dnsOptions,
          Ulimits: this.containers.ulimits,
          RestartPolicy: { Name: 'no' },
          // The pod's containers join its IPC namespace; docker keeps a container's private unless
          // it is made shareable (podman accepts the same), as found on the Flatcar rehearsal.
          IpcMode: 'shareable',
        },
      })));
    } catch (err) {
      throw new RuntimeError('CreatePodSandboxError', `creating the pod sandbox failed: ${engineMessage(err)}`);
    }
    try {
      await traced(uid, 'sandbox.start', () => container.start());
    } catch (err) {
      const msg = engineMessage(err);
      await container.remove({ force: true }).catch(() => undefined);
      const port = /address already in use|port is already allocated|bind/i.test(msg)
        ? ` (a hostPort of this pod, ${spec.ports.filter((p) => p.hostPort).map((p) => p.hostPort).join(', ')}, is already in use on this node)`
        : '';
      throw new RuntimeError('CreatePodSandboxError', `starting the pod sandbox failed${port}: ${msg}`);
    }
    this.list.remember(spec.pod.uid, container.id);
    return { id: container.id, ip: spec.hostNetwork ? '' : await traced(uid, 'sandbox.ip', () => this.ip(container.id)) };
  }

  async ip(id: string): Promise<string> {
    const info = await this.docker.getContainer(id).inspect();
    const ns = info.NetworkSettings;
    if (ns.IPAddress) return ns.IPAddress;
    for (const net of Object.values(ns.Networks ?? {})) if (net.IPAddress) return net.IPAddress;
    return '';
  }
}
