// SOP checklist progress, per alert: which steps are ticked and who ticked them. Saved on the server so the
// next person to pick the alert up (after an escalation, or on another phone) sees what was already done.
import { z } from 'zod';
import type { Herald } from '../herald';
import type { Sql } from '../platform/sql';
import { actorRef, require, type Actor } from '../actor';
import { conflict, invalid, notFound, parse } from '../errors';
import { ALERT_CHANNEL } from '../model/alert';
import type { ActorRef, SopView } from '../model/alert';

export interface SopTick {
  step: number;
  by: ActorRef;
  at: string;
}

export interface SopProgress {
  /** Ticked step indexes (0-based, ascending). */
  checked: number[];
  /** The same steps with who ticked each and when. */
  ticks: SopTick[];
}

export const SopTickSchema = z.object({ checked: z.boolean() }).strict();

export async function sopProgress(sql: Sql, orgId: number, alertId: number): Promise<SopProgress> {
  const rows = await sql<{ step: number; checked_by: ActorRef; checked_at: Date }[]>`
    select step, checked_by, checked_at from sop_progress where org_id = ${orgId} and alert_id = ${alertId} order by step`;
  return { checked: rows.map((r) => r.step), ticks: rows.map((r) => ({ step: r.step, by: r.checked_by, at: r.checked_at.toISOString() })) };
}

/** Ticked steps of many alerts at once (the live stream sends them with each alert). */
export async function sopCheckedMany(sql: Sql, alertIds: number[]): Promise<Map<number, number[]>> {
  const out = new Map<number, number[]>();
  if (!alertIds.length) return out;
  const rows = await sql<{ alert_id: number; steps: number[] }[]>`
    select alert_id, array_agg(step order by step) as steps from sop_progress where alert_id = any(${alertIds}::bigint[]) group by alert_id`;
  for (const r of rows) out.set(Number(r.alert_id), r.steps.map(Number));
  return out;
}

export function parseStep(raw: string): number {
  if (!/^\d{1,4}$/.test(raw)) throw invalid(`step: "${raw}" is not a step number (0 is the first step)`, [{ path: 'step', message: 'not a step number' }]);
  return Number(raw);
}

/**
 * Ticks or unticks one step. The alert must have an SOP with that step and must not be resolved (a closed
 * alert's checklist is a record). Open live views are told, as for any change of the alert.
 */
export async function setSopStep(h: Herald, actor: Actor, alertId: number, step: number, input: unknown): Promise<SopProgress> {
  require(actor, 'alerts:act');
  const { checked } = parse(SopTickSchema, input);
  const by = actorRef(actor);
  return h.sql.begin(async (tx) => {
    // `for share`: a concurrent resolve waits for this tick (or this tick sees the alert resolved).
    const [a] = await tx<{ status: string; sop: SopView | null }[]>`
      select status, sop from alerts where org_id = ${actor.orgId} and id = ${alertId} for share`;
    if (!a) throw notFound(`Alert ${alertId}`);
    if (!a.sop) throw invalid(`Alert ${alertId} has no SOP checklist`, [{ path: 'step', message: 'no SOP' }]);
    const steps = a.sop.steps ?? [];
    if (step >= steps.length) throw invalid(`step: the SOP "${a.sop.title}" has ${steps.length} step${steps.length === 1 ? '' : 's'} (0 to ${steps.length - 1})`, [{ path: 'step', message: 'no such step' }]);
    if (a.status === 'resolved') throw conflict(`Alert ${alertId} is resolved; its checklist is closed`);
    if (checked) {
      await tx`insert into sop_progress (org_id, alert_id, step, checked_by) values (${actor.orgId}, ${alertId}, ${step}, ${by as never})
        on conflict (alert_id, step) do nothing`;
    } else {
      await tx`delete from sop_progress where org_id = ${actor.orgId} and alert_id = ${alertId} and step = ${step}`;
    }
    await tx`select pg_notify(${ALERT_CHANNEL}, ${`${actor.orgId}:${alertId}`})`;
    return sopProgress(tx, actor.orgId, alertId);
  });
}
