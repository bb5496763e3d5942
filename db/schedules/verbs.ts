// Schedule verbs: permission, validation, one transaction each. Reading needs alerts:read; creating,
// changing and deleting schedules needs admin; anyone who may act on alerts may add an override for
// themselves ("I'll cover tonight"), admins for anyone.
import type { Herald } from '../herald';
import { actorRef, can, require, type Actor } from '../actor';
import { conflict, invalid, notFound, parse, type FieldError } from '../errors';
import type { Sql } from '../platform/sql';
import { AtQuerySchema, OverrideSchema, RangeQuerySchema, ScheduleInputSchema, type OverrideInput, type ScheduleInput } from './schema';
import {
  deleteOverrideRow, deleteScheduleRow, getSchedule, insertOverrides, insertSchedule, knownUsers, listSchedules, lockSchedule,
  onCallAt, postgresKnowsZone, replaceSchedule, scheduleZone, shiftsBetween, type ScheduleView,
} from './repo';
import { recordAudit } from '../audit/record';

/** The longest range `/shifts` lists at once. */
export const MAX_SHIFT_RANGE_DAYS = 93;

async function checkRefs(sql: Sql, orgId: number, s: { timezone?: string; rotations?: ScheduleInput['rotations']; overrides?: OverrideInput[] }, prefix = '') {
  const errors: FieldError[] = [];
  if (s.timezone && !(await postgresKnowsZone(sql, s.timezone))) errors.push({ path: 'timezone', message: `unknown IANA time zone ${s.timezone}` });
  const ids = [...(s.rotations ?? []).flatMap((r) => r.users), ...(s.overrides ?? []).map((o) => o.user_id)];
  const known = await knownUsers(sql, orgId, [...new Set(ids)]);
  (s.rotations ?? []).forEach((r, i) => r.users.forEach((u, j) => { if (!known.has(u)) errors.push({ path: `rotations.${i}.users.${j}`, message: `unknown user ${u}` }); }));
  (s.overrides ?? []).forEach((o, i) => { if (!known.has(o.user_id)) errors.push({ path: `${prefix}overrides.${i}.user_id`, message: `unknown user ${o.user_id}` }); });
  if (errors.length) throw invalid(`The body is invalid: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors);
}

export async function listSchedulesVerb(h: Herald, actor: Actor): Promise<ScheduleView[]> {
  require(actor, 'alerts:read');
  return listSchedules(h.sql, actor.orgId);
}

export async function getScheduleVerb(h: Herald, actor: Actor, id: number): Promise<ScheduleView> {
  require(actor, 'alerts:read');
  const s = await getSchedule(h.sql, actor.orgId, id);
  if (!s) throw notFound(`Schedule ${id}`);
  return s;
}

export async function createScheduleVerb(h: Herald, actor: Actor, input: unknown): Promise<ScheduleView> {
  require(actor, 'users:write');
  const s = parse(ScheduleInputSchema, input);
  await checkRefs(h.sql, actor.orgId, s);
  return h.sql.begin(async (tx) => {
    const id = await insertSchedule(tx, actor.orgId, s, actorRef(actor));
    const after = (await getSchedule(tx, actor.orgId, id))!;
    await recordAudit(tx, actor, 'schedule.created', { kind: 'schedule', id, label: after.name }, { after });
    return after;
  });
}

const inputOf = (s: ScheduleView): Record<string, unknown> => ({
  name: s.name, timezone: s.timezone, rotations: s.rotations,
  overrides: s.overrides.map((o) => ({ user_id: o.user_id, starts_at: o.starts_at, ends_at: o.ends_at })),
});

/** PATCH: any subset of fields; `rotations` and `overrides`, when given, replace the lists. */
export async function patchScheduleVerb(h: Herald, actor: Actor, id: number, patch: unknown): Promise<ScheduleView> {
  require(actor, 'users:write');
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) throw invalid('The body must be a JSON object of schedule fields');
  const current = await getSchedule(h.sql, actor.orgId, id);
  if (!current) throw notFound(`Schedule ${id}`);
  const merged = parse(ScheduleInputSchema, { ...inputOf(current), ...(patch as object) });
  await checkRefs(h.sql, actor.orgId, merged);
  return h.sql.begin(async (tx) => {
    if (!(await lockSchedule(tx, actor.orgId, id))) throw notFound(`Schedule ${id}`);
    const before = (await getSchedule(tx, actor.orgId, id))!;
    if (!(await replaceSchedule(tx, actor.orgId, id, merged, actorRef(actor)))) throw notFound(`Schedule ${id}`);
    const after = (await getSchedule(tx, actor.orgId, id))!;
    await recordAudit(tx, actor, 'schedule.updated', { kind: 'schedule', id, label: after.name }, { before, after });
    return after;
  });
}

/**
 * Deletes a schedule nobody routes to. `usedBy` names the rules that target it (db/rules supplies it: rules
 * import schedules, not the other way round); it runs under the schedule's row lock.
 */
export async function deleteScheduleVerb(h: Herald, actor: Actor, id: number, usedBy: (sql: Sql, orgId: number, scheduleId: number) => Promise<Array<{ id: number; name: string }>>) {
  require(actor, 'users:write');
  await h.sql.begin(async (tx) => {
    if (!(await lockSchedule(tx, actor.orgId, id))) throw notFound(`Schedule ${id}`);
    const rules = await usedBy(tx, actor.orgId, id);
    if (rules.length) throw conflict(`Schedule ${id} is still used by ${rules.length === 1 ? 'rule' : 'rules'} ${rules.map((r) => `"${r.name}" (#${r.id})`).join(', ')}; change ${rules.length === 1 ? 'it' : 'them'} first`);
    const before = (await getSchedule(tx, actor.orgId, id))!;
    await deleteScheduleRow(tx, actor.orgId, id);
    await recordAudit(tx, actor, 'schedule.deleted', { kind: 'schedule', id, label: before.name }, { before });
  });
}

/** `POST /v1/schedules/:id/overrides`: someone covers from a time to a time. */
export async function addOverrideVerb(h: Herald, actor: Actor, id: number, input: unknown): Promise<ScheduleView> {
  require(actor, 'alerts:act');
  const o = parse(OverrideSchema, input);
  if (!can(actor, 'users:write') && !(actor.kind === 'user' && actor.userId === o.user_id)) {
    throw invalid('user_id: you can only add an override for yourself', [{ path: 'user_id', message: 'only admins cover for someone else' }]);
  }
  const known = await knownUsers(h.sql, actor.orgId, [o.user_id]);
  if (!known.has(o.user_id)) throw invalid(`user_id: unknown user ${o.user_id}`, [{ path: 'user_id', message: `unknown user ${o.user_id}` }]);
  return h.sql.begin(async (tx) => {
    if (!(await lockSchedule(tx, actor.orgId, id))) throw notFound(`Schedule ${id}`);
    const [overrideId] = await insertOverrides(tx, actor.orgId, id, [o], actorRef(actor));
    const after = (await getSchedule(tx, actor.orgId, id))!;
    await recordAudit(tx, actor, 'schedule.override_added', { kind: 'schedule', id, label: after.name },
      { after: after.overrides.find((x) => x.id === overrideId) ?? { id: overrideId, ...o } });
    return after;
  });
}

export async function deleteOverrideVerb(h: Herald, actor: Actor, id: number, overrideId: number): Promise<void> {
  require(actor, 'users:write');
  await h.sql.begin(async (tx) => {
    if (!(await lockSchedule(tx, actor.orgId, id))) throw notFound(`Schedule ${id}`);
    const current = (await getSchedule(tx, actor.orgId, id))!;
    if (!(await deleteOverrideRow(tx, actor.orgId, id, overrideId))) throw notFound(`Override ${overrideId} of schedule ${id}`);
    await recordAudit(tx, actor, 'schedule.override_deleted', { kind: 'schedule', id, label: current.name },
      { before: current.overrides.find((x) => x.id === overrideId) ?? { id: overrideId } });
  });
}

/** `GET /v1/schedules/:id/oncall?at=` → `{at, users: [{id, name}]}`. */
export async function onCallVerb(h: Herald, actor: Actor, id: number, query: unknown) {
  require(actor, 'alerts:read');
  const q = parse(AtQuerySchema, query, 'query');
  if (!(await scheduleZone(h.sql, actor.orgId, id))) throw notFound(`Schedule ${id}`);
  const at = q.at ? new Date(q.at) : new Date();
  const rows = await onCallAt(h.sql, [id], at);
  return { at: at.toISOString(), users: rows.map((r) => ({ id: r.user_id, name: r.name })) };
}

/** `GET /v1/schedules/:id/shifts?from=&to=` (default: the next 7 days) → `{items: [{user_id, name, starts_at, ends_at}]}`. */
export async function shiftsVerb(h: Herald, actor: Actor, id: number, query: unknown) {
  require(actor, 'alerts:read');
  const q = parse(RangeQuerySchema, query, 'query');
  const from = q.from ? new Date(q.from) : new Date();
  const to = q.to ? new Date(q.to) : new Date(from.getTime() + 7 * 86_400_000);
  if (to <= from) throw invalid('to: must be after from', [{ path: 'to', message: 'must be after from' }]);
  if (to.getTime() - from.getTime() > MAX_SHIFT_RANGE_DAYS * 86_400_000) throw invalid(`to: a range is at most ${MAX_SHIFT_RANGE_DAYS} days`, [{ path: 'to', message: `at most ${MAX_SHIFT_RANGE_DAYS} days after from` }]);
  const timezone = await scheduleZone(h.sql, actor.orgId, id);
  if (!timezone) throw notFound(`Schedule ${id}`);
  const rows = await shiftsBetween(h.sql, id, from, to);
  return {
    from: from.toISOString(), to: to.toISOString(), timezone,
    items: rows.map((r) => ({ user_id: r.user_id, name: r.name, starts_at: r.starts_at.toISOString(), ends_at: r.ends_at.toISOString(), override: r.override })),
  };
}
