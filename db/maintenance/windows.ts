// Maintenance windows: while a window is open, the events it matches are kept with status `suppressed` (and
// `maintenance_id`) and notify nobody; resolving events still resolve, and alerts already open keep
// escalating unless the window says `pause_escalation` (their timers then wait for the window's end).
// Only this folder queries `maintenance_windows`.
import { z } from 'zod';
import { parseCronItem } from 'graphile-worker';
import type { Herald } from '../herald';
import type { Sql } from '../platform/sql';
import { require, type Actor } from '../actor';
import { notFound, parse } from '../errors';
import { ConditionSchema, type MatchableEvent } from '../rules/schema';
import { conditionHolds } from '../rules/match';
import { recordAudit } from '../audit/record';

const slug = z.string().min(1).max(64).regex(/^[a-z0-9][a-z0-9_.-]*$/, 'use lowercase letters, digits, _ . -');
const MAX_DURATION = 7 * 24 * 60;

function cronIssue(expr: string): string | null {
  if (expr.trim().split(/\s+/).length !== 5) return 'use five fields: minute hour day-of-month month day-of-week (UTC)';
  try {
    parseCronItem({ task: 'maintenance', match: expr.trim() });
    return null;
  } catch (e) {
    return (e as Error).message.slice(0, 200);
  }
}

const Base = z.object({
  name: z.string().trim().min(1).max(200),
  starts_at: z.iso.datetime({ offset: true }).nullish(),
  ends_at: z.iso.datetime({ offset: true }).nullish(),
  cron: z.string().max(200).nullish(),
  duration_minutes: z.number().positive().max(MAX_DURATION).nullish(),
  match: z.object({ category: slug.optional(), type: slug.optional(), conditions: z.array(ConditionSchema).max(50).optional() }).strict().default({}),
  /** Also hold the escalation of matching alerts already open until the window ends. */
  pause_escalation: z.boolean().default(false),
}).strict();

type WindowInput = z.output<typeof Base>;

function check(w: WindowInput, ctx: z.RefinementCtx) {
  if (w.cron) {
    const bad = cronIssue(w.cron);
    if (bad) ctx.addIssue({ code: 'custom', path: ['cron'], message: bad });
    if (!w.duration_minutes) ctx.addIssue({ code: 'custom', path: ['duration_minutes'], message: 'a recurring window needs duration_minutes' });
  } else {
    if (w.duration_minutes) ctx.addIssue({ code: 'custom', path: ['cron'], message: 'duration_minutes goes with cron' });
    if (!w.starts_at) ctx.addIssue({ code: 'custom', path: ['starts_at'], message: 'give starts_at and ends_at, or cron and duration_minutes' });
    if (!w.ends_at) ctx.addIssue({ code: 'custom', path: ['ends_at'], message: 'give starts_at and ends_at, or cron and duration_minutes' });
  }
  if (w.starts_at && w.ends_at && Date.parse(w.ends_at) <= Date.parse(w.starts_at)) {
    ctx.addIssue({ code: 'custom', path: ['ends_at'], message: 'the window ends before it starts' });
  }
}

export const MaintenanceInputSchema = Base.superRefine(check);

interface Row { id: number; org_id: number; name: string; starts_at: Date | null; ends_at: Date | null; cron: string | null;
  duration_minutes: number | null; match: { category?: string; type?: string; conditions?: z.output<typeof ConditionSchema>[] }; pause_escalation: boolean;
  created_at: Date; updated_at: Date }

const view = (r: Row) => ({
  id: Number(r.id), name: r.name, starts_at: r.starts_at?.toISOString() ?? null, ends_at: r.ends_at?.toISOString() ?? null, cron: r.cron,
  duration_minutes: r.duration_minutes, match: r.match, pause_escalation: r.pause_escalation, active: isOpen(r, new Date()), created_at: r.created_at.toISOString(), updated_at: r.updated_at.toISOString(),
});

export async function createMaintenance(h: Herald, actor: Actor, input: unknown) {
  require(actor, 'integrations:write');
  const w = parse(MaintenanceInputSchema, input);
  return h.sql.begin(async (tx) => {
    const [row] = await tx<Row[]>`
      insert into maintenance_windows (org_id, name, starts_at, ends_at, cron, duration_minutes, match, pause_escalation)
      values (${actor.orgId}, ${w.name}, ${w.starts_at ?? null}, ${w.ends_at ?? null}, ${w.cron?.trim() || null}, ${w.cron ? w.duration_minutes ?? null : null}, ${w.match as never},
        ${w.pause_escalation})
      returning *`;
    await recordAudit(tx, actor, 'maintenance.created', { kind: 'maintenance', id: Number(row.id), label: row.name }, { after: view(row) });
    return view(row);
  });
}

export async function listMaintenance(h: Herald, actor: Actor) {
  require(actor, 'alerts:read');
  return (await h.sql<Row[]>`select * from maintenance_windows where org_id = ${actor.orgId} order by id`).map(view);
}

