// The period a run covers. A report names a relative period (`last_7d`, `previous_week`…; the default is
// `last_7d`) resolved against the run's anchor (the schedule slot it is for, or now), or a fixed `from`/`to`.
// Calendar periods are local to the report's time zone (a Berlin week starts Monday 00:00 in Berlin).
import { z } from 'zod';
import type { Pool } from '../platform/sql';
import { instant, text } from '../platform/input';
import { isTimeZone } from '../analytics/filters';
import type { Period } from './doc';

export const PERIODS = ['last_24h', 'last_7d', 'last_30d', 'previous_week', 'previous_month'] as const;
export type PeriodName = (typeof PERIODS)[number];
export const DEFAULT_PERIOD: PeriodName = 'last_7d';

export const PeriodFields = {
  period: z.enum(PERIODS).optional(),
  from: instant().optional(),
  to: instant().optional(),
  tz: text().max(64).refine(isTimeZone, 'unknown time zone; use an IANA name such as Europe/Berlin').optional(),
};

export interface PeriodParams { period?: PeriodName; from?: string; to?: string; tz?: string }

/** The cross-field rules of a period: a fixed range is both ends, in order, and not mixed with a named period. */
export function checkPeriod(p: PeriodParams, ctx: z.RefinementCtx) {
  if (p.period && (p.from || p.to)) ctx.addIssue({ code: 'custom', path: ['period'], message: 'give either a period or from/to, not both' });
  if (!!p.from !== !!p.to) ctx.addIssue({ code: 'custom', path: [p.from ? 'to' : 'from'], message: 'a fixed period needs both from and to' });
  if (p.from && p.to && Date.parse(p.from) >= Date.parse(p.to)) ctx.addIssue({ code: 'custom', path: ['from'], message: 'must be before to' });
}

/** Resolves the period in Postgres, in `tz` (date_trunc on a timestamptz then works in local time). */
export async function resolvePeriod(sql: Pool, p: PeriodParams, anchor: Date, tz: string): Promise<Period> {
  if (p.from && p.to) return { from: new Date(p.from), to: new Date(p.to), tz };
  const name = p.period ?? DEFAULT_PERIOD;
  return sql.begin(async (tx) => {
    await tx`select set_config('TimeZone', ${tz}, true)`;
    const a = anchor.toISOString();
    const [r] = await tx<{ from: Date; to: Date }[]>`
      select case ${name}
          when 'last_24h' then ${a}::timestamptz - interval '24 hours'
          when 'last_7d' then ${a}::timestamptz - interval '7 days'
          when 'last_30d' then ${a}::timestamptz - interval '30 days'
          when 'previous_week' then date_trunc('week', ${a}::timestamptz) - interval '1 week'
          else date_trunc('month', ${a}::timestamptz) - interval '1 month' end as "from",
        case when ${name} = 'previous_week' then date_trunc('week', ${a}::timestamptz)
             when ${name} = 'previous_month' then date_trunc('month', ${a}::timestamptz)
             else ${a}::timestamptz end as "to"`;
    return { from: r.from, to: r.to, tz };
  });
}

/** "12 Jan 2026 00:00 – 19 Jan 2026 00:00 (Europe/Berlin)". */
export function periodText(p: Period): string {
  const f = new Intl.DateTimeFormat('en-GB', { timeZone: p.tz, day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  return `${f.format(p.from)} – ${f.format(p.to)} (${p.tz})`;
}

/** The bucket a chart of this period uses: hours up to two days, days up to ~three months, weeks after. */
export function autoBucket(p: Period): 'hour' | 'day' | 'week' {
  const days = (p.to.getTime() - p.from.getTime()) / 86_400_000;
  return days <= 2 ? 'hour' : days <= 92 ? 'day' : 'week';
}
