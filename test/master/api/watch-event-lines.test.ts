import { watchEventLine } from '../../../master/api/watch-event-lines';

describe('watch event lines', () => {
  test('one store event is serialized once and the same line is served to every watcher', () => {
    const object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', resourceVersion: '7' } };
    const first = watchEventLine('ADDED', object);
    expect(JSON.parse(first)).toEqual({ type: 'ADDED', object });
    // A later watcher gets the cached bytes: a change made after the first encoding is not re-serialized.
    object.metadata.name = 'changed';
    expect(watchEventLine('ADDED', object)).toBe(first);
  });

  test('the event type and apiVersion select their own line', () => {
    const object: Record<string, unknown> = { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'h' } };
    const added = watchEventLine('ADDED', object);
    expect(JSON.parse(watchEventLine('DELETED', object)).type).toBe('DELETED');
    object.apiVersion = 'autoscaling/v2';
    expect(JSON.parse(watchEventLine('ADDED', object)).object.apiVersion).toBe('autoscaling/v2');
    object.apiVersion = 'autoscaling/v1';
    expect(watchEventLine('ADDED', object)).toBe(added);
  });
});
