import type Docker from 'dockerode';
import { LABEL, type ContainerKind, type ContainerStateName, type RuntimeContainer } from './container-runtime';
import { isGone } from './engine-message';

/** The fields of podman's /libpod/containers/json the agent reads. */
interface LibpodContainer {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Created: string;
  State: string;
  Labels: Record<string, string> | null;
  ExitCode?: number;
  StartedAt: number;
  ExitedAt: number;
}

interface InspectCache {
  state: string;
  exitCode?: number;
  reason?: string;
  startedAt?: Date;
  finishedAt?: Date;
}

/**
 * What the engine runs for this node, as RuntimeContainers: a full listing now and then, and
 * between them one pod's containers by the ids remembered from that listing and from creation.
 */
export class ContainerList {
  private readonly inspected = new Map<string, InspectCache>();
  private podman?: Promise<boolean>;
  /** Container ids per pod uid, from the last full listing plus what this agent created since. */
  private readonly byPod = new Map<string, Set<string>>();
  private indexed = false;
  /**
   * Containers created while a full listing may be in flight, with the count of creations at
   * their own: the engine may have answered that listing before they existed, and rebuilding the
   * index from it alone would lose them, so the pod's next sync saw no container and started
   * another (a StatefulSet's volume held two starts of one pod).
   */
  private readonly created = new Map<string, { podUid: string; seq: number }>();
  private seq = 0;

  constructor(
    private readonly docker: Docker,
    private readonly nodeName: string,
  ) {}

  async list(podUid?: string): Promise<RuntimeContainer[]> {
    if (podUid && this.indexed) return this.inspectPod(podUid);
    const label = [`${LABEL.node}=${this.nodeName}`, ...(podUid ? [`${LABEL.podUid}=${podUid}`] : [])];
    const asked = this.seq;
    const list = (await this.isPodman()) ? await this.listLibpod(label) : await this.docker.listContainers({ all: true, filters: { label } });
    if (!podUid) {
      const live = new Set(list.map((c) => c.Id));
      for (const id of this.inspected.keys()) if (!live.has(id)) this.inspected.delete(id);
      this.byPod.clear();
      for (const c of list) this.index(c.Labels?.[LABEL.podUid] ?? '', c.Id);
      for (const [id, c] of this.created) {
        if (c.seq > asked) this.index(c.podUid, id);
        else this.created.delete(id);
      }
      this.indexed = true;
    }
    return Promise.all(list.map((c) => this.describe(c)));
  }

  /** A container this agent created: found by the next pod listing without a full one. */
  remember(podUid: string, id: string): void {
    this.created.set(id, { podUid, seq: ++this.seq });
    this.index(podUid, id);
  }

  private index(podUid: string, id: string): void {
    let ids = this.byPod.get(podUid);
    if (!ids) this.byPod.set(podUid, (ids = new Set()));
    ids.add(id);
  }

  /** A removed container: its cached inspection goes with it. */
  forget(id: string): void {
    this.inspected.delete(id);
    this.created.delete(id);
  }

  /**
   * One pod's containers by inspecting the ids we know (from the last full listing and from what
   * we created since): an engine lists under locks that every container start also takes, so a
   * busy node answers listings slowly, while an inspect waits only for that one container.
   */
  private async inspectPod(podUid: string): Promise<RuntimeContainer[]> {
    const ids = [...(this.byPod.get(podUid) ?? [])];
    const found = await Promise.all(
      ids.map(async (id) => {
        try {
          return await this.docker.getContainer(id).inspect();
        } catch (err) {
          if (isGone(err)) this.byPod.get(podUid)?.delete(id);
          else throw err;
          return undefined;
        }
      }),
    );
    return found.filter((i): i is Docker.ContainerInspectInfo => !!i).map((info) => {
      const state = normaliseState(info.State.Status);
      const exited = state === 'exited';
      const labels = info.Config.Labels ?? {};
      return {
        id: info.Id,
        ...fromLabels(labels),
        state,
        exitCode: exited ? info.State.ExitCode : undefined,
        reason: exited ? (info.State.OOMKilled ? 'OOMKilled' : info.State.ExitCode === 0 ? 'Completed' : 'Error') : undefined,
        createdAt: new Date(info.Created),
        startedAt: validDate(info.State.StartedAt),
        finishedAt: exited ? validDate(info.State.FinishedAt) : undefined,
        image: info.Config.Image,
        imageId: info.Image.startsWith('sha256:') ? info.Image : `sha256:${info.Image}`,
      };
    });
  }

