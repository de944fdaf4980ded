import type { Job } from 'kubernetes-types/batch/v1';
import type { Pod } from 'kubernetes-types/core/v1';
import { ApiError } from '../../../kube/api-error';
import { batch, core } from '../../../kube/resource-path';
import { ensureTestImage } from '../../support/podman';
import { startPodmanNode, type PodmanNode } from '../../support/podman-node';
import { kubectl, kubectlOk } from '../../support/kubectl';
import { listPods, waitFor, waitNodeReady } from './cluster';

const NODE = `job-podman-${process.pid}`;
const NS = 'default';

/** batch/v1 Jobs run to completion (or failure) in real podman containers, checked through kubectl as well. */
describe('Jobs on a real podman node', () => {
  let node: PodmanNode;
  let image: string;

  const client = () => node.cluster.client;
  const kc = () => node.cluster.master.kubeconfigPath;
  const job = (name: string, spec: Partial<Job['spec']> & { command: string[]; restartPolicy?: string }): Job => {
    const { command, restartPolicy, ...rest } = spec;
    return {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name, namespace: NS },
      spec: { ...rest, template: { spec: { restartPolicy: restartPolicy ?? 'Never', terminationGracePeriodSeconds: 1, containers: [{ name: 'work', image, command }] } } },
    } as Job;
  };
  const getJob = (name: string) => client().get<Job>(batch('jobs', NS, name));
  const condition = (j: Job, type: string) => j.status?.conditions?.find((c) => c.type === type && c.status === 'True');
  const finished = (name: string, type: 'Complete' | 'Failed', timeoutMs: number) =>
    waitFor(`job ${name} ${type}`, async () => {
      const j = await getJob(name);
      return condition(j, type) ? j : undefined;
    }, timeoutMs, 300);

  beforeAll(async () => {
    image = await ensureTestImage();
    node = await startPodmanNode(NODE);
    await waitNodeReady(client(), NODE);
  }, 120_000);

  afterAll(async () => {
    await node?.stop();
  }, 60_000);

  it('runs 3 completions 2 at a time, labels its pods, and shows in kubectl get/logs', async () => {
    const created = await client().create<Job>(batch('jobs', NS), job('three', { completions: 3, parallelism: 2, command: ['sh', '-c', 'echo "work done by $HOSTNAME"'] }));
    const uid = created.metadata?.uid ?? '';
    // The API generates the selector from the Job's uid and labels the template with it.
    expect(created.spec?.selector).toEqual({ matchLabels: { 'batch.kubernetes.io/controller-uid': uid } });
    expect(created.spec?.template.metadata?.labels).toMatchObject({ 'batch.kubernetes.io/job-name': 'three', 'job-name': 'three', 'controller-uid': uid });
    expect(created.spec?.backoffLimit).toBe(6);

    const done = await finished('three', 'Complete', 90_000);
    expect(done.status?.succeeded).toBe(3);
    expect(done.status?.failed).toBeUndefined();
    expect(condition(done, 'SuccessCriteriaMet')?.reason).toBe('CompletionsReached');
    expect(Date.parse(done.status?.completionTime ?? '')).toBeGreaterThanOrEqual(Date.parse(done.status?.startTime ?? ''));
    const pods = await listPods(client(), NS, 'batch.kubernetes.io/job-name=three');
    expect(pods.filter((p) => p.status?.phase === 'Succeeded')).toHaveLength(3);
    expect(pods.every((p) => p.metadata?.ownerReferences?.[0]?.uid === uid && p.metadata?.name?.startsWith('three-'))).toBe(true);

    const table = await kubectlOk(kc(), ['get', 'jobs', 'three']);
    expect(table.split('\n')[0].split(/\s+/).filter(Boolean)).toEqual(['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE']);
    expect(table.split('\n')[1]).toMatch(/^three\s+Complete\s+3\/3\s+\d+s\s+\d+s/);
    const logs = await kubectlOk(kc(), ['logs', 'job/three']);
    expect(logs).toMatch(/^work done by three-/);
    const all = await kubectlOk(kc(), ['get', 'all']);
    expect(all).toContain('job.batch/three');
  }, 120_000);

  it('fails after its backoff limit, waiting the back-off between attempts', async () => {
    await client().create(batch('jobs', NS), job('flaky', { backoffLimit: 1, command: ['sh', '-c', 'echo failing; exit 3'] }));
    const failed = await finished('flaky', 'Failed', 90_000);
    expect(condition(failed, 'Failed')).toMatchObject({ reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' });
    expect(condition(failed, 'FailureTarget')?.reason).toBe('BackoffLimitExceeded');
    expect(failed.status?.failed).toBe(2);
    const pods = (await listPods(client(), NS, 'job-name=flaky')).sort((a, b) => Date.parse(a.metadata?.creationTimestamp ?? '') - Date.parse(b.metadata?.creationTimestamp ?? ''));
    expect(pods).toHaveLength(2);
    // The second pod waited upstream's first back-off (10 s) after the first one's container exited.
    const firstExit = Date.parse(pods[0].status?.containerStatuses?.[0]?.state?.terminated?.finishedAt ?? '');
    expect(pods[0].status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(3);
    expect(Date.parse(pods[1].metadata?.creationTimestamp ?? '') - firstExit).toBeGreaterThanOrEqual(9_000);
    const table = await kubectlOk(kc(), ['get', 'job', 'flaky', '--no-headers']);
    expect(table).toMatch(/^flaky\s+Failed\s+0\/1\s/);
  }, 120_000);

  it('fails at once on a FailJob pod failure policy rule', async () => {
    await client().create(batch('jobs', NS), job('policy', {
      backoffLimit: 6,
      podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { containerName: 'work', operator: 'In', values: [42] } }] },
      command: ['sh', '-c', 'exit 42'],
    }));
    const failed = await finished('policy', 'Failed', 60_000);
    expect(condition(failed, 'Failed')?.reason).toBe('PodFailurePolicy');
    expect(condition(failed, 'Failed')?.message).toMatch(/^Container work for pod default\/policy-\w+ failed with exit code 42 matching FailJob rule at index 0$/);
    expect(await listPods(client(), NS, 'job-name=policy')).toHaveLength(1);
  }, 90_000);

  it('ends a Job past activeDeadlineSeconds and deletes its running pod', async () => {
    await client().create(batch('jobs', NS), job('slow', { activeDeadlineSeconds: 3, command: ['sh', '-c', 'exec sleep 3600'] }));
    const failed = await finished('slow', 'Failed', 60_000);
    expect(condition(failed, 'Failed')).toMatchObject({ reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' });
    await waitFor('the running pod of the expired Job gone', async () => {
      const pods = await listPods(client(), NS, 'job-name=slow');
      return pods.every((p: Pod) => p.status?.phase !== 'Running') && pods;
    }, 30_000);
  }, 90_000);

  it('deletes a finished Job and its pods after ttlSecondsAfterFinished', async () => {
    // A watch sees the Complete state however briefly it lives: polling can miss it on a busy machine,
    // since the TTL controller may delete the Job within a second of its completion.
    const seen: { complete?: boolean; deleted?: boolean } = {};
    const watch = client().watch<Job>(batch('jobs', NS), { fieldSelector: 'metadata.name=short-lived' }, (event) => {
      if (event.type === 'DELETED') seen.deleted = true;
      else if (condition(event.object, 'Complete')) seen.complete = true;
    });
    try {
      await client().create(batch('jobs', NS), job('short-lived', { ttlSecondsAfterFinished: 1, command: ['true'] }));
      await waitFor('job short-lived Complete', async () => seen.complete, 60_000, 100);
      await waitFor('the Job deleted by its TTL', async () => {
        const gone = await getJob('short-lived').then(() => false, (err: unknown) => ApiError.isNotFound(err));
        return gone && seen.deleted && (await listPods(client(), NS, 'job-name=short-lived')).length === 0;
      }, 30_000);
    } finally {
      watch.stop();
    }
  }, 90_000);

  it('refuses a restartPolicy Always template and a hand-written selector without manualSelector', async () => {
    const always = await kubectl(kc(), ['create', '-f', '-'], JSON.stringify(job('bad', { restartPolicy: 'Always', command: ['true'] })));
    expect(always.code).not.toBe(0);
    expect(always.stderr).toContain('spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"');
    const withSelector = { ...job('bad2', { command: ['true'] }), spec: { ...job('bad2', { command: ['true'] }).spec, selector: { matchLabels: { app: 'x' } } } };
    const sel = await kubectl(kc(), ['create', '-f', '-'], JSON.stringify(withSelector));
    expect(sel.stderr).toContain('`selector` will be auto-generated');
  }, 30_000);
});
