import { CronExpressionParser, type CronExpression } from 'cron-parser';

/** The descriptors upstream's cron parser accepts in place of five fields. */
const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** A CronJob schedule: its five fields and the time zone they are read in (undefined: the master's). */
export interface CronSchedule {
  fields: string;
  timeZone?: string;
}

export class CronScheduleError extends Error {}

/** True when zone is an IANA time zone name this runtime knows ("Etc/UTC", "Europe/Berlin"). */
export function isKnownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Parses a CronJob's schedule as upstream does: five fields (minute hour day-of-month month
 * day-of-week) or a descriptor such as @hourly, optionally prefixed with CRON_TZ=Zone or TZ=Zone;
 * spec.timeZone, when set, is the zone and may not be combined with such a prefix.
 */
export function parseCronSchedule(schedule: string, timeZone?: string): CronSchedule {
  let text = schedule.trim();
  let zone = timeZone;
  const prefix = /^(CRON_TZ|TZ)=(\S+)\s+/.exec(text);
  if (prefix) {
    if (timeZone !== undefined) throw new CronScheduleError('cannot use both timeZone field and TZ or CRON_TZ in schedule');
    zone = prefix[2];
    text = text.slice(prefix[0].length).trim();
  }
  if (zone !== undefined && !isKnownTimeZone(zone)) throw new CronScheduleError(`unknown time zone ${zone}: use an IANA name such as Etc/UTC or Europe/Berlin`);
  const fields = text.startsWith('@') ? DESCRIPTORS[text.toLowerCase()] : text;
  if (fields === undefined) throw new CronScheduleError(`unrecognized descriptor: ${text} (supported: ${Object.keys(DESCRIPTORS).join(', ')})`);
  if (fields.split(/\s+/).length !== 5) throw new CronScheduleError(`expected exactly 5 fields (minute hour day-of-month month day-of-week), found ${fields.split(/\s+/).length}: ${text}`);
  const parsed: CronSchedule = { fields, timeZone: zone };
  iterate(parsed, new Date());
  return parsed;
}

function iterate(schedule: CronSchedule, from: Date): CronExpression {
  try {
    return CronExpressionParser.parse(schedule.fields, { currentDate: from, tz: schedule.timeZone ?? 'Etc/UTC' });
  } catch (err) {
    throw new CronScheduleError(`invalid schedule "${schedule.fields}": ${(err as Error).message}`);
  }
}

/** The first time the schedule fires strictly after `after`. */
export function nextRun(schedule: CronSchedule, after: Date): Date {
  return iterate(schedule, after).next().toDate();
}

/**
 * The schedule times in (since, until], at most `limit` of them counted: `latest` is the most
 * recent one, `count` how many there were (capped at limit + 1, enough to say "too many missed").
 */
export function missedRuns(schedule: CronSchedule, since: Date, until: Date, limit: number): { latest?: Date; count: number } {
  const it = iterate(schedule, since);
  let latest: Date | undefined;
  let count = 0;
  for (;;) {
    const t = it.next().toDate();
    if (t.getTime() > until.getTime()) break;
    latest = t;
    count++;
    if (count > limit) {
      // Too many to walk one by one: jump to the last one before `until` directly.
      const back = iterate(schedule, new Date(until.getTime() + 1)).prev().toDate();
      return { latest: back, count };
    }
  }
  return { latest, count };
}
