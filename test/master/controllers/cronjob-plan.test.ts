import type { CronJob, Job } from 'kubernetes-types/batch/v1';
import { missedRuns, nextRun, parseCronSchedule } from '../../../kube/cron-schedule';
import { jobNameFor, jobsOverHistory, planCronJob } from '../../../master/controllers/cronjob/cronjob-plan';

const cron = (spec: Partial<NonNullable<CronJob['spec']>>, status: CronJob['status'] = {}, created = '2026-01-01T00:00:00Z'): CronJob => ({
  metadata: { name: 'nightly', creationTimestamp: created },
  spec: { schedule: '*/5 * * * *', concurrencyPolicy: 'Allow', jobTemplate: {}, ...spec },
  status,
});
const running: Job = { metadata: { name: 'nightly-1', uid: 'u1' }, status: {} };
const at = (s: string): Date => new Date(s);

describe('CronJob schedules', () => {
  it('parses descriptors, CRON_TZ prefixes and timeZone, and refuses what upstream refuses', () => {
    expect(parseCronSchedule('@hourly')).toEqual({ fields: '0 * * * *', timeZone: undefined });
    expect(parseCronSchedule('CRON_TZ=Europe/Berlin 0 9 * * *')).toEqual({ fields: '0 9 * * *', timeZone: 'Europe/Berlin' });
    expect(() => parseCronSchedule('TZ=Etc/UTC 0 9 * * *', 'Etc/UTC')).toThrow('cannot use both timeZone field and TZ or CRON_TZ in schedule');
    expect(() => parseCronSchedule('0 9 * * *', 'Mars/Olympus')).toThrow('unknown time zone Mars/Olympus');
    expect(() => parseCronSchedule('0 0 9 * * *')).toThrow('expected exactly 5 fields');
    expect(() => parseCronSchedule('@every 5m')).toThrow('unrecognized descriptor');
    expect(() => parseCronSchedule('61 * * * *')).toThrow('invalid schedule');
  });

  it('reads the fields in the time zone: 09:00 Berlin is 08:00 UTC in winter, 07:00 in summer', () => {
    const berlin = parseCronSchedule('0 9 * * *', 'Europe/Berlin');
    expect(nextRun(berlin, at('2026-01-10T12:00:00Z')).toISOString()).toBe('2026-01-11T08:00:00.000Z');
    expect(nextRun(berlin, at('2026-07-10T12:00:00Z')).toISOString()).toBe('2026-07-11T07:00:00.000Z');
  });

  it('counts missed runs and jumps to the latest when there are too many', () => {
    const every5 = parseCronSchedule('*/5 * * * *');
    expect(missedRuns(every5, at('2026-01-01T00:00:00Z'), at('2026-01-01T00:17:00Z'), 100)).toEqual({ latest: at('2026-01-01T00:15:00Z'), count: 3 });
    const many = missedRuns(every5, at('2026-01-01T00:00:00Z'), at('2026-01-03T00:01:00Z'), 100);
    expect(many.count).toBe(101);
    expect(many.latest).toEqual(at('2026-01-03T00:00:00Z'));
  });
});

describe('CronJob decisions', () => {
  it('starts the latest missed run since the last one, named after its minute', () => {
    const plan = planCronJob(cron({}, { lastScheduleTime: '2026-01-01T00:05:00Z' }), [], at('2026-01-01T00:16:30Z'));
    expect(plan.run).toEqual(at('2026-01-01T00:15:00Z'));
    expect(plan.next).toEqual(at('2026-01-01T00:20:00Z'));
    expect(jobNameFor(cron({}), at('2026-01-01T00:15:00Z'))).toBe(`nightly-${Date.parse('2026-01-01T00:15:00Z') / 60_000}`);
    expect(planCronJob(cron({}, { lastScheduleTime: '2026-01-01T00:15:00Z' }), [], at('2026-01-01T00:16:30Z')).run).toBeUndefined();
  });

  it('honours suspend, startingDeadlineSeconds and the concurrency policies', () => {
    const now = at('2026-01-01T00:16:30Z');
    expect(planCronJob(cron({ suspend: true }), [], now).run).toBeUndefined();
    const late = planCronJob(cron({ startingDeadlineSeconds: 30 }, { lastScheduleTime: '2026-01-01T00:10:00Z' }), [], now);
    // 00:15 is more than 30 s ago: that run is given up, as upstream does.
    expect(late.run).toBeUndefined();
    expect(planCronJob(cron({ startingDeadlineSeconds: 120 }), [], now).run).toEqual(at('2026-01-01T00:15:00Z'));
    const forbid = planCronJob(cron({ concurrencyPolicy: 'Forbid' }), [running], now);
    expect(forbid.run).toBeUndefined();
    expect(forbid.skipped?.reason).toBe('JobAlreadyActive');
    const replace = planCronJob(cron({ concurrencyPolicy: 'Replace' }), [running], now);
    expect(replace.run).toEqual(at('2026-01-01T00:15:00Z'));
    expect(replace.replace).toEqual([running]);
    expect(planCronJob(cron({ concurrencyPolicy: 'Allow' }), [running], now).replace).toEqual([]);
  });

  it('keeps the newest finished Jobs within each history limit', () => {
    const finished = (name: string, type: string, start: string): Job => ({ metadata: { name }, status: { startTime: start, conditions: [{ type, status: 'True' }] } });
    const jobs = [finished('a', 'Complete', '2026-01-01T00:00:00Z'), finished('b', 'Complete', '2026-01-01T00:05:00Z'), finished('c', 'Complete', '2026-01-01T00:10:00Z'), finished('d', 'Failed', '2026-01-01T00:01:00Z'), finished('e', 'Failed', '2026-01-01T00:02:00Z'), running];
    expect(jobsOverHistory(cron({ successfulJobsHistoryLimit: 2, failedJobsHistoryLimit: 1 }), jobs).map((j) => j.metadata?.name)).toEqual(['a', 'd']);
    expect(jobsOverHistory(cron({ successfulJobsHistoryLimit: 0, failedJobsHistoryLimit: 0 }), jobs).map((j) => j.metadata?.name)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });
});
