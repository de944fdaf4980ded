import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startTestMaster, storeKinds, type TestMaster } from '../../support/master';

jest.setTimeout(90_000);

/** Talks line by line to client-node-scenario.mjs, which runs @kubernetes/client-node 1.4. */
class Scenario {
  private readonly lines: Record<string, unknown>[] = [];
  stderr = '';
  private readonly child: ChildProcessWithoutNullStreams;

  constructor(kubeconfig: string) {
    this.child = spawn(process.execPath, [join(__dirname, 'client-node-scenario.mjs')], { env: { ...process.env, KUBECONFIG: kubeconfig } });
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    createInterface({ input: this.child.stdout }).on('line', (l) => this.lines.push(JSON.parse(l) as Record<string, unknown>));
  }

  async ask(command: string, key: string, timeoutMs = 20_000): Promise<Record<string, unknown>> {
    const start = this.lines.length;
    this.child.stdin.write(command + '\n');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.slice(start).find((l) => key in l || 'error' in l);
      if (hit) {
        if ('error' in hit) throw new Error(`client-node: ${String(hit.error)}`);
        return hit;
      }
      if (Date.now() > deadline) throw new Error(`client-node gave no "${key}" answer to "${command}" within ${timeoutMs} ms; its stderr: ${this.stderr.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async until(prefix: string, pred: (seen: Record<string, Record<string, string>>) => boolean, timeoutMs = 45_000): Promise<Record<string, Record<string, string>>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const seen = (await this.ask(`seen ${prefix}`, 'seen')).seen as Record<string, Record<string, string>>;
      if (pred(seen)) return seen;
      if (Date.now() > deadline) throw new Error(`the informer's cache never matched; last: ${JSON.stringify(seen)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  stop(): void {
    this.child.stdin.end('quit\n');
    setTimeout(() => this.child.kill('SIGKILL'), 2000).unref();
  }
}

describe.each(storeKinds)('@kubernetes/client-node 1.4 against a lotse master on %s', (store) => {
  let m: TestMaster;
  let s: Scenario;

  beforeAll(async () => {
    m = await startTestMaster({ store });
    s = new Scenario(m.kubeconfigPath);
  });
  afterAll(async () => {
    s?.stop();
    await m?.stop();
  });

  test('typed CRUD: create, read, replace, 409 on a stale replace, patch, list, scale, delete', async () => {
    const { crud } = (await s.ask('crud', 'crud')) as { crud: Record<string, unknown> };
    expect(crud).toEqual({ replaced: '2', conflict: 409, patched: { a: '2', b: '3' }, listed: 1, depReplicas: 2, scaleReplicas: 2, gone: 404 });
  });

  test('a list+watch informer keeps its cache across a master restart', async () => {
    const cms = { group: '', version: 'v1', resource: 'configmaps', namespace: 'default' };
    await s.ask('informer', 'informer');
    await m.client.create(cms, { metadata: { name: 'inf-before' }, data: { v: '1' } } as never);
    await s.until('inf-', (seen) => seen['inf-before']?.v === '1');
    m = await m.restart();
    await m.client.create(cms, { metadata: { name: 'inf-after' }, data: { v: '2' } } as never);
    await m.client.patch({ ...cms, name: 'inf-before' }, 'merge', { data: { v: '3' } });
    await s.until('inf-', (seen) => seen['inf-after']?.v === '2' && seen['inf-before']?.v === '3');
  });
});
