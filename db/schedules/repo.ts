// Schedules storage and the on-call arithmetic. Only this folder queries schedules, schedule_rotations and
// schedule_overrides. Time arithmetic runs in Postgres (its IANA time-zone database): a shift boundary is
// the rotation's first hand-off plus whole shifts of wall-clock hours, as a local timestamp, turned into an
// instant with `AT TIME ZONE`. So a 09:00 hand-off is 09:00 local on both sides of a daylight-saving change
// (that shift is 23 or 25 real hours long). The same function (`herald_oncall`, migration 00014) answers
// the API and routing, which resolves every schedule of a batch in one call.
import type { Sql } from '../platform/sql';
import type { OverrideInput, ScheduleInput, Shift } from './schema';
import { shiftHours } from './schema';

export interface RotationView { users: number[]; shift: Shift; handoff: string; starts_on: string }
export interface OverrideView { id: number; user_id: number; name: string | null; starts_at: string; ends_at: string }
export interface ScheduleView {
  id: number; name: string; timezone: string; rotations: RotationView[]; overrides: OverrideView[];
  created_at: string; updated_at: string;
}

const iso = (d: Date | string) => (d instanceof Date ? d : new Date(d)).toISOString();

async function loadParts(sql: Sql, ids: number[]) {
  if (!ids.length) return { rotations: [], overrides: [] };
  const [rotations, overrides] = await Promise.all([
    sql<{ schedule_id: number; user_ids: number[]; shift: string; shift_hours: number; handoff: string; starts_on: string }[]>`
      select schedule_id, user_ids, shift, shift_hours, to_char(handoff, 'HH24:MI') as handoff, to_char(starts_on, 'YYYY-MM-DD') as starts_on
      from schedule_rotations where schedule_id = any(${ids}::bigint[]) order by schedule_id, position`,
    sql<{ id: number; schedule_id: number; user_id: number; name: string | null; starts_at: Date; ends_at: Date }[]>`
      select o.id, o.schedule_id, o.user_id, u.name, o.starts_at, o.ends_at
      from schedule_overrides o left join users u on u.id = o.user_id
      where o.schedule_id = any(${ids}::bigint[]) order by o.schedule_id, o.starts_at, o.id`,
  ]);
  return { rotations, overrides };
}

export async function listSchedules(sql: Sql, orgId: number, ids?: number[]): Promise<ScheduleView[]> {
  const rows = await sql<{ id: number; name: string; timezone: string; created_at: Date; updated_at: Date }[]>`
    select id, name, timezone, created_at, updated_at from schedules
    where org_id = ${orgId} ${ids ? sql`and id = any(${ids}::bigint[])` : sql``} order by name, id`;
  const parts = await loadParts(sql, rows.map((r) => Number(r.id)));
  return rows.map((r) => ({
    id: Number(r.id), name: r.name, timezone: r.timezone,
    rotations: parts.rotations.filter((x) => Number(x.schedule_id) === Number(r.id)).map((x) => ({
      users: x.user_ids.map(Number),
      shift: x.shift === 'hours' ? { hours: x.shift_hours } : (x.shift as 'daily' | 'weekly'),
      handoff: x.handoff, starts_on: x.starts_on,
    })),
    overrides: parts.overrides.filter((x) => Number(x.schedule_id) === Number(r.id)).map((x) => ({
      id: Number(x.id), user_id: Number(x.user_id), name: x.name, starts_at: iso(x.starts_at), ends_at: iso(x.ends_at),
    })),
    created_at: iso(r.created_at), updated_at: iso(r.updated_at),
  }));
}

export async function getSchedule(sql: Sql, orgId: number, id: number): Promise<ScheduleView | null> {
  return (await listSchedules(sql, orgId, [id]))[0] ?? null;
}

/** A schedule's time zone (null when the org has no such schedule): the one-row check `/oncall` and `/shifts` need. */
export async function scheduleZone(sql: Sql, orgId: number, id: number): Promise<string | null> {
  const [r] = await sql<{ timezone: string }[]>`select timezone from schedules where org_id = ${orgId} and id = ${id}`;
  return r?.timezone ?? null;
}

/** Names of schedules by id (rule previews). */
export async function scheduleNames(sql: Sql, orgId: number, ids: number[]): Promise<Map<number, string>> {
  if (!ids.length) return new Map();
  const rows = await sql<{ id: number; name: string }[]>`select id, name from schedules where org_id = ${orgId} and id = any(${ids}::bigint[])`;
  return new Map(rows.map((r) => [Number(r.id), r.name]));
}

