// Working on an alert together (docs/design.md "Working on an alert together"): undo one's own last action, notes,
// and assigning the alert to a person. Same shape as ./act.ts: permission first, the change settled in the
// UPDATE's WHERE clause (transitions.ts), and in the same transaction the timeline row, the timer and the
// effects (message edits, webhooks, live views).
//
// Undo invariant: an alert goes back to exactly the state the action overwrote — kept in that action's
// timeline row (`detail.before`, written by the action's own UPDATE) — and only while (1) the action is
// the alert's latest state change, (2) it is the caller's own, and (3) it is under UNDO_WINDOW_SECONDS old.
// (1) and (3) are re-checked by the UPDATE itself with the alert row locked, so an escalation, another
// person's click or a second undo that races this one either commits first (and this one answers 409) or
// waits for it. The timer is re-armed from the restored state: the escalation due at the time it was due
// before (escalation_next_at), or the end of a restored snooze.
import { z } from 'zod';
import type { Herald } from '../herald';
import { actorRef, require, type Actor } from '../actor';
import { conflict, notFound, parse } from '../errors';
import { addJobs, escalationKey, job, removeJobs, type JobSpec } from '../jobs/enqueue';
import { applyEffects, notifyLiveViews } from './effects';
import { toAlertView } from '../model/alert';
import { assignAlert, lockAlert, undoAlert } from './transitions';
import { appendTimelineReturning, lastStateChange } from '../timeline/append';
import { postedMessageIds } from '../messages/rooms';
import { CHANNEL_KINDS } from '../model/channels';
import {
  NOTE_MAX_CHARS, UNDOABLE_KINDS, UNDO_WINDOW_SECONDS,
  type ActorRef, type AlertRow, type AlertView, type PersonRef, type PriorState, type UndoableKind,
} from '../model/alert';
import type { WebhookEventType } from '../webhooks/fanout';

const PAST: Record<string, string> = {
  created: 'created', acknowledged: 'acknowledged', resolved: 'resolved', snoozed: 'snoozed',
  reopened: 'reopened', escalated: 'escalated', undone: 'an undo',
};

const sameActor = (a: Record<string, unknown>, b: Record<string, unknown>) =>
  a.kind === b.kind && a.id !== undefined && a.id !== null && Number(a.id) === Number(b.id);

/** The webhook type names the state the alert is back in; `data.undone` says it was an undo. */
function undoWebhook(undid: UndoableKind, a: AlertRow): WebhookEventType {
  if (a.status === 'triggered' || undid === 'resolved') return 'alert.reopened';
  if (a.snoozed_until && a.snoozed_until.getTime() > Date.now()) return 'alert.snoozed';
  return 'alert.acknowledged';
}

/** The timer the restored state needs: the escalation at its original due time, a snooze's end, or none. */
function timerFor(a: AlertRow): JobSpec | null {
  const id = Number(a.id);
  if (a.status === 'triggered' && a.escalation_next_at) {
    return job('alert__escalate', { alert_id: id, level: a.escalation_level + 1 }, { run_at: a.escalation_next_at });
  }
  if (a.status === 'acknowledged' && a.snoozed_until) return job('alert__escalate', { alert_id: id, wake: true }, { run_at: a.snoozed_until });
  return null;
}

/**
 * POST /v1/alerts/:id/undo: takes back the caller's own latest acknowledge, resolve or snooze of the alert
 * within UNDO_WINDOW_SECONDS. 409 when it is too late, when someone (or the timer) changed the alert
 * since, or when the latest change was not the caller's.
 */
export async function undo(h: Herald, actor: Actor, alertId: number): Promise<AlertView> {
  require(actor, 'alerts:act');
  const ref = actorRef(actor);
  const row = await h.sql.begin(async (tx) => {
    // The row lock orders this undo after any action in flight on the alert (their timeline rows are
    // then visible to the next statement).
    const locked = await lockAlert(tx, alertId);
    if (!locked || Number(locked.org_id) !== actor.orgId) throw notFound(`Alert ${alertId}`);
    const last = await lastStateChange(tx, actor.orgId, alertId);
    if (!last || !(UNDOABLE_KINDS as readonly string[]).includes(last.kind)) {
      const what = last ? PAST[last.kind] ?? last.kind : 'nothing';
      throw conflict(`Nothing to undo on alert ${alertId}: its latest change is ${what === 'an undo' ? 'already an undo' : `"${what}"`}`);
    }
    const by = (last.actor as unknown as ActorRef)?.name ?? 'someone';
    if (!sameActor(last.actor, ref)) {
      throw conflict(`Alert ${alertId} was last ${PAST[last.kind]} by ${by}; only they can undo that`);
    }
    if (last.age_s >= UNDO_WINDOW_SECONDS) {
      throw conflict(`Too late to undo: alert ${alertId} was ${PAST[last.kind]} ${Math.floor(last.age_s)} s ago (undo works for ${UNDO_WINDOW_SECONDS} s)`);
    }
    const before = last.detail?.before as PriorState | undefined;
    if (!before || typeof before !== 'object' || !before.status) {
      throw conflict(`Alert ${alertId} was ${PAST[last.kind]} before undo existed; there is nothing recorded to go back to`);
    }
    const a = await undoAlert(tx, actor.orgId, alertId, last.id, before);
    // Unreachable while the lock is held, kept as the WHERE clause's answer: too late or changed since.
    if (!a) throw conflict(`Alert ${alertId} changed or the undo window closed; nothing was undone`);
    const undid = last.kind as UndoableKind;
    const timer = timerFor(a);
    if (!timer) await removeJobs(tx, [escalationKey(alertId)]);
    const jobs = await applyEffects(tx, h, [{
      alert: a,
      timeline: { kind: 'undone', actor: ref, detail: { undid, timeline_id: last.id, status: a.status } },
      webhook: undoWebhook(undid, a),
      updateMessages: true,
      extra: { undone: { action: undid, timeline_id: last.id } },
    }]);
    if (timer) jobs.push(timer);
    await addJobs(tx, jobs);
    return a;
  });
  return toAlertView(row, h.config.publicUrl);
}

