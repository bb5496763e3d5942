// Preferences storage. Only this folder writes user_preferences (planning reads it joined with the people
// it plans for: db/messages/plan.ts). The next digest's instant is computed by Postgres in the person's
// time zone, so "08:00" stays 08:00 local across daylight-saving changes.
import type { Sql } from '../platform/sql';
import type { Preferences } from '../model/preferences';
import { DEFAULT_PREFERENCES } from '../model/preferences';

/** SQL for the next digest instant after now() for a frequency/at/timezone (weekly: Mondays). */
export const NEXT_DIGEST_SQL = (freq: string, at: string, tz: string) => `
  case ${freq} when 'daily' then
    (((now() at time zone ${tz})::date + case when (now() at time zone ${tz})::time < ${at} then 0 else 1 end) + ${at}) at time zone ${tz}
  when 'weekly' then
    ((date_trunc('week', now() at time zone ${tz})::date + case when date_trunc('week', now() at time zone ${tz})::date + ${at} > (now() at time zone ${tz}) then 0 else 7 end) + ${at}) at time zone ${tz}
  end`;

/** The person's preferences (defaults when they saved none) and their time zone, in one statement; null for no such live user. */
export async function readPreferences(sql: Sql, orgId: number, userId: number): Promise<{ timezone: string; prefs: Preferences & { digest_next_at: string | null } } | null> {
  const [p] = await sql<Record<string, any>[]>`
    select u.timezone, p.user_id as saved, p.channels, to_char(p.quiet_start, 'HH24:MI') as qs, to_char(p.quiet_end, 'HH24:MI') as qe,
      p.quiet_except, p.digest_frequency, to_char(p.digest_at, 'HH24:MI') as digest_at, p.digest_next_at
    from users u left join user_preferences p on p.user_id = u.id
    where u.org_id = ${orgId} and u.id = ${userId} and u.deleted_at is null`;
  if (!p) return null;
  if (p.saved === null) return { timezone: p.timezone, prefs: { ...DEFAULT_PREFERENCES, digest_next_at: null } };
  return {
    timezone: p.timezone,
    prefs: {
      channels: p.channels,
      quiet_hours: p.qs ? { start: p.qs, end: p.qe, except: p.quiet_except } : null,
      digest: { frequency: p.digest_frequency, at: p.digest_at },
      digest_next_at: p.digest_next_at ? new Date(p.digest_next_at).toISOString() : null,
    },
  };
}

export async function writePreferences(sql: Sql, orgId: number, userId: number, p: Preferences): Promise<void> {
  await sql.unsafe(`
    insert into user_preferences (user_id, org_id, channels, quiet_start, quiet_end, quiet_except, digest_frequency, digest_at, digest_next_at, updated_at)
    select u.id, u.org_id, $3::text::jsonb, $4::time, $5::time, $6::text[], $7, $8::time,
      -- Turning the digest off while messages wait for it: one last digest, now, covers them.
      coalesce(${NEXT_DIGEST_SQL('$7::text', '$8::time', 'u.timezone')},
        case when exists (select 1 from messages m where m.user_id = u.id and m.status = 'held_digest') then now() end), now()
    from users u where u.org_id = $1 and u.id = $2
    on conflict (user_id) do update set channels = excluded.channels, quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end,
      quiet_except = excluded.quiet_except, digest_frequency = excluded.digest_frequency, digest_at = excluded.digest_at,
      digest_next_at = excluded.digest_next_at, updated_at = now()`,
  [orgId, userId, JSON.stringify(p.channels), p.quiet_hours?.start ?? null, p.quiet_hours?.end ?? null,
    p.quiet_hours?.except ?? ['critical'], p.digest.frequency, p.digest.at] as never[]);
}
