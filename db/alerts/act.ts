// The verbs people use on an alert, from every channel: acknowledge, resolve, snooze.
// Each checks permission, settles the race in the UPDATE's WHERE clause (no row = someone else got there
// first: a 409 that says who), and in the same transaction writes the timeline row, cancels or moves the
// escalation timer, queues edits of every posted message and tells the webhooks. The timeline row of each
// keeps what the change overwrote (`detail.before`), which is what undo (./together.ts) puts back.
import { z } from 'zod';
import { text } from '../platform/input';
import type { Herald } from '../herald';
import type { Sql } from '../platform/sql';
import { actorRef, require, type Actor } from '../actor';
import { conflict, forbidden, notFound, parse } from '../errors';
import { addJobs, escalationKey, job, removeJobs, type JobSpec } from '../jobs/enqueue';
import { applyEffects, type Change } from './effects';
import { toAlertView } from '../model/alert';
import { type AlertRow, type AlertView, type ActorRef } from '../model/alert';
import { acknowledgeAlerts, resolveAlerts, snoozeAlert, type ChangedRow } from './transitions';

export type AlertAction = 'ack' | 'resolve' | 'snooze';

export const SnoozeSchema = z.object({ minutes: z.number().positive().max(60 * 24 * 7) }).strict();

function describe(by: ActorRef | null): string {
  return by ? ` by ${by.name}` : '';
}

async function explainNoRow(sql: Sql, orgId: number, id: number, wanted: string): Promise<never> {
  const [a] = await sql<AlertRow[]>`select * from alerts where org_id = ${orgId} and id = ${id}`;
  if (!a) throw notFound(`Alert ${id}`);
  if (a.status === 'resolved') throw conflict(`Alert ${id} is already resolved${describe(a.resolved_by)}; it cannot be ${wanted}`);
  if (a.status === 'acknowledged') throw conflict(`Alert ${id} is already acknowledged${describe(a.acknowledged_by)}`);
  throw conflict(`Alert ${id} cannot be ${wanted} in state ${a.status}`);
}

/** An integration acts only on alerts of its own category (it is given alerts:write for that alone). */
async function requireOwnCategory(sql: Sql, actor: Actor, alertId: number): Promise<void> {
  if (actor.kind !== 'integration') return;
  const [a] = await sql<{ category: string }[]>`select category from alerts where org_id = ${actor.orgId} and id = ${alertId}`;
  if (!a) throw notFound(`Alert ${alertId}`);
  if (a.category !== actor.category) throw forbidden(`The integration ${actor.name} may act only on ${actor.category} alerts`);
}

/**
 * What every single-alert verb shares, in one transaction: the change settled by one UPDATE (no row: a 404
 * or a 409 that says why), then the alert's timer (cancelled, or replaced by `timer`) and the effects.
 */
async function transition(
  h: Herald, actor: Actor, alertId: number, wanted: string,
  update: (tx: Sql) => Promise<ChangedRow | undefined>,
  then: (a: ChangedRow) => { change: Omit<Change, 'alert'>; timer: 'cancel' | JobSpec },
): Promise<AlertRow> {
  await requireOwnCategory(h.sql, actor, alertId);
  return h.sql.begin(async (tx) => {
    const a = await update(tx);
    if (!a) return explainNoRow(tx, actor.orgId, alertId, wanted);
    const { change, timer } = then(a);
    if (timer === 'cancel') await removeJobs(tx, [escalationKey(alertId)]);
    const jobs = await applyEffects(tx, h, [{ alert: a, ...change }]);
    if (timer !== 'cancel') jobs.push(timer);
    await addJobs(tx, jobs);
    return a;
  });
}

export async function acknowledge(h: Herald, actor: Actor, alertId: number): Promise<AlertView> {
  require(actor, 'alerts:act');
  const ref = actorRef(actor);
  const row = await transition(h, actor, alertId, 'acknowledged',
    async (tx) => (await acknowledgeAlerts(tx, actor.orgId, ref, { ids: [alertId] }))[0],
    (a) => ({ change: { timeline: { kind: 'acknowledged', actor: ref, detail: { before: a.before } }, webhook: 'alert.acknowledged', updateMessages: true }, timer: 'cancel' }));
  return toAlertView(row, h.config.publicUrl);
}

export async function resolve(h: Herald, actor: Actor, alertId: number): Promise<AlertView> {
  require(actor, 'alerts:act');
  const ref = actorRef(actor);
  const row = await transition(h, actor, alertId, 'resolved',
    async (tx) => (await resolveAlerts(tx, actor.orgId, [alertId], ref))[0],
    (a) => ({ change: { timeline: { kind: 'resolved', actor: ref, detail: { before: a.before } }, webhook: 'alert.resolved', updateMessages: true }, timer: 'cancel' }));
  return toAlertView(row, h.config.publicUrl);
}

/** Snooze keeps the alert acknowledged until a time; then the timer reopens it and escalation resumes. */
export async function snooze(h: Herald, actor: Actor, alertId: number, input: unknown): Promise<AlertView> {
  require(actor, 'alerts:act');
  const { minutes } = parse(SnoozeSchema, input);
  const ref = actorRef(actor);
  const row = await transition(h, actor, alertId, 'snoozed',
    (tx) => snoozeAlert(tx, actor.orgId, alertId, minutes, ref),
    (a) => ({
      change: { timeline: { kind: 'snoozed', actor: ref, detail: { minutes, until: a.snoozed_until!.toISOString(), before: a.before } }, webhook: 'alert.snoozed', updateMessages: true },
      // The alert's one timer now wakes it instead of escalating it.
      timer: job('alert__escalate', { alert_id: alertId, wake: true }, { run_at: a.snoozed_until! }),
    }));
  return toAlertView(row, h.config.publicUrl);
}

export const BulkAckSchema = z
  .object({ ids: z.array(z.number().int().positive()).min(1).max(1000).optional(), category: text().min(1).max(64).optional() })
  .strict()
  .refine((b) => b.ids || b.category, { message: 'give ids or category' });

/** Acknowledges every triggered alert among the ids (or of the category) in one transaction. */
export async function bulkAcknowledge(h: Herald, actor: Actor, input: unknown): Promise<{ acknowledged: number[] }> {
  require(actor, 'alerts:act');
  const b = parse(BulkAckSchema, input);
  if (actor.kind === 'integration') {
    if (b.category && b.category !== actor.category) throw forbidden(`The integration ${actor.name} may act only on ${actor.category} alerts`);
    b.category = actor.category;
  }
  const ref = actorRef(actor);
  const rows = await h.sql.begin(async (tx) => {
    const rows = await acknowledgeAlerts(tx, actor.orgId, ref, { ids: b.ids, category: b.category });
    await removeJobs(tx, rows.map((a) => escalationKey(Number(a.id))));
    const changes: Change[] = rows.map((a) => ({ alert: a, timeline: { kind: 'acknowledged', actor: ref, detail: { bulk: true, before: a.before } }, webhook: 'alert.acknowledged', updateMessages: true }));
    await addJobs(tx, await applyEffects(tx, h, changes));
    return rows;
  });
  return { acknowledged: rows.map((a) => Number(a.id)) };
}

export async function act(h: Herald, actor: Actor, alertId: number, action: AlertAction, minutes = 60): Promise<AlertView> {
  if (action === 'ack') return acknowledge(h, actor, alertId);
  if (action === 'resolve') return resolve(h, actor, alertId);
  return snooze(h, actor, alertId, { minutes });
}