export async function getMaintenance(h: Herald, actor: Actor, id: number) {
  require(actor, 'alerts:read');
  const [row] = await h.sql<Row[]>`select * from maintenance_windows where org_id = ${actor.orgId} and id = ${id}`;
  if (!row) throw notFound(`Maintenance window ${id}`);
  return view(row);
}

/**
 * Deletes a window. `resumePaused` (db/escalation, passed in by the router so this folder never imports the
 * escalation folder that reads windows) moves the timers of the alerts it was pausing to now, in the same
 * transaction: a window taken down early ends its pause at once.
 */
export async function deleteMaintenance(h: Herald, actor: Actor, id: number,
  resumePaused: (tx: Sql, orgId: number, windowId: number) => Promise<unknown> = async () => {}) {
  require(actor, 'integrations:write');
  await h.sql.begin(async (tx) => {
    const [row] = await tx<Row[]>`delete from maintenance_windows where org_id = ${actor.orgId} and id = ${id} returning *`;
    if (!row) throw notFound(`Maintenance window ${id}`);
    await recordAudit(tx, actor, 'maintenance.deleted', { kind: 'maintenance', id, label: row.name }, { before: view(row) });
    if (row.pause_escalation) await resumePaused(tx, actor.orgId, id);
  });
}

const matchers = new Map<string, (d: { min: number; hour: number; date: number; month: number; dow: number }) => boolean>();
function cronMatcher(expr: string) {
  let m = matchers.get(expr);
  if (!m) {
    m = parseCronItem({ task: 'maintenance', match: expr }).match;
    if (matchers.size > 1000) matchers.clear();
    matchers.set(expr, m);
  }
  return m;
}

/**
 * When the window that is open at `now` closes, or null when it is not open: inside starts_at..ends_at, or
 * (recurring) within duration_minutes of a cron tick (UTC) inside those bounds, closing at that tick's end
 * (or ends_at, whichever comes first).
 */
export function openUntil(w: Pick<Row, 'starts_at' | 'ends_at' | 'cron' | 'duration_minutes'>, now: Date): Date | null {
  const t = now.getTime();
  if (w.starts_at && t < w.starts_at.getTime()) return null;
  if (w.ends_at && t >= w.ends_at.getTime()) return null;
  const end = (ms: number) => new Date(w.ends_at ? Math.min(ms, w.ends_at.getTime()) : ms);
  // A one-off window closes at ends_at (validated present); the far future stands in for "never".
  if (!w.cron) return end(8.64e15);
  const match = cronMatcher(w.cron);
  const minute = Math.floor(t / 60_000) * 60_000;
  const span = Math.ceil(w.duration_minutes ?? 0);
  for (let i = 0; i <= span; i++) {
    const tick = minute - i * 60_000;
    if (t >= tick + (w.duration_minutes ?? 0) * 60_000) break;
    if (w.starts_at && tick < w.starts_at.getTime()) break;
    const d = new Date(tick);
    if (match({ min: d.getUTCMinutes(), hour: d.getUTCHours(), date: d.getUTCDate(), month: d.getUTCMonth() + 1, dow: d.getUTCDay() })) {
      return end(tick + (w.duration_minutes ?? 0) * 60_000);
    }
  }
  return null;
}

/** Open at `now` (see openUntil). */
export function isOpen(w: Pick<Row, 'starts_at' | 'ends_at' | 'cron' | 'duration_minutes'>, now: Date): boolean {
  return openUntil(w, now) !== null;
}

export function windowMatches(w: Pick<Row, 'match'>, e: MatchableEvent): boolean {
  const m = w.match ?? {};
  if (m.category && m.category !== e.category) return false;
  if (m.type && m.type !== e.type) return false;
  return (m.conditions ?? []).every((c) => conditionHolds(c, e));
}

/** The windows of an org open now (read by the routing transaction once per batch). */
export async function openWindows(tx: Sql, orgId: number): Promise<Row[]> {
  const rows = await tx<Row[]>`
    select * from maintenance_windows where org_id = ${orgId}
      and (starts_at is null or starts_at <= now()) and (ends_at is null or ends_at > now())`;
  const now = new Date();
  return rows.filter((w) => isOpen(w, now));
}

/**
 * The open window that pauses this alert's escalation now (`pause_escalation`, matching it as it would match
 * its event), with when it closes; the latest-closing one when several do. A window with neither ends_at nor
 * cron never closes by itself: the pause lasts until it is deleted, re-checked daily.
 */
export async function pausingWindow(tx: Sql, orgId: number, alert: MatchableEvent): Promise<{ id: number; name: string; until: Date } | null> {
  const rows = await tx<Row[]>`
    select * from maintenance_windows where org_id = ${orgId} and pause_escalation
      and (starts_at is null or starts_at <= now()) and (ends_at is null or ends_at > now())`;
  const now = new Date();
  let best: { id: number; name: string; until: Date } | null = null;
  for (const w of rows) {
    if (!windowMatches(w, alert)) continue;
    const until = openUntil(w, now);
    if (!until) continue;
    const capped = new Date(Math.min(until.getTime(), now.getTime() + 86_400_000));
    if (!best || capped > best.until) best = { id: Number(w.id), name: w.name, until: capped };
  }
  return best;
}
