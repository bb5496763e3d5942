// The escalation timer's work. One job key per alert (`alert:<id>:escalation`) holds either the next
// escalation (payload {level}) or the end of a snooze (payload {wake: true}). The job re-reads the alert
// under a row lock and exits quietly when the work is stale (acknowledged, resolved, already escalated).
import type { Herald } from '../herald';
import type { Sql } from '../platform/sql';
import { addJobs, escalationKey, job, type JobSpec } from '../jobs/enqueue';
import { applyEffects } from '../alerts/effects';
import { loadTargetUsers, notifyLevel } from '../messages/plan';
import { strandedHeldMessages } from '../messages/deliver';
import { SYSTEM_REF } from '../actor';
import { levelDueAt, stepForLevel } from './schedule';
import { escalateAlert, lockAlert, pauseEscalation, reopenAlert } from '../alerts/transitions';
import { pausingWindow } from '../maintenance/windows';
import { unlockDeadWorkers } from '../jobs/liveness';


export type TimerOutcome = 'escalated' | 'woke' | 'stale' | 'not_due' | 'paused';

export async function runAlertTimer(h: Herald, alertId: number, payload: { level?: number; wake?: boolean; resumed?: boolean }): Promise<TimerOutcome> {
  return h.sql.begin(async (tx) => {
    const a = await lockAlert(tx, alertId);
    if (!a) return 'stale';
    const jobs: JobSpec[] = [];
    if (payload.wake) {
      if (a.status !== 'acknowledged' || !a.snoozed_until) return 'stale';
      if (a.snoozed_until.getTime() > Date.now() + 1000) return 'not_due';
      // Back to triggered; the next level is due at its original time, or now if that has passed.
      const level = a.escalation_level + 1;
      const due = levelDueAt(a.created_at, a.route.escalation, level);
      const next = due ? new Date(Math.max(due.getTime(), Date.now())) : null;
      const b = await reopenAlert(tx, alertId, next);
      if (!b) return 'stale';
      if (next) jobs.push(job('alert__escalate', { alert_id: alertId, level }, { run_at: next }));
      jobs.push(...(await applyEffects(tx, h, [{ alert: b, timeline: { kind: 'reopened', actor: SYSTEM_REF, detail: { reason: 'snooze ended' } }, webhook: 'alert.reopened', updateMessages: true }])));
      await addJobs(tx, jobs);
      return 'woke';
    }
    const level = payload.level ?? a.escalation_level + 1;
    if (a.status !== 'triggered' || a.escalation_level !== level - 1) return 'stale';
    const s = stepForLevel(a.route.escalation, level);
    if (!s) return 'stale';
    const due = levelDueAt(a.created_at, a.route.escalation, level)!;
    if (due.getTime() > Date.now() + 1000) {
      // Fired early (clock skew or a replaced job): put the timer back at its due time.
      await addJobs(tx, [job('alert__escalate', { alert_id: alertId, level }, { run_at: due })]);
      return 'not_due';
    }
    // A maintenance window that pauses escalation holds this level until it closes (one timeline row per hold).
    const window = await pausingWindow(tx, Number(a.org_id), a);
    if (window) {
      const held = await pauseEscalation(tx, alertId, level, window.until);
      if (!held) return 'stale';
      jobs.push(job('alert__escalate', { alert_id: alertId, level, resumed: true }, { run_at: window.until }));
      jobs.push(...(await applyEffects(tx, h, [{
        alert: held, webhook: null, updateMessages: true,
        timeline: { kind: 'escalation_paused', actor: SYSTEM_REF, detail: { level, window_id: window.id, window: window.name, until: window.until.toISOString() } },
      }])));
      await addJobs(tx, jobs);
      return 'paused';
    }
    // After a hold, every following level keeps its spacing from the one before instead of firing at once.
    let next = levelDueAt(a.created_at, a.route.escalation, level + 1);
    if (next && payload.resumed) next = new Date(Math.max(next.getTime(), Date.now() + (next.getTime() - due.getTime())));
    const b = await escalateAlert(tx, alertId, level, next);
    if (!b) return 'stale';
    // Whoever is on call in the step's schedules now, when the step fires.
    const schedules = s.step.schedules ?? [];
    const people = await loadTargetUsers(tx, Number(a.org_id), s.step.roles, s.step.users, schedules);
    const notified = await notifyLevel(tx, h.channels, level,
      [{ orgId: a.org_id, alertId, title: a.title, priority: a.priority, targets: [{ roles: s.step.roles, users: s.step.users, schedules, channels: a.route.escalation.channels }] }], people);
    jobs.push(...notified.jobs);
    if (next) jobs.push(job('alert__escalate', { alert_id: alertId, level: level + 1, ...(payload.resumed ? { resumed: true } : {}) }, { run_at: next }));
    const lateMs = Date.now() - due.getTime();
    jobs.push(...(await applyEffects(tx, h, [{
      alert: b, webhook: 'alert.escalated', updateMessages: true, extra: { level },
      timeline: { kind: 'escalated', actor: SYSTEM_REF, detail: { level, roles: s.step.roles, users: s.step.users, ...(schedules.length ? { schedules } : {}), cycle: s.cycle, late_ms: lateMs } },
    }], notified.timeline)));
    await addJobs(tx, jobs);
    return 'escalated';
  });
}