  /** Podman only: fast and still Docker-shaped listing through podman's own API. */
  private isPodman(): Promise<boolean> {
    this.podman ??= this.docker.version().then(
      (v) => (v.Components ?? []).some((c) => /podman/i.test(c.Name)),
      () => {
        this.podman = undefined; // ask again next time
        return false;
      },
    );
    return this.podman;
  }

  /**
   * Podman's compat listing computes Docker fields it does not keep (ports, sizes) and is ~10x
   * slower than its own, which also carries exit code and times, so no inspect is needed.
   */
  private async listLibpod(label: string[]): Promise<Docker.ContainerInfo[]> {
    const raw = await new Promise<LibpodContainer[]>((resolve, reject) =>
      this.docker.modem.dial(
        { path: '/v4.0.0/libpod/containers/json?', method: 'GET', options: { all: true, filters: { label } }, statusCodes: { 200: true, 500: 'server error' } },
        (err: Error | null, data: unknown) => (err ? reject(err) : resolve(data as LibpodContainer[])),
      ),
    );
    return (raw ?? []).map((c) => {
      const state = normaliseState(c.State);
      if (state !== 'exited' || c.ExitCode === undefined) {
        this.inspected.set(c.Id, { state, startedAt: c.StartedAt > 0 ? new Date(c.StartedAt * 1000) : undefined });
      }
      return {
        Id: c.Id,
        Names: c.Names,
        Image: c.Image,
        ImageID: c.ImageID.startsWith('sha256:') ? c.ImageID : `sha256:${c.ImageID}`,
        Created: Math.floor(Date.parse(c.Created) / 1000),
        State: c.State,
        Labels: c.Labels ?? {},
      } as unknown as Docker.ContainerInfo;
    });
  }

  private async describe(c: Docker.ContainerInfo): Promise<RuntimeContainer> {
    const labels = c.Labels ?? {};
    const state = normaliseState(c.State);
    let details = this.inspected.get(c.Id);
    if (!details || details.state !== state) {
      details = await this.inspect(c.Id, state);
      this.inspected.set(c.Id, details);
    }
    return {
      id: c.Id,
      ...fromLabels(labels),
      state,
      exitCode: details.exitCode,
      reason: details.reason,
      createdAt: new Date(c.Created * 1000),
      startedAt: details.startedAt,
      finishedAt: details.finishedAt,
      image: c.Image,
      imageId: c.ImageID,
    };
  }

  private async inspect(id: string, state: ContainerStateName): Promise<InspectCache> {
    try {
      const info = await this.docker.getContainer(id).inspect();
      const s = info.State;
      const exited = state === 'exited';
      return {
        state,
        exitCode: exited ? s.ExitCode : undefined,
        reason: exited ? (s.OOMKilled ? 'OOMKilled' : s.ExitCode === 0 ? 'Completed' : 'Error') : undefined,
        startedAt: validDate(s.StartedAt),
        finishedAt: exited ? validDate(s.FinishedAt) : undefined,
      };
    } catch {
      return { state };
    }
  }
}

function normaliseState(state: string): ContainerStateName {
  const s = state.toLowerCase();
  if (s === 'running' || s === 'paused') return 'running';
  if (s === 'exited' || s === 'dead' || s === 'stopped') return 'exited';
  if (s === 'created' || s === 'configured' || s === 'initialized') return 'created';
  return 'unknown';
}

function validDate(s: string | undefined): Date | undefined {
  if (!s || s.startsWith('0001-')) return undefined;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** What the labels the agent puts on every container say about it (pod, container, attempt). */
function fromLabels(labels: Record<string, string>): Pick<RuntimeContainer, 'pod' | 'name' | 'kind' | 'attempt' | 'specHash'> {
  return {
    pod: { uid: labels[LABEL.podUid], name: labels[LABEL.podName], namespace: labels[LABEL.namespace] },
    name: labels[LABEL.container],
    kind: (labels[LABEL.kind] as ContainerKind) ?? 'app',
    attempt: Number(labels[LABEL.attempt] ?? 0),
    specHash: labels[LABEL.specHash] ?? '',
  };
}
