// Driven by client-node.test.ts: @kubernetes/client-node 1.4 is ESM-only, so it runs in its own
// process. Commands arrive as lines on stdin; results leave as JSON lines on stdout.
import * as k8s from '@kubernetes/client-node';
import { createInterface } from 'node:readline';

const kc = new k8s.KubeConfig();
kc.loadFromFile(process.env.KUBECONFIG);
const core = kc.makeApiClient(k8s.CoreV1Api);
const apps = kc.makeApiClient(k8s.AppsV1Api);
const say = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

const seen = new Map();
let informer;

async function crud() {
  const ns = 'default';
  await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'cn-1', labels: { from: 'client-node' } }, data: { a: '1' } } });
  const read = await core.readNamespacedConfigMap({ name: 'cn-1', namespace: ns });
  read.data.a = '2';
  const replaced = await core.replaceNamespacedConfigMap({ name: 'cn-1', namespace: ns, body: read });
  let conflict = 0;
  try {
    await core.replaceNamespacedConfigMap({ name: 'cn-1', namespace: ns, body: read });
  } catch (err) {
    conflict = err.code;
  }
  const patched = await core.patchNamespacedConfigMap({ name: 'cn-1', namespace: ns, body: { data: { b: '3' } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
  const list = await core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'from=client-node' });
  const dep = await apps.createNamespacedDeployment({
    namespace: ns,
    body: { metadata: { name: 'cn-dep' }, spec: { replicas: 2, selector: { matchLabels: { app: 'cn' } }, template: { metadata: { labels: { app: 'cn' } }, spec: { containers: [{ name: 'c', image: 'img:1' }] } } } },
  });
  const scale = await apps.readNamespacedDeploymentScale({ name: 'cn-dep', namespace: ns });
  await core.deleteNamespacedConfigMap({ name: 'cn-1', namespace: ns });
  let gone = 0;
  try {
    await core.readNamespacedConfigMap({ name: 'cn-1', namespace: ns });
  } catch (err) {
    gone = err.code;
  }
  say({ crud: { replaced: replaced.data.a, conflict, patched: patched.data, listed: list.items.length, depReplicas: dep.spec.replicas, scaleReplicas: scale.spec.replicas, gone } });
}

async function startInformer() {
  const listFn = () => core.listNamespacedConfigMap({ namespace: 'default' });
  informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/configmaps', listFn);
  informer.on('add', (o) => seen.set(o.metadata.name, o.data ?? {}));
  informer.on('update', (o) => seen.set(o.metadata.name, o.data ?? {}));
  informer.on('delete', (o) => seen.delete(o.metadata.name));
  informer.on('error', () => setTimeout(() => informer.start().catch(() => undefined), 500));
  await informer.start();
  say({ informer: 'started' });
}

const rl = createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  try {
    if (line === 'crud') await crud();
    else if (line === 'informer') await startInformer();
    else if (line.startsWith('seen ')) say({ seen: Object.fromEntries([...seen].filter(([k]) => k.startsWith(line.slice(5)))) });
    else if (line === 'quit') {
      await informer?.stop();
      process.exit(0);
    }
  } catch (err) {
    say({ error: String(err && err.message ? err.message : err), code: err && err.code });
  }
});
