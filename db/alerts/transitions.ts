// Every change of an alert's state, and only here: create, count a repeat, acknowledge, resolve, snooze,
// reopen, escalate, undo, assign. The routing job (db/events/route.ts), the escalation timer (db/escalation/escalate.ts)
// and the people's verbs (./act.ts) all call these functions inside their own transaction, which then
// writes the timeline row, moves the timer and queues the effects (./effects.ts).
//
// Invariant: each UPDATE settles its race in its WHERE clause (the status it starts from), so two
// concurrent callers can never both win: the loser gets no row back and reports a conflict or exits as
// stale. Callers must treat "no row" as "someone else got there first", never retry blindly.
import type { Sql } from '../platform/sql';
import { UNDOABLE_KINDS, UNDO_WINDOW_SECONDS, type AlertRow, type PriorState } from '../model/alert';
import { STATE_CHANGE_KINDS } from '../timeline/append';
import { alertTransitions, escalations, observeAck } from '../platform/metrics';

/** A new alert as the router decided it (escalation_next_at: seconds after creation, or none). */
export interface NewAlertRow {
  org_id: number; priority: string; severity: string; category: string; type: string; title: string;
  body: string | null; source: string | null; dedup_key: string; metadata: unknown; entity: unknown;
  occurrences: number; rule_ids: number[]; route: unknown; sop: unknown; first_after_s: number | null;
}

/**
 * Inserts triggered alerts in one statement. The partial unique index on open dedup keys settles races: a row
 * whose key another transaction opened meanwhile (committed while this one waited on the index) is skipped,
 * not an error; the caller sees which keys came back and treats the others as repeats of that alert.
 */
export async function insertAlerts(tx: Sql, rows: NewAlertRow[]): Promise<AlertRow[]> {
  if (!rows.length) return [];
  const inserted = await tx<AlertRow[]>`
    insert into alerts (org_id, status, priority, severity, category, type, title, body, source, dedup_key, metadata, entity,
      occurrences, rule_ids, route, sop, escalation_next_at)
    select org_id, 'triggered', priority, severity, category, type, title, body, source, dedup_key, metadata, entity, occurrences,
      array(select jsonb_array_elements_text(rule_ids)::bigint), route, sop,
      case when first_after_s is null then null else now() + make_interval(secs => first_after_s) end
    from json_to_recordset(${JSON.stringify(rows)}::text::json) as t(org_id bigint, priority text, severity text,
      category text, type text, title text, body text, source text, dedup_key text, metadata jsonb, entity jsonb,
      occurrences int, rule_ids jsonb, route jsonb, sop jsonb, first_after_s float8)
    on conflict (org_id, dedup_key) where status <> 'resolved' do nothing
    returning *`;
  alertTransitions.inc({ to: 'triggered' }, inserted.length);
  return inserted;
}

/** Repeats of open alerts: occurrences grow, nothing else changes (no new notification). */
export async function countRepeats(tx: Sql, repeats: Array<{ id: number; n: number }>): Promise<void> {
  if (!repeats.length) return;
  await tx`
    update alerts a set occurrences = a.occurrences + t.n, last_event_at = now(), updated_at = now()
    from json_to_recordset(${JSON.stringify(repeats)}::text::json) as t(id bigint, n int) where a.id = t.id`;
}

/** A changed row with what the change overwrote (see PriorState): the action's timeline row keeps it for undo. */
export type ChangedRow = AlertRow & { before: PriorState };

/**
 * The prior state of `o`, the row as locked just before the UPDATE (`from (select … for update) o`): the
 * UPDATE's own RETURNING only sees new values. Timestamps go through jsonb as full-precision ISO text, so
 * undo writes back exactly what was there.
 */
