import { WatchManager } from 'etcd3/lib/watch';
import { guardEtcdWatchStreams, unknownWatchResponses } from '../../../master/store/etcd-watch-guard';

type Internals = { handleResponse(res: { watch_id: string; canceled?: boolean }): void };

function fakeManager(ids: string[]): { watchers: { id: string; emit: jest.Mock }[]; handleError: jest.Mock; backoff: unknown; initialBackoff: { next(): unknown } } {
  // The library's own manager, with its stream-level side effects replaced by recorders.
  return Object.assign(Object.create(WatchManager.prototype) as object, { watchers: ids.map((id) => ({ id, emit: jest.fn() })), handleError: jest.fn(), backoff: undefined, initialBackoff: { next: () => undefined } });
}

describe('etcd watch stream guard', () => {
  const handle = (self: object, res: { watch_id: string; canceled?: boolean }): void => (WatchManager.prototype as unknown as Internals).handleResponse.call(self, res);

  test('without it, a response for an unknown watch throws out of the stream handler (the defect)', () => {
    expect(() => handle(fakeManager(['1']), { watch_id: '7' })).toThrow(/Failed to find watcher/);
  });

  test('with it, an unknown watch re-creates the stream instead of killing the process; known ones still get their events', () => {
    guardEtcdWatchStreams();
    const before = unknownWatchResponses();
    const m = fakeManager(['1']);
    expect(() => handle(m, { watch_id: '7' })).not.toThrow();
    expect(m.handleError).toHaveBeenCalledTimes(1);
    handle(m, { watch_id: '8', canceled: true }); // a cancellation of a forgotten watch needs nothing
    expect(m.handleError).toHaveBeenCalledTimes(1);
    handle(m, { watch_id: '1' });
    expect(m.watchers[0].emit).toHaveBeenCalledWith('data', { watch_id: '1' });
    expect(unknownWatchResponses()).toBe(before + 2);
  });
});
