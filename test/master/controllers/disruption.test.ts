import type { Deployment } from 'kubernetes-types/apps/v1';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import type { KubeObject } from '../../../kube/object';
import { apps, core, type ResourceRef } from '../../../kube/resource-path';
import { kubectl, kubectlOk } from '../../support/kubectl';
import { isRunningReady, listPods, startCluster, waitFor, type TestCluster } from './cluster';

const pdbs = (name?: string): ResourceRef => ({ group: 'policy', version: 'v1', resource: 'poddisruptionbudgets', namespace: 'default', name });

/** PodDisruptionBudgets, the eviction API and kubectl drain on hollow nodes. */
describe('disruption budgets and eviction', () => {
  let c: TestCluster;
  const kc = () => c.master.kubeconfigPath;
  const readyWeb = async (): Promise<Pod[]> => (await listPods(c.client, 'default', 'app=web')).filter((p) => isRunningReady(p) && !p.metadata?.deletionTimestamp);
  const budget = () => c.client.get<PodDisruptionBudget>(pdbs('web'));

  beforeAll(async () => {
    c = await startCluster({ nodes: 2 });
    await c.client.create(apps('deployments', 'default'), {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'main', image: 'img:a' }] } } },
    } as Deployment);
    await waitFor('3 ready web pods', async () => (await readyWeb()).length === 3, 30_000);
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
  });

  it('keeps the budget status current and refuses an eviction it cannot afford with a 429', async () => {
    await c.client.create(pdbs(), { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web' }, spec: { minAvailable: 3, selector: { matchLabels: { app: 'web' } } } } as KubeObject);
    const status = await waitFor('budget status', async () => {
      const b = await budget();
      return b.status?.observedGeneration === b.metadata?.generation && b.status;
    }, 20_000);
    expect(status).toMatchObject({ expectedPods: 3, desiredHealthy: 3, currentHealthy: 3, disruptionsAllowed: 0 });
    const [victim] = await readyWeb();
    const res = await c.client.raw('POST', `/api/v1/namespaces/default/pods/${victim.metadata?.name}/eviction`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: victim.metadata?.name } });
    expect(res.status).toBe(429);
    const body = JSON.parse(res.body) as { message: string; details: { causes: { message: string }[] } };
    expect(body.message).toBe("Cannot evict pod as it would violate the pod's disruption budget.");
    expect(body.details.causes[0].message).toBe('The disruption budget web needs 3 healthy pods and has 3 currently');
    expect((await c.client.get<Pod>(core('pods', 'default', victim.metadata?.name))).metadata?.deletionTimestamp).toBeUndefined();
    expect((await kubectlOk(kc(), ['get', 'pdb', 'web'])).split('\n')[1]).toMatch(/^web\s+3\s+N\/A\s+0\s+/);
  }, 60_000);

  it('lets kubectl drain empty a node one allowed eviction at a time, never below minAvailable', async () => {
    await c.client.patch(pdbs('web'), 'merge', { spec: { minAvailable: 2 } });
    await waitFor('one disruption allowed', async () => (await budget()).status?.disruptionsAllowed === 1, 20_000);
    const nodes = (await c.client.list<Node>(core('nodes'))).items.map((n) => String(n.metadata?.name));
    const onNode = async (n: string): Promise<number> => (await listPods(c.client, 'default', 'app=web')).filter((p) => p.spec?.nodeName === n && !p.metadata?.deletionTimestamp).length;
    const target = (await onNode(nodes[0])) >= (await onNode(nodes[1])) ? nodes[0] : nodes[1];
    let lowest = 3;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        lowest = Math.min(lowest, (await readyWeb()).length);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const drain = await kubectl(kc(), ['drain', target, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=90s'], undefined, 100_000);
    watching = false;
    await watcher;
    expect(drain.stderr + drain.stdout).toContain(`node/${target} drained`);
    expect(await onNode(target)).toBe(0);
    expect((await c.client.get<Node>(core('nodes', undefined, target))).spec?.unschedulable).toBe(true);
    expect(lowest).toBeGreaterThanOrEqual(2);
    await waitFor('3 ready again on the other node', async () => (await readyWeb()).length === 3, 30_000);
  }, 120_000);
});