/** The ids among `ids` that are not schedules of the org (rules naming them are refused). */
export async function unknownSchedules(sql: Sql, orgId: number, ids: number[]): Promise<number[]> {
  if (!ids.length) return [];
  const known = new Set((await sql<{ id: number }[]>`select id from schedules where org_id = ${orgId} and id = any(${ids}::bigint[])`).map((r) => Number(r.id)));
  return ids.filter((i) => !known.has(i));
}

/** Does Postgres know the zone? (Intl and Postgres ship their own tz databases; both must agree.) */
export async function postgresKnowsZone(sql: Sql, tz: string): Promise<boolean> {
  const [r] = await sql<{ ok: boolean }[]>`select exists (select 1 from pg_timezone_names where name = ${tz}) as ok`;
  return r.ok;
}

async function writeParts(sql: Sql, orgId: number, id: number, s: ScheduleInput, createdBy: Record<string, unknown>) {
  await sql`delete from schedule_rotations where schedule_id = ${id}`;
  if (s.rotations.length) {
    const rows = s.rotations.map((r, i) => ({
      org_id: orgId, schedule_id: id, position: i, user_ids: r.users, shift: typeof r.shift === 'string' ? r.shift : 'hours',
      shift_hours: shiftHours(r.shift), handoff: r.handoff, starts_on: r.starts_on,
    }));
    await sql`
      insert into schedule_rotations (org_id, schedule_id, position, user_ids, shift, shift_hours, handoff, starts_on)
      select org_id, schedule_id, position, array(select jsonb_array_elements_text(user_ids)::bigint), shift, shift_hours, handoff::time, starts_on::date
      from json_to_recordset(${JSON.stringify(rows)}::text::json)
        as t(org_id bigint, schedule_id bigint, position int, user_ids jsonb, shift text, shift_hours int, handoff text, starts_on text)`;
  }
  await sql`delete from schedule_overrides where schedule_id = ${id}`;
  await insertOverrides(sql, orgId, id, s.overrides, createdBy);
}

export async function insertOverrides(sql: Sql, orgId: number, id: number, overrides: OverrideInput[], createdBy: Record<string, unknown>): Promise<number[]> {
  if (!overrides.length) return [];
  const rows = await sql<{ id: number }[]>`
    insert into schedule_overrides (org_id, schedule_id, user_id, starts_at, ends_at, created_by)
    select ${orgId}, ${id}, user_id, starts_at, ends_at, ${createdBy as never}::jsonb
    from json_to_recordset(${JSON.stringify(overrides)}::text::json) as t(user_id bigint, starts_at timestamptz, ends_at timestamptz)
    returning id`;
  return rows.map((r) => Number(r.id));
}

export async function insertSchedule(sql: Sql, orgId: number, s: ScheduleInput, createdBy: Record<string, unknown>): Promise<number> {
  const [row] = await sql<{ id: number }[]>`insert into schedules (org_id, name, timezone) values (${orgId}, ${s.name}, ${s.timezone}) returning id`;
  await writeParts(sql, orgId, Number(row.id), s, createdBy);
  return Number(row.id);
}

export async function replaceSchedule(sql: Sql, orgId: number, id: number, s: ScheduleInput, createdBy: Record<string, unknown>): Promise<boolean> {
  const r = await sql`update schedules set name = ${s.name}, timezone = ${s.timezone}, updated_at = now() where org_id = ${orgId} and id = ${id}`;
  if (!r.count) return false;
  await writeParts(sql, orgId, id, s, createdBy);
  return true;
}

export async function lockSchedule(sql: Sql, orgId: number, id: number): Promise<boolean> {
  const [r] = await sql`select id from schedules where org_id = ${orgId} and id = ${id} for update`;
  return Boolean(r);
}

export async function deleteScheduleRow(sql: Sql, orgId: number, id: number): Promise<boolean> {
  return (await sql`delete from schedules where org_id = ${orgId} and id = ${id}`).count > 0;
}

export async function deleteOverrideRow(sql: Sql, orgId: number, scheduleId: number, overrideId: number): Promise<boolean> {
  return (await sql`delete from schedule_overrides where org_id = ${orgId} and schedule_id = ${scheduleId} and id = ${overrideId}`).count > 0;
}

