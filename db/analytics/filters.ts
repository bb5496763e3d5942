// The range and filters shared by the analytics answer and the exports: parsed with zod, then resolved
// in Postgres in the caller's time zone (a bare date is a local midnight there).
import { z } from 'zod';
import type { Sql } from '../platform/sql';
import { invalid } from '../errors';
import { PRIORITIES } from '../model/levels';

export const BUCKETS = ['hour', 'day', 'week'] as const;
export type Bucket = (typeof BUCKETS)[number];
const BUCKET_SECONDS: Record<Bucket, number> = { hour: 3600, day: 86400, week: 604800 };
/** More points than this is a 400: nobody reads them, and they cost the database. */
export const MAX_BUCKETS = 10_000;
export const DEFAULT_DAYS = 7;

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** A comma-separated list of known values (`priority=high,critical`). */
export const csvOf = <T extends string>(values: readonly T[]) =>
  z.string().transform((s, ctx) => {
    const parts = s.split(',').map((x) => x.trim()).filter(Boolean);
    for (const p of parts) if (!(values as readonly string[]).includes(p)) ctx.addIssue({ code: 'custom', message: `unknown value ${p}; use ${values.join(', ')}` });
    return parts as T[];
  });

/** An instant with its offset (`2026-11-02T08:00:00+01:00`, `…Z`) or a date (`2026-11-02`, local midnight in `tz`). */
const instant = z.union([z.iso.date(), z.iso.datetime({ offset: true })], { error: 'a date (YYYY-MM-DD) or an ISO 8601 date-time with its offset' });

export const RangeFields = {
  from: instant.optional(),
  to: instant.optional(),
  tz: z.string().max(64).refine(isTimeZone, 'unknown time zone; use an IANA name such as Europe/Berlin').default('UTC'),
};

export const FilterFields = {
  category: z.string().min(1).max(64).optional(),
  priority: csvOf(PRIORITIES).optional(),
  rule_id: z.string().regex(/^\d{1,15}$/, 'a rule id').transform(Number).optional(),
  role: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'a role key is lowercase letters, digits and _').optional(),
};

export interface Filters { category?: string; priority?: string[]; rule_id?: number; role?: string; status?: string[] }

export interface ResolvedRange { from: Date; to: Date; tz: string }

/**
 * Sets the transaction's time zone to `tz` (every date_trunc, generate_series and to_char after it works
 * in local time) and resolves the range: `to` defaults to now, `from` to `DEFAULT_DAYS` before `to`; a bare
 * `to` date means the end of that day. Must run inside a transaction.
 */
export async function resolveRange(tx: Sql, q: { from?: string; to?: string; tz: string }, bucket?: Bucket): Promise<ResolvedRange> {
  try {
    await tx`select set_config('TimeZone', ${q.tz}, true)`;
  } catch (e) {
    if ((e as { code?: string }).code === '22023') throw invalid(`tz: unknown time zone ${q.tz}`, [{ path: 'tz', message: 'unknown time zone' }]);
    throw e;
  }
  const isDate = (s?: string) => !!s && /^\d{4}-\d{2}-\d{2}$/.test(s);
  const [r] = await tx<{ from: Date; to: Date }[]>`
    with t as (
      select case when ${q.to ?? null}::text is null then now()
                  when ${isDate(q.to)} then (${q.to ?? null}::text::date + 1)::timestamptz
                  else ${q.to ?? null}::text::timestamptz end as to_ts
    )
    select case when ${q.from ?? null}::text is null then t.to_ts - make_interval(days => ${DEFAULT_DAYS})
                else ${q.from ?? null}::text::timestamptz end as "from",
           t.to_ts as "to"
    from t`.catch((e: { code?: string }) => {
    // Valid ISO 8601 that Postgres cannot hold (year 0000, beyond 294276).
    if (e.code?.startsWith('22')) throw invalid('from/to: a date Herald cannot work with', [{ path: q.from ? 'from' : 'to', message: 'out of range' }]);
    throw e;
  });
  if (r.from.getTime() > r.to.getTime()) throw invalid('from: must not be after to', [{ path: 'from', message: 'after to' }]);
  if (bucket) {
    const points = Math.ceil((r.to.getTime() - r.from.getTime()) / 1000 / BUCKET_SECONDS[bucket]) + 1;
    if (points > MAX_BUCKETS) {
      throw invalid(`bucket: ${bucket} buckets over this range would be ${points} points (at most ${MAX_BUCKETS}); use a larger bucket or a shorter range`,
        [{ path: 'bucket', message: `more than ${MAX_BUCKETS} points` }]);
    }
  }
  return { from: r.from, to: r.to, tz: q.tz };
}
