// Driven by client-matrix.test.ts: the matrix scenario with @kubernetes/client-node 1.4 (ESM-only,
// so it runs in its own process). Prints one JSON line with what each step saw.
import * as k8s from '@kubernetes/client-node';
import { Writable } from 'node:stream';

const [kubeconfig, name, pod] = process.argv.slice(2);
const kc = new k8s.KubeConfig();
kc.loadFromFile(kubeconfig);
const core = kc.makeApiClient(k8s.CoreV1Api);
const ns = 'default';
const out = {};

const events = [];
const watch = await new k8s.Watch(kc).watch(`/api/v1/namespaces/${ns}/configmaps`, { fieldSelector: `metadata.name=${name}` }, (type, obj) => events.push(`${type} ${obj.data?.a}`), () => undefined);
await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name }, data: { a: '1' } } });
out.get = (await core.readNamespacedConfigMap({ name, namespace: ns })).data.a;
await core.patchNamespacedConfigMap({ name, namespace: ns, body: { data: { a: '2' } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
for (let i = 0; i < 100 && !events.includes('MODIFIED 2'); i++) await new Promise((r) => setTimeout(r, 50));
watch.abort();
out.watch = events;
out.logs = await core.readNamespacedPodLog({ name: pod, namespace: ns });

let stdout = '';
const sink = new Writable({ write(chunk, _enc, done) { stdout += chunk.toString(); done(); } });
const status = await new Promise((resolve, reject) => {
  new k8s.Exec(kc).exec(ns, pod, 'main', ['sh', '-c', 'echo from-exec; exit 3'], sink, null, null, false, resolve).catch(reject);
});
out.exec = { stdout, status: status.status, exitCode: status.details?.causes?.[0]?.message };
await core.deleteNamespacedConfigMap({ name, namespace: ns });
try {
  await core.readNamespacedConfigMap({ name, namespace: ns });
  out.deleted = false;
} catch (err) {
  out.deleted = err.code === 404;
}
process.stdout.write(JSON.stringify(out) + '\n');
process.exit(0);