const prior = (tx: Sql) => tx`jsonb_build_object('status', o.status, 'acknowledged_at', o.acknowledged_at,
  'acknowledged_by', o.acknowledged_by, 'resolved_at', o.resolved_at, 'resolved_by', o.resolved_by,
  'snoozed_until', o.snoozed_until, 'escalation_level', o.escalation_level, 'escalation_next_at', o.escalation_next_at)`;

/**
 * Acknowledges triggered alerts: one by id, several by ids, or every triggered one of a category.
 * Returns the rows that changed (none: already acknowledged or resolved by someone else).
 */
export async function acknowledgeAlerts(tx: Sql, orgId: number, by: unknown, which: { ids?: number[]; category?: string }): Promise<ChangedRow[]> {
  const rows = await tx<ChangedRow[]>`
    update alerts a set status = 'acknowledged', acknowledged_at = now(), acknowledged_by = ${by as never},
      escalation_next_at = null, updated_at = now()
    from (select * from alerts
      where org_id = ${orgId} and status = 'triggered'
        and (${which.ids ?? null}::bigint[] is null or id = any(${which.ids ?? null}::bigint[]))
        and (${which.category ?? null}::text is null or category = ${which.category ?? null})
      for update) o
    where a.id = o.id and a.status = 'triggered'
    returning a.*, ${prior(tx)} as before`;
  rows.forEach(observeAck);
  return rows;
}

/** Resolves open alerts (by a person, a key, or a resolving event). Already resolved ones are left alone. */
export async function resolveAlerts(tx: Sql, orgId: number | null, ids: number[], by: unknown): Promise<ChangedRow[]> {
  if (!ids.length) return [];
  const rows = await tx<ChangedRow[]>`
    update alerts a set status = 'resolved', resolved_at = now(), resolved_by = ${by as never}, escalation_next_at = null,
      snoozed_until = null, updated_at = now()
    from (select * from alerts
      where (${orgId}::bigint is null or org_id = ${orgId}) and id = any(${ids}::bigint[]) and status <> 'resolved'
      for update) o
    where a.id = o.id and a.status <> 'resolved'
    returning a.*, ${prior(tx)} as before`;
  alertTransitions.inc({ to: 'resolved' }, rows.length);
  return rows;
}

/** Snooze: acknowledged until a time (the first acknowledger is kept), then the timer reopens it. */
export async function snoozeAlert(tx: Sql, orgId: number, id: number, minutes: number, by: unknown): Promise<ChangedRow | undefined> {
  const [a] = await tx<ChangedRow[]>`
    update alerts a set status = 'acknowledged', snoozed_until = now() + make_interval(secs => ${minutes * 60}),
      acknowledged_at = coalesce(a.acknowledged_at, now()), acknowledged_by = coalesce(a.acknowledged_by, ${by as never}),
      updated_at = now()
    from (select * from alerts where org_id = ${orgId} and id = ${id} and status <> 'resolved' for update) o
    where a.id = o.id and a.status <> 'resolved'
    returning a.*, ${prior(tx)} as before`;
  if (a) alertTransitions.inc({ to: 'snoozed' });
  return a;
}

/**
 * Undo: the alert goes back to `before` (what the action at timeline row `actionRowId` overwrote), only
 * while that row is younger than the undo window and no later state change (another person's action, the
 * timer, an earlier undo) exists. Both conditions sit in the WHERE clause: no row = too late or someone
 * else acted since; the caller explains which.
 */