/** Who is on call in each schedule at `at` (one statement for any number of schedules). */
export async function onCallAt(sql: Sql, scheduleIds: number[], at: Date): Promise<Array<{ schedule_id: number; user_id: number; name: string }>> {
  if (!scheduleIds.length) return [];
  const rows = await sql<{ schedule_id: number; user_id: number; name: string }[]>`
    select o.schedule_id, o.user_id, u.name from herald_oncall(${scheduleIds}::bigint[], ${at}) o join users u on u.id = o.user_id
    order by o.schedule_id, u.name, o.user_id`;
  return rows.map((r) => ({ schedule_id: Number(r.schedule_id), user_id: Number(r.user_id), name: r.name }));
}

export interface ShiftRow { user_id: number; name: string; starts_at: Date; ends_at: Date; override: boolean }

/**
 * The rotations' shifts overlapping [from, to), with every override carved out of them and listed itself
 * (an override replaces the whole schedule while it lasts, as `herald_oncall` decides).
 */
export async function shiftsBetween(sql: Sql, scheduleId: number, from: Date, to: Date): Promise<ShiftRow[]> {
  const [rot, ov] = await Promise.all([
    sql<{ user_id: number; name: string; starts_at: Date; ends_at: Date }[]>`
      select x.user_id, u.name, x.starts_at, x.ends_at from (
        select r.user_ids[1 + (g.n % cardinality(r.user_ids))::int] as user_id,
          ((r.starts_on + r.handoff) + make_interval(hours => (g.n * r.shift_hours)::int)) at time zone s.timezone as starts_at,
          ((r.starts_on + r.handoff) + make_interval(hours => ((g.n + 1) * r.shift_hours)::int)) at time zone s.timezone as ends_at
        from schedule_rotations r join schedules s on s.id = r.schedule_id
        cross join lateral generate_series(
          greatest(0, floor(extract(epoch from ((${from} at time zone s.timezone) - (r.starts_on + r.handoff))) / (r.shift_hours * 3600)))::bigint,
          floor(extract(epoch from ((${to} at time zone s.timezone) - (r.starts_on + r.handoff))) / (r.shift_hours * 3600))::bigint) g(n)
        where r.schedule_id = ${scheduleId}
      ) x join users u on u.id = x.user_id and u.deleted_at is null
      where x.starts_at < ${to} and x.ends_at > ${from}`,
    sql<{ user_id: number; name: string; starts_at: Date; ends_at: Date }[]>`
      select o.user_id, u.name, o.starts_at, o.ends_at from schedule_overrides o join users u on u.id = o.user_id and u.deleted_at is null
      where o.schedule_id = ${scheduleId} and o.starts_at < ${to} and o.ends_at > ${from}`,
  ]);
  const out: ShiftRow[] = [];
  const cuts = ov.map((o) => [o.starts_at.getTime(), o.ends_at.getTime()] as const).sort((a, b) => a[0] - b[0]);
  for (const s of rot) {
    // Subtract every override interval from the shift; what is left are the pieces the rotation keeps.
    let pieces: Array<[number, number]> = [[s.starts_at.getTime(), s.ends_at.getTime()]];
    for (const [a, b] of cuts) {
      pieces = pieces.flatMap(([x, y]) => (b <= x || a >= y ? [[x, y]] : [...(a > x ? [[x, a]] : []), ...(b < y ? [[b, y]] : [])]) as Array<[number, number]>);
    }
    for (const [x, y] of pieces) out.push({ user_id: Number(s.user_id), name: s.name, starts_at: new Date(x), ends_at: new Date(y), override: false });
  }
  for (const o of ov) out.push({ user_id: Number(o.user_id), name: o.name, starts_at: o.starts_at, ends_at: o.ends_at, override: true });
  return out.sort((a, b) => a.starts_at.getTime() - b.starts_at.getTime() || a.ends_at.getTime() - b.ends_at.getTime() || a.user_id - b.user_id);
}

/** The live users of the org among `ids` (a rotation or override naming someone else is refused). */
export async function knownUsers(sql: Sql, orgId: number, ids: number[]): Promise<Set<number>> {
  if (!ids.length) return new Set();
  const rows = await sql<{ id: number }[]>`select id from users where org_id = ${orgId} and deleted_at is null and id = any(${ids}::bigint[])`;
  return new Set(rows.map((r) => Number(r.id)));
}
