// A report's schedule: a five-field cron expression read in an IANA time zone by cron-parser, which walks
// wall-clock time in that zone (so "0 8 * * 1" stays 08:00 in Berlin across daylight-saving changes; a time
// that does not exist on the spring-forward day runs just after the gap).
//
// The next run is always computed from *now* (never from the slot that was due): a run that was due while
// Herald was down runs once when it is back, then the schedule continues from the present, not once per
// missed slot.
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { text } from '../platform/input';
import { isTimeZone } from '../analytics/filters';

/** A schedule's job retries (with graphile-worker's backoff) for about a day before it gives up: losing it would stop the report. */
export const SCHEDULE_ATTEMPTS = 25;

/** Two runs closer together than this are refused: a report is for people, not a poll loop. */
export const MIN_SCHEDULE_GAP_MS = 5 * 60_000;

/** The next instant strictly after `after` matching `cron` in `timezone`. Throws on an invalid expression. */
export function nextRunAt(cron: string, timezone: string, after: Date = new Date()): Date {
  return CronExpressionParser.parse(cron, { currentDate: after, tz: timezone }).next().toDate();
}

/** Why a cron expression cannot be used, or null. */
export function cronProblem(cron: string, timezone = 'UTC'): string | null {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5) return 'a cron expression has five fields: minute hour day-of-month month day-of-week (e.g. "0 8 * * 1")';
  try {
    const it = CronExpressionParser.parse(cron, { currentDate: new Date(), tz: isTimeZone(timezone) ? timezone : 'UTC' });
    const a = it.next().toDate();
    const b = it.next().toDate();
    if (b.getTime() - a.getTime() < MIN_SCHEDULE_GAP_MS) return `runs more often than every ${MIN_SCHEDULE_GAP_MS / 60_000} minutes`;
  } catch (e) {
    return `not a valid cron expression: ${(e as Error).message}`;
  }
  return null;
}

export const ScheduleSchema = z
  .object({
    cron: text().trim().min(1).max(100),
    timezone: text().max(64).refine(isTimeZone, 'unknown time zone; use an IANA name such as Europe/Berlin').default('UTC'),
  })
  .strict()
  .superRefine((s, ctx) => {
    const p = cronProblem(s.cron, s.timezone);
    if (p) ctx.addIssue({ code: 'custom', path: ['cron'], message: p });
  });
export type Schedule = z.output<typeof ScheduleSchema>;
