import type { Event } from 'kubernetes-types/core/v1';
import type { KubeClient } from '../../kube/client';
import { EventRecorder } from '../../kube/event-recorder';

/** Records what the recorder sends instead of talking to an API server. */
function fakeClient(): { client: KubeClient; created: Event[]; patched: unknown[] } {
  const created: Event[] = [];
  const patched: unknown[] = [];
  const client = {
    create: async (_ref: unknown, body: Event) => {
      created.push(structuredClone(body));
      return body;
    },
    patch: async (_ref: unknown, _type: string, body: unknown) => {
      patched.push(body);
      return {};
    },
  } as unknown as KubeClient;
  return { client, created, patched };
}

const ref = (name: string) => ({ kind: 'Pod', apiVersion: 'v1', namespace: 'default', name, uid: `uid-${name}` });

describe('event recorder', () => {
  it('folds repeats that arrive before the first write into it', async () => {
    const { client, created, patched } = fakeClient();
    const r = new EventRecorder(client, { component: 'test', maxInFlight: 1 });
    r.record(ref('a'), 'Warning', 'BackOff', 'x');
    r.record(ref('b'), 'Normal', 'Pulled', 'y');
    r.record(ref('b'), 'Normal', 'Pulled', 'y');
    await r.flush();
    expect(created.map((e) => [e.involvedObject.name, e.count])).toEqual([['a', 1], ['b', 2]]);
    r.record(ref('a'), 'Warning', 'BackOff', 'x');
    await r.flush();
    expect(patched).toEqual([expect.objectContaining({ count: 2 })]);
  });

  it('spreads a storm of events out at the configured rate', async () => {
    const { client, created } = fakeClient();
    const r = new EventRecorder(client, { component: 'test', qps: 20, burst: 5 });
    const start = Date.now();
    for (let i = 0; i < 15; i++) r.record(ref(`p${i}`), 'Normal', 'Scheduled', 'ok');
    await r.flush();
    // 5 at once, then 10 more at 20/s: about half a second.
    expect(created).toHaveLength(15);
    expect(Date.now() - start).toBeGreaterThanOrEqual(400);
    r.stop();
  });
});