/**
 * The safety net on the crontab: a timer that should exist but does not (lost to an operator deleting
 * jobs, a failed job that ran out of attempts) is re-created. Also wakes overdue snoozes.
 */
export async function sweepTimers(h: Herald): Promise<number> {
  await unlockDeadWorkers(h.sql);
  return h.sql.begin(async (tx) => {
    // Overdue alerts, then those among them whose timer job is missing (keys from the job catalog).
    const overdue = await tx<{ id: number; escalation_level: number; status: string }[]>`
      select a.id, a.escalation_level, a.status from alerts a
      where (a.status = 'triggered' and a.escalation_next_at < now() - interval '10 seconds')
         or (a.status = 'acknowledged' and a.snoozed_until < now() - interval '10 seconds')
      limit 1000`;
    const keys = overdue.map((a) => escalationKey(Number(a.id)));
    const present = new Set(keys.length ? (await tx<{ key: string }[]>`
      select key from graphile_worker._private_jobs where key = any(${keys}::text[])`).map((r) => r.key) : []);
    const due = overdue.filter((a) => !present.has(escalationKey(Number(a.id))));
    await addJobs(tx, due.map((a) => job('alert__escalate',
      a.status === 'triggered' ? { alert_id: Number(a.id), level: a.escalation_level + 1 } : { alert_id: Number(a.id), wake: true })));
    // Events whose routing job is gone (e.g. exhausted its attempts) are routed again.
    const stuck = await tx<{ id: number }[]>`
      select id from events where status = 'accepted' and received_at < now() - interval '60 seconds' limit 5000`;
    if (stuck.length) await addJobs(tx, [job('event__route', { event_ids: stuck.map((e) => Number(e.id)) })]);
    // Messages held for quiet hours whose send job was lost go out now.
    const held = await strandedHeldMessages(tx);
    await addJobs(tx, held.map((id) => job('message__send', { message_id: id })));
    return due.length + stuck.length + held.length;
  });
}

/**
 * A pausing maintenance window was deleted: the alerts it holds (still triggered, their timer in the future,
 * paused by it on their timeline) get their held level due now. Replacing the keyed job moves the timer.
 */
export async function resumeEscalationsPausedBy(tx: Sql, orgId: number, windowId: number): Promise<number> {
  const held = await tx<{ id: number; escalation_level: number }[]>`
    select a.id, a.escalation_level from alerts a
    where a.org_id = ${orgId} and a.status = 'triggered' and a.escalation_next_at > now()
      and exists (select 1 from alert_timeline t where t.alert_id = a.id and t.kind = 'escalation_paused' and t.detail->>'window_id' = ${String(windowId)})`;
  await addJobs(tx, held.map((a) => job('alert__escalate', { alert_id: Number(a.id), level: a.escalation_level + 1, resumed: true })));
  return held.length;
}
