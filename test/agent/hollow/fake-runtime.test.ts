import { FakeRuntime } from '../../../agent/hollow/fake-runtime';
import type { ContainerSpec } from '../../../agent/runtime/container-runtime';

const spec = (name: string, entrypoint?: string[]): ContainerSpec => ({
  pod: { uid: 'u1', name: 'p', namespace: 'default' },
  name, kind: 'app', attempt: 0, specHash: 'h', image: 'img', entrypoint, env: [], mounts: [],
});

describe('the hollow nodes fake runtime', () => {
  it('runs containers until stopped, except `true` and `false`, which exit at once with 0 and 1 (so Jobs finish on hollow nodes)', async () => {
    const rt = new FakeRuntime('n1');
    const ids = await Promise.all([rt.createContainer('s', spec('server', ['sleep', '3600'])), rt.createContainer('s', spec('ok', ['true'])), rt.createContainer('s', spec('bad', ['false']))]);
    for (const id of ids) await rt.startContainer(id);
    const byName = new Map((await rt.listContainers('u1')).map((c) => [c.name, c]));
    expect(byName.get('server')).toMatchObject({ state: 'running' });
    expect(byName.get('ok')).toMatchObject({ state: 'exited', exitCode: 0, reason: 'Completed' });
    expect(byName.get('bad')).toMatchObject({ state: 'exited', exitCode: 1, reason: 'Error' });
  });
});
