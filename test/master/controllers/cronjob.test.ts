import type { CronJob, Job } from 'kubernetes-types/batch/v1';
import { batch } from '../../../kube/resource-path';
import { kubectlOk } from '../../support/kubectl';
import { ensureTestImage } from '../../support/podman';
import { startPodmanNode, type PodmanNode } from '../../support/podman-node';
import { waitFor, waitNodeReady } from './cluster';

const NODE = `cronjob-podman-${process.pid}`;
const NS = 'default';

const complete = (j: Job): boolean | undefined => j.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True');

/**
 * A CronJob every minute on a real podman node: a missed run starts at once, the next on schedule,
 * both succeed, and history is trimmed.
 */
describe('CronJobs on a real podman node', () => {
  let node: PodmanNode;

  beforeAll(async () => {
    node = await startPodmanNode(NODE);
    await waitNodeReady(node.cluster.client, NODE);
  }, 120_000);

  afterAll(async () => {
    await node?.stop();
  }, 60_000);

  it('catches up the latest missed run, creates a Job every minute that succeeds, keeps one in history, and kubectl create job --from works', async () => {
    const client = node.cluster.client;
    const kc = node.cluster.master.kubeconfigPath;
    const image = await ensureTestImage();
    const cronJob = (name: string, app: string): CronJob => ({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name, namespace: NS },
      spec: {
        suspend: true,
        schedule: '* * * * *',
        timeZone: 'Etc/UTC',
        successfulJobsHistoryLimit: 1,
        jobTemplate: { metadata: { labels: { app } }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: app, image, command: ['sh', '-c', `echo ${app}`] }] } } } },
      },
    });
    await client.create(batch('cronjobs', NS), cronJob('tick', 'tick'));
    // Suspended throughout: only the hand-made Job runs from it, so tick's history holds scheduled runs only.
    await client.create(batch('cronjobs', NS), cronJob('tock', 'tock'));
    const head = (await kubectlOk(kc, ['get', 'cronjobs'])).split('\n')[0].split(/\s{2,}/);
    expect(head).toEqual(['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE']);
    // Its last run three minutes ago, as after a master's downtime: resumed, the CronJob starts the
    // latest missed run at once (upstream starts only the latest), so two runs take one minute, not two.
    const longAgo = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 180_000).toISOString().replace('.000Z', 'Z');
    await client.patch(batch('cronjobs', NS, 'tick', 'status'), 'merge', { status: { lastScheduleTime: longAgo } });
    await kubectlOk(kc, ['patch', 'cronjob', 'tick', '--type=merge', '-p', '{"spec":{"suspend":false}}']);
    const resumedAt = Date.now();

    const ownJobs = async () => (await client.list<Job>(batch('jobs', NS))).items.filter((j) => j.metadata?.ownerReferences?.[0]?.name === 'tick');
    // Two runs a minute apart (the caught-up one and the next): the first one's Job is deleted when the second one's completes.
    const seen = new Set<string>();
    const scheduledRuns = waitFor('two scheduled Jobs completed, only the newest kept', async () => {
      const jobs = await ownJobs();
      for (const j of jobs) if (complete(j)) seen.add(j.metadata?.name ?? '');
      return seen.size >= 2 && jobs.length === 1 && complete(jobs[0]) && jobs;
    }, 90_000, 1000);
    // The next run waits for the minute's end (up to a minute): the rest of the test runs meanwhile.
    await Promise.all([scheduledRuns, handMadeAndTypedJobs(kc, image)]);

    for (const name of seen) {
      // Named after the scheduled minute, as upstream names them.
      const minute = Number(name.slice('tick-'.length));
      expect(minute * 60_000).toBeLessThanOrEqual(Date.now());
      expect(minute * 60_000).toBeGreaterThan(Date.now() - 150_000);
    }
    // The first run was due before the CronJob resumed: the caught-up one.
    expect(Math.min(...[...seen].map((name) => Number(name.slice('tick-'.length)))) * 60_000).toBeLessThanOrEqual(resumedAt);
    const cj = await client.get<CronJob>(batch('cronjobs', NS, 'tick'));
    expect(cj.status?.lastScheduleTime).toMatch(/:00Z$/);
    expect(Date.parse(cj.status?.lastSuccessfulTime ?? '')).toBeGreaterThanOrEqual(Date.parse(cj.status?.lastScheduleTime ?? ''));
    const [kept] = await ownJobs();
    expect(kept.metadata?.labels?.app).toBe('tick');
    expect(kept.metadata?.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00Z$/);
  }, 180_000);

  /** `kubectl create job --from` a suspended CronJob, and kubectl's typed (protobuf) creates of both batch kinds. */
  async function handMadeAndTypedJobs(kc: string, image: string): Promise<void> {
    const client = node.cluster.client;
    await kubectlOk(kc, ['create', 'job', 'by-hand', '--from=cronjob/tock']);
    const manual = await waitFor('the hand-made Job complete', async () => {
      const j = await client.get<Job>(batch('jobs', NS, 'by-hand'));
      return complete(j) && j;
    }, 60_000);
    expect(manual.metadata?.annotations?.['cronjob.kubernetes.io/instantiate']).toBe('manual');
    expect(manual.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'CronJob', name: 'tock' });
    expect(await kubectlOk(kc, ['logs', 'job/by-hand'])).toBe('tock\n');

    // kubectl's typed create commands send protobuf: both batch kinds decode with their fields.
    await kubectlOk(kc, ['create', 'cronjob', 'typed', '--image', image, '--schedule', '*/5 * * * *', '--restart', 'OnFailure', '--', 'sh', '-c', 'exit 0']);
    const typed = await client.get<CronJob>(batch('cronjobs', NS, 'typed'));
    expect(typed.spec?.schedule).toBe('*/5 * * * *');
    expect(typed.spec?.jobTemplate.spec?.template.spec?.restartPolicy).toBe('OnFailure');
    expect(typed.spec?.jobTemplate.spec?.template.spec?.containers[0].command).toEqual(['sh', '-c', 'exit 0']);
    await kubectlOk(kc, ['create', 'job', 'typed-job', '--image', image, '--', 'sh', '-c', 'echo typed']);
    const typedJob = await client.get<Job>(batch('jobs', NS, 'typed-job'));
    expect(typedJob.spec?.template.spec?.restartPolicy).toBe('Never');
    expect(typedJob.spec?.backoffLimit).toBe(6);
  }
});