// ------------------------------------------------------------------------------------------------ notes

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const NoteSchema = z.object({
  text: z.string()
    .refine((s) => s.trim().length > 0, 'must not be empty')
    .refine((s) => [...s].length <= NOTE_MAX_CHARS, `must be at most ${NOTE_MAX_CHARS} characters`)
    .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters')
    .refine((s) => !LONE_SURROGATE.test(s), 'must be valid Unicode (no lone surrogates)'),
}).strict();

export interface NoteView {
  id: number;
  alert_id: number;
  text: string;
  actor: ActorRef;
  at: string;
}

/**
 * POST /v1/alerts/:id/notes: a `noted` timeline row with the actor, and one `alert__note` job per posted
 * Slack or Discord message of the alert (a thread reply there), queued in the same transaction so the
 * request never waits on a provider. Messages posted after the note do not get it (they show the alert).
 */
export async function addNote(h: Herald, actor: Actor, alertId: number, input: unknown): Promise<NoteView> {
  require(actor, 'alerts:act');
  const { text } = parse(NoteSchema, input);
  const ref = actorRef(actor);
  return h.sql.begin(async (tx) => {
    const [a] = await tx<AlertRow[]>`select * from alerts where org_id = ${actor.orgId} and id = ${alertId} for share`;
    if (!a) throw notFound(`Alert ${alertId}`);
    const [row] = await appendTimelineReturning(tx, [{ org_id: actor.orgId, alert_id: alertId, kind: 'noted', actor: ref, detail: { text } }]);
    const threaded = CHANNEL_KINDS.filter((k) => h.channels[k].enabled && h.channels[k].updatable);
    const messages = await postedMessageIds(tx, alertId, threaded);
    await addJobs(tx, messages.map((m) => job('alert__note', { alert_id: alertId, note_id: row.id, message_id: m })));
    await notifyLiveViews(tx, [a]);
    return { id: row.id, alert_id: alertId, text, actor: ref as unknown as ActorRef, at: row.at.toISOString() };
  });
}

// ------------------------------------------------------------------------------------------------ assign

export const AssignSchema = z.object({ user_id: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).nullable() }).strict();

/**
 * POST /v1/alerts/:id/assign {user_id | null}: `assigned_to` on the alert, an `assigned` timeline row
 * (from whom to whom, by whom), and every posted message edited to say "Assigned to …". Assigning to the
 * person already assigned changes nothing and writes nothing. Unknown user: 404; resolved alert: 409.
 */
export async function assign(h: Herald, actor: Actor, alertId: number, input: unknown): Promise<AlertView> {
  require(actor, 'alerts:act');
  const { user_id: userId } = parse(AssignSchema, input);
  const ref = actorRef(actor);
  const row = await h.sql.begin(async (tx) => {
    const current = await lockAlert(tx, alertId);
    if (!current || Number(current.org_id) !== actor.orgId) throw notFound(`Alert ${alertId}`);
    if ((current.assigned_to === null ? null : Number(current.assigned_to)) === userId) return current;
    const a = await assignAlert(tx, actor.orgId, alertId, userId);
    if (!a) {
      if (current.status === 'resolved') throw conflict(`Alert ${alertId} is resolved; it cannot be assigned`);
      throw notFound(`User ${userId}`);
    }
    const from: PersonRef | null = current.assignee ?? null;
    await addJobs(tx, await applyEffects(tx, h, [{
      alert: a, timeline: { kind: 'assigned', actor: ref, detail: { to: a.assignee, from } }, webhook: null, updateMessages: true,
    }]));
    return a;
  });
  return toAlertView(row, h.config.publicUrl);
}
