import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubectl, kubectlOk } from '../../support/kubectl';
import { startTestMaster, type TestMaster } from '../../support/master';

const manifest = (kind: string, apiVersion: string, name: string, spec: Record<string, unknown>, namespaced = true): Record<string, unknown> => ({
  apiVersion,
  kind,
  metadata: { name, labels: { app: 'pruned' }, ...(namespaced ? { namespace: 'default' } : {}) },
  ...spec,
});
const podTemplate = { metadata: { labels: { app: 'pruned' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };

/** Every kind named by kubectl's default prune allowlist, so `--prune` needs no --prune-allowlist. */
const kinds = [
  manifest('ConfigMap', 'v1', 'keep', { data: { a: '1' } }),
  manifest('ConfigMap', 'v1', 'drop', { data: { b: '2' } }),
  manifest('PersistentVolumeClaim', 'v1', 'claim', { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }),
  manifest('PersistentVolume', 'v1', 'pruned-volume', { spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/tmp/pv' } } }, false),
  manifest('ReplicationController', 'v1', 'rc', { spec: { replicas: 0, selector: { app: 'pruned' }, template: podTemplate } }),
  manifest('StatefulSet', 'apps/v1', 'sts', { spec: { replicas: 0, serviceName: 'sts', selector: { matchLabels: { app: 'pruned' } }, template: podTemplate } }),
  manifest('Ingress', 'networking.k8s.io/v1', 'ing', { spec: { rules: [{ host: 'x.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'svc', port: { number: 80 } } } }] } }] } }),
  manifest('CronJob', 'batch/v1', 'cron', { spec: { schedule: '@daily', suspend: true, jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } } } }),
];

describe('kubectl apply --prune and diff --prune with the default allowlist', () => {
  let m: TestMaster;
  let dir: string;

  beforeAll(async () => {
    m = await startTestMaster();
    dir = mkdtempSync(join(tmpdir(), 'lotse-prune-'));
  });
  afterAll(async () => {
    await m?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const write = (name: string, objs: Record<string, unknown>[]): string => {
    const file = join(dir, name);
    writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objs }));
    return file;
  };

  test('creates every kind of the allowlist, then prunes what left the manifests', async () => {
    const all = write('all.json', kinds);
    const first = await kubectlOk(m.kubeconfigPath, ['apply', '--prune', '-l', 'app=pruned', '-f', all]);
    expect(first).toContain('persistentvolumeclaim/claim created');
    expect(first).toContain('statefulset.apps/sts created');
    expect(first).toContain('ingress.networking.k8s.io/ing created');
    const pvc = await kubectlOk(m.kubeconfigPath, ['get', 'pvc', 'claim', '-o', 'jsonpath={.status.phase} {.spec.volumeMode}']);
    expect(pvc).toBe('Pending Filesystem');

    const fewer = write('fewer.json', kinds.filter((k) => (k.metadata as { name: string }).name !== 'drop' && k.kind !== 'PersistentVolumeClaim'));
    const diff = await kubectl(m.kubeconfigPath, ['diff', '--prune', '-l', 'app=pruned', '-f', fewer]);
    // kubectl diff exits 1 when it found differences, >1 on errors (the unserved-kind failure was one).
    expect(diff.stderr).not.toMatch(/error|no matches for kind/i);
    expect(diff.code).toBe(1);
    expect(diff.stdout).toMatch(/-\s+name: drop/);
    expect(diff.stdout).toMatch(/-\s+name: claim/);

    const second = await kubectlOk(m.kubeconfigPath, ['apply', '--prune', '-l', 'app=pruned', '-f', fewer]);
    expect(second).toContain('configmap/drop pruned');
    expect(second).toContain('persistentvolumeclaim/claim pruned');
    expect(second).not.toContain('configmap/keep pruned');
    const left = await kubectl(m.kubeconfigPath, ['get', 'configmap', 'drop']);
    expect(left.stderr).toContain('configmaps "drop" not found');
  }, 60_000);
});
