import type Docker from 'dockerode';
import { LABEL } from '../../../agent/runtime/container-runtime';
import { ContainerList } from '../../../agent/runtime/container-list';

const NODE = 'node-a';

/** A podman engine of labelled containers whose full listing answers only when the test says so. */
class SlowListingEngine {
  readonly containers = new Map<string, { podUid: string; name: string }>();
  private held: (() => void)[] = [];
  private onHeld?: () => void;
  holdListings = false;

  docker(): Docker {
    const engine = this;
    return {
      version: async () => ({ Components: [{ Name: 'Podman Engine' }] }),
      modem: {
        dial(_opts: unknown, cb: (err: Error | null, data: unknown) => void) {
          // The answer is what the engine held when asked, however late it arrives.
          const snapshot = [...engine.containers].map(([id, c]) => engine.listed(id, c.podUid, c.name));
          if (!engine.holdListings) return cb(null, snapshot);
          engine.held.push(() => cb(null, snapshot));
          engine.onHeld?.();
        },
      },
      getContainer: (id: string) => ({
        inspect: async () => {
          const c = engine.containers.get(id);
          if (!c) throw Object.assign(new Error(`no such container: ${id}`), { statusCode: 404 });
          return {
            Id: id,
            Created: '2026-12-01T00:00:00Z',
            Image: 'sha256:abc',
            State: { Status: 'running', StartedAt: '2026-12-01T00:00:01Z', ExitCode: 0 },
            Config: { Image: 'busybox', Labels: engine.labels(c.podUid, c.name) },
          };
        },
      }),
    } as unknown as Docker;
  }

  /** Resolves once a full listing has reached the engine and waits for its answer. */
  listingHeld(): Promise<void> {
    return new Promise((resolve) => (this.onHeld = resolve));
  }

  answerListings(): void {
    for (const answer of this.held.splice(0)) answer();
  }

  private listed(id: string, podUid: string, name: string): object {
    return { Id: id, Names: [name], Image: 'busybox', ImageID: 'abc', Created: '2026-12-01T00:00:00Z', State: 'running', Labels: this.labels(podUid, name), StartedAt: 1, ExitedAt: 0 };
  }

  private labels(podUid: string, name: string): Record<string, string> {
    return { [LABEL.node]: NODE, [LABEL.podUid]: podUid, [LABEL.container]: name, [LABEL.attempt]: '0' };
  }
}

describe('ContainerList: one pod\'s containers between full listings', () => {
  it('keeps a container created while a full listing was on its way, so the pod\'s next sync sees it', async () => {
    const engine = new SlowListingEngine();
    const list = new ContainerList(engine.docker(), NODE);
    engine.containers.set('sandbox-1', { podUid: 'pod-1', name: 'POD' });
    list.remember('pod-1', 'sandbox-1');
    await list.list();

    engine.holdListings = true;
    const held = engine.listingHeld();
    const relist = list.list();
    await held;
    // The agent creates the pod's container after the engine took the listing, before it answered.
    engine.containers.set('web-1', { podUid: 'pod-1', name: 'web' });
    list.remember('pod-1', 'web-1');
    engine.answerListings();
    expect((await relist).map((c) => c.id)).toEqual(['sandbox-1']);

    expect((await list.list('pod-1')).map((c) => c.id).sort()).toEqual(['sandbox-1', 'web-1']);
  });

  it('drops a removed container from the pod\'s listing once a later full listing no longer has it', async () => {
    const engine = new SlowListingEngine();
    const list = new ContainerList(engine.docker(), NODE);
    engine.containers.set('web-1', { podUid: 'pod-1', name: 'web' });
    list.remember('pod-1', 'web-1');
    await list.list();
    engine.containers.delete('web-1');
    await list.list();
    expect(await list.list('pod-1')).toEqual([]);
  });
});
