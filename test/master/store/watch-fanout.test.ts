import type { StoreEvent, WatchTrigger } from '../../../master/store/store';
import { WatchFanout } from '../../../master/store/watch-fanout';

let revision = 0;
const event = (type: StoreEvent['type'], key: string, nodeName?: string): StoreEvent => ({ type, key, value: { spec: nodeName === undefined ? {} : { nodeName } }, revision: ++revision });

/** Registers a watcher and returns the revisions it receives. */
function watcher(fanout: WatchFanout, trigger?: WatchTrigger, from = 0, backlog: StoreEvent[] = []): number[] {
  const got: number[] = [];
  fanout.add('/pods/', from, backlog, { onEvent: (e) => void got.push(e.revision), onError: (err) => { throw err; } }, trigger);
  return got;
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('WatchFanout triggers', () => {
  test('a pod event reaches the watchers of its node, of every key it leaves, and the untriggered ones only', async () => {
    const fanout = new WatchFanout();
    const nodes = Array.from({ length: 100 }, (_, i) => watcher(fanout, { field: 'spec.nodeName', value: `n${i}` }));
    const unscheduled = watcher(fanout, { field: 'spec.nodeName', value: '' });
    const all = watcher(fanout);
    const created = event('ADDED', '/pods/a');
    const bound = event('MODIFIED', '/pods/a', 'n7');
    const running = event('MODIFIED', '/pods/a', 'n7');
    const moved = event('MODIFIED', '/pods/a', 'n9');
    const gone = event('DELETED', '/pods/a', 'n9');
    const elsewhere = event('ADDED', '/podsX/b', 'n7');
    fanout.publish([created, bound, running, moved, gone, elsewhere]);
    await settle();
    expect(all).toEqual([created, bound, running, moved, gone].map((e) => e.revision));
    expect(unscheduled).toEqual([created.revision, bound.revision]);
    expect(nodes[7]).toEqual([bound.revision, running.revision, moved.revision]);
    expect(nodes[9]).toEqual([moved.revision, gone.revision]);
    expect(nodes.filter((got, i) => i !== 7 && i !== 9 && got.length > 0)).toEqual([]);
  });

  test('keys given as held, and keys from the backlog, are followed when they leave the value', async () => {
    const fanout = new WatchFanout();
    const listed = watcher(fanout, { field: 'spec.nodeName', value: 'n1', held: ['/pods/listed'] }, revision);
    const early = event('ADDED', '/pods/early', 'n2');
    const fromBacklog = watcher(fanout, { field: 'spec.nodeName', value: 'n2' }, early.revision - 1, [early]);
    const listedMoves = event('MODIFIED', '/pods/listed', 'n3');
    const earlyGoes = event('DELETED', '/pods/early', 'n2');
    fanout.publish([listedMoves, earlyGoes]);
    await settle();
    expect(listed).toEqual([listedMoves.revision]);
    expect(fromBacklog).toEqual([early.revision, earlyGoes.revision]);
  });

  test('a stopped triggered watcher is forgotten everywhere', async () => {
    const fanout = new WatchFanout();
    const got: number[] = [];
    const watch = fanout.add('/pods/', 0, [], { onEvent: (e) => void got.push(e.revision), onError: () => undefined }, { field: 'spec.nodeName', value: 'n1' });
    fanout.publish([event('ADDED', '/pods/a', 'n1')]);
    await settle();
    watch.stop();
    fanout.publish([event('MODIFIED', '/pods/a', 'n2'), event('ADDED', '/pods/b', 'n1')]);
    await settle();
    expect(got).toHaveLength(1);
    expect(fanout.size).toBe(0);
  });

  test('catchUp delivers one watcher its queue in order, out of turn, and its handler still cannot throw silently', async () => {
    const fanout = new WatchFanout();
    const got: number[] = [];
    const errors: Error[] = [];
    const handlers = { onEvent: (e: StoreEvent) => void got.push(e.revision), onError: (err: Error) => void errors.push(err) };
    const watch = fanout.add('/pods/', 0, [], handlers);
    const late = watcher(fanout);
    const events = [event('ADDED', '/pods/a'), event('MODIFIED', '/pods/a'), event('ADDED', '/podsX/b')];
    fanout.publish(events);
    watch.catchUp();
    expect(got).toEqual([events[0].revision, events[1].revision]);
    expect(late).toEqual([]);
    await settle();
    expect(got).toEqual([events[0].revision, events[1].revision]);
    expect(late).toEqual([events[0].revision, events[1].revision]);

    const throwing = fanout.add('/pods/', 0, [], { onEvent: () => { throw new Error('boom'); }, onError: (err) => void errors.push(err) });
    fanout.publish([event('MODIFIED', '/pods/a')]);
    throwing.catchUp();
    expect(errors.map((err) => err.message)).toEqual([expect.stringMatching(/threw at revision \d+: Error: boom/)]);
    expect(fanout.size).toBe(2);
  });
});