export async function undoAlert(tx: Sql, orgId: number, id: number, actionRowId: number, before: PriorState): Promise<AlertRow | undefined> {
  const [a] = await tx<AlertRow[]>`
    update alerts set status = ${before.status}, acknowledged_at = ${before.acknowledged_at}::timestamptz,
      acknowledged_by = ${(before.acknowledged_by ?? null) as never}::jsonb, resolved_at = ${before.resolved_at}::timestamptz,
      resolved_by = ${(before.resolved_by ?? null) as never}::jsonb, snoozed_until = ${before.snoozed_until}::timestamptz,
      escalation_level = ${before.escalation_level}, escalation_next_at = ${before.escalation_next_at}::timestamptz, updated_at = now()
    where org_id = ${orgId} and id = ${id}
      and exists (select 1 from alert_timeline t where t.id = ${actionRowId} and t.alert_id = ${id}
        and t.kind = any(${UNDOABLE_KINDS as unknown as string[]}::text[])
        and t.at > now() - make_interval(secs => ${UNDO_WINDOW_SECONDS}))
      and not exists (select 1 from alert_timeline t where t.alert_id = ${id} and t.id > ${actionRowId}
        and t.kind = any(${STATE_CHANGE_KINDS as unknown as string[]}::text[]))
    returning *`;
  if (a) alertTransitions.inc({ to: a.status });
  return a;
}

/**
 * Assigns the alert to a person of the org (or to nobody: `userId` null). The person must exist and not
 * be deleted; a resolved alert is left alone. No row: unknown alert or user, or resolved (caller explains).
 */
export async function assignAlert(tx: Sql, orgId: number, id: number, userId: number | null): Promise<AlertRow | undefined> {
  if (userId === null) {
    const [a] = await tx<AlertRow[]>`
      update alerts set assigned_to = null, assignee = null, updated_at = now()
      where org_id = ${orgId} and id = ${id} and status <> 'resolved' returning *`;
    return a;
  }
  const [a] = await tx<AlertRow[]>`
    update alerts a set assigned_to = u.id, assignee = jsonb_build_object('id', u.id, 'name', u.name), updated_at = now()
    from (select id, name from users where org_id = ${orgId} and id = ${userId} and deleted_at is null) u
    where a.org_id = ${orgId} and a.id = ${id} and a.status <> 'resolved'
    returning a.*`;
  return a;
}

/** The end of a snooze: back to triggered, escalation resumes at `next` (or never). */
export async function reopenAlert(tx: Sql, id: number, next: Date | null): Promise<AlertRow | undefined> {
  const [a] = await tx<AlertRow[]>`
    update alerts set status = 'triggered', snoozed_until = null, acknowledged_at = null, acknowledged_by = null,
      escalation_next_at = ${next}, updated_at = now()
    where id = ${id} and status = 'acknowledged' and snoozed_until is not null
    returning *`;
  if (a) alertTransitions.inc({ to: 'triggered' });
  return a;
}

/** One escalation step: the alert is still triggered at the level before; `next` is when the one after is due. */
export async function escalateAlert(tx: Sql, id: number, level: number, next: Date | null): Promise<AlertRow | undefined> {
  const [a] = await tx<AlertRow[]>`
    update alerts set escalation_level = ${level}, escalation_next_at = ${next}, updated_at = now()
    where id = ${id} and status = 'triggered' and escalation_level = ${level - 1}
    returning *`;
  if (a) escalations.inc();
  return a;
}

/** A maintenance window holds the next level: still triggered at the level before, now due at `until`. */
export async function pauseEscalation(tx: Sql, id: number, level: number, until: Date): Promise<AlertRow | undefined> {
  const [a] = await tx<AlertRow[]>`
    update alerts set escalation_next_at = ${until}, updated_at = now()
    where id = ${id} and status = 'triggered' and escalation_level = ${level - 1}
    returning *`;
  return a;
}

/** The alert locked for a change decided in code (timers read it first, then call one of the above). */
export async function lockAlert(tx: Sql, id: number): Promise<AlertRow | undefined> {
  const [a] = await tx<AlertRow[]>`select * from alerts where id = ${id} for update`;
  return a;
}

/** Open alerts with these dedup keys, locked for the routing transaction. */
export async function lockOpenByKeys(tx: Sql, orgId: number, keys: string[]): Promise<AlertRow[]> {
  return tx<AlertRow[]>`
    select * from alerts where org_id = ${orgId} and dedup_key = any(${keys}::text[]) and status <> 'resolved' for update`;
}
