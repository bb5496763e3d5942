// Routing a batch of accepted events in one transaction: rules in order, dedup on the open alert with
// the same dedup_key, resolve-by-event, level-0 notifications, the first escalation timer, webhooks.
//
// Invariants: an event leaves `accepted` exactly once (rows are locked, SKIP LOCKED lets a concurrent
// router take other rows); at most one open alert per dedup key (the partial unique index settles races
// between routers: a conflicting insert aborts the batch and the job retries, then finds the open alert).
import type { Herald } from '../herald';
import type { Sql } from '../platform/sql';
import type { AlertRow, RouteSnapshot } from '../model/alert';
import { selectRules } from '../rules/match';
import type { Rule } from '../rules/schema';
import { routeSnapshot } from '../rules/snapshot';
import type { Severity } from '../model/levels';
import { loadEnabledRules } from '../rules/repo';
import { addJobs, escalationKey, job, removeJobs, type JobSpec } from '../jobs/enqueue';
import { loadTargetUsers, notifyLevel } from '../messages/plan';
import { applyEffects, type Change } from '../alerts/effects';
import type { TimelineEntry } from '../timeline/append';
import { SYSTEM_REF } from '../actor';
import { countRepeats, insertAlerts, lockOpenByKeys, resolveAlerts } from '../alerts/transitions';
import { priorityRank } from '../model/levels';
import { deliverWebhooks } from '../webhooks/deliver';
import { deliveryQueue } from '../webhooks/fanout';
import { log } from '../platform/log';
import type { EventStatus } from './schema';
import { loadExpectations, watchExpectations } from '../expectations/watch';
import { openWindows, windowMatches } from '../maintenance/windows';

interface EventRow {
  id: number; org_id: number; category: string; type: string; title: string; severity: Severity; body: string | null;
  source: string | null; dedup_key: string; action: 'trigger' | 'resolve'; metadata: Record<string, unknown>;
  entity: Record<string, unknown> | null;
}

export interface RouteSummary { routed: number; created: number; deduplicated: number; resolved: number; unrouted: number; suppressed: number }

export async function routeEvents(h: Herald, eventIds: number[]): Promise<RouteSummary> {
  const summary: RouteSummary = { routed: 0, created: 0, deduplicated: 0, resolved: 0, unrouted: 0, suppressed: 0 };
  const inline: number[] = [];
  await h.sql.begin(async (tx) => {
    const events = await tx<EventRow[]>`
      select id, org_id, category, type, title, severity, body, source, dedup_key, action, metadata, entity
      from events where id = any(${eventIds}::bigint[]) and status = 'accepted'
      order by id for update skip locked`;
    if (!events.length) return;
    const byOrg = new Map<number, EventRow[]>();
    for (const e of events) {
      const org = Number(e.org_id);
      (byOrg.get(org) ?? byOrg.set(org, []).get(org)!).push({ ...e, id: Number(e.id), org_id: org });
    }
    const jobs: JobSpec[] = [];
    for (const [orgId, orgEvents] of byOrg) jobs.push(...(await routeOrg(tx, h, orgId, orgEvents, summary)));
    // Webhooks of this batch are delivered by this job right after the commit (one hop less on the hot
    // path); their queued jobs are the safety net, due later, that finds them delivered and does nothing
    // unless this process died in between (or the endpoint was failing or slow: then they deliver).
    for (const j of jobs) {
      if (j.identifier !== 'webhook__deliver' || !('delivery_ids' in j.payload)) continue;
      inline.push(...(j.payload as { delivery_ids: number[] }).delivery_ids);
      j.run_at = new Date(Date.now() + INLINE_DELIVERY_GRACE_MS);
      // The safety net runs in the webhook's queue, never beside another job sending the same deliveries.
      j.queue_name = deliveryQueue(j.payload.webhook_id as number);
    }
    await addJobs(tx, jobs);
  });
  // Bounded: only endpoints that answer, waited for at most INLINE_WAIT_MS (see deliverWebhooks).
  if (inline.length) await deliverWebhooks(h, inline, { inline: true }).catch((e: Error) => log.warn('inline webhook delivery failed; the queued jobs will deliver', { error: e.message }));
  return summary;
}

/** How long the queued delivery jobs wait for the inline attempt before they deliver themselves. */
export const INLINE_DELIVERY_GRACE_MS = 20_000;

async function routeOrg(tx: Sql, h: Herald, orgId: number, events: EventRow[], summary: RouteSummary): Promise<JobSpec[]> {
  const keys = [...new Set(events.map((e) => e.dedup_key))];
  // Independent reads are issued together: postgres.js pipelines them on the transaction's connection.
  const [rules, open, windows, expectations] = await Promise.all([
    loadEnabledRules(tx, orgId),
    lockOpenByKeys(tx, orgId, keys),
    openWindows(tx, orgId),
    loadExpectations(tx, orgId),
  ]);
  const openByKey = new Map(open.map((a) => [a.dedup_key, a]));

  // Walk events in order, deciding in memory; later events in the batch see alerts planned by earlier ones.
  type NewAlert = { key: string; first: EventRow; rules: Rule[]; occurrences: number; resolvedBy: EventRow | null };
  const created = new Map<string, NewAlert>();
  const bumps = new Map<number, { alert: AlertRow; count: number; last: EventRow }>();
  const resolveIds = new Map<number, EventRow>();
  const eventUpdates: Array<{ id: number; status: EventStatus; alert_id: number | null; rule_ids: number[]; key?: string; maintenance_id?: number }> = [];

  for (const e of events) {
    const existing = openByKey.get(e.dedup_key);
    const pending = created.get(e.dedup_key);
    if (e.action === 'resolve') {
      if (pending && !pending.resolvedBy) { pending.resolvedBy = e; eventUpdates.push({ id: e.id, status: 'resolved', alert_id: null, rule_ids: [], key: e.dedup_key }); }
      else if (existing && !resolveIds.has(Number(existing.id))) { resolveIds.set(Number(existing.id), e); eventUpdates.push({ id: e.id, status: 'resolved', alert_id: Number(existing.id), rule_ids: [] }); }
      else { eventUpdates.push({ id: e.id, status: 'suppressed', alert_id: existing ? Number(existing.id) : null, rule_ids: [] }); summary.suppressed++; }
      continue;
    }
    // A maintenance window open now keeps the event, suppressed, and notifies nobody (resolves still resolve).
    const window = windows.find((w) => windowMatches(w, e));
    if (window) {
      eventUpdates.push({ id: e.id, status: 'suppressed', alert_id: existing ? Number(existing.id) : null, rule_ids: [], maintenance_id: Number(window.id) });
      summary.suppressed++;
      continue;
    }
    if (existing && !resolveIds.has(Number(existing.id))) {
      const b = bumps.get(Number(existing.id)) ?? { alert: existing, count: 0, last: e };
      b.count++; b.last = e;
      bumps.set(Number(existing.id), b);
      eventUpdates.push({ id: e.id, status: 'deduplicated', alert_id: Number(existing.id), rule_ids: existing.rule_ids.map(Number) });
      summary.deduplicated++;
      continue;
    }
    if (pending && !pending.resolvedBy) {
      pending.occurrences++;
      eventUpdates.push({ id: e.id, status: 'deduplicated', alert_id: null, rule_ids: pending.rules.map((r) => r.id), key: e.dedup_key });
      summary.deduplicated++;
      continue;
    }
    const matched = selectRules(rules, e);
    if (!matched.length) { eventUpdates.push({ id: e.id, status: 'unrouted', alert_id: null, rule_ids: [] }); summary.unrouted++; continue; }
    // A key resolved earlier in this batch (or whose new alert was resolved) opens a fresh alert.
    if (pending) created.delete(e.dedup_key);
    if (existing) openByKey.delete(e.dedup_key);
    created.set(e.dedup_key, { key: e.dedup_key, first: e, rules: matched, occurrences: 1, resolvedBy: null });
    eventUpdates.push({ id: e.id, status: 'routed', alert_id: null, rule_ids: matched.map((r) => r.id), key: e.dedup_key });
    summary.routed++;
  }

  const changes: Change[] = [];
  const jobs: JobSpec[] = [];
  // Timeline rows besides the transitions' own, written by applyEffects in one insert.
  const timeline: TimelineEntry[] = [];

  // 1. Repeats of open alerts: count occurrences, no new notification.
  if (bumps.size) {
    await countRepeats(tx, [...bumps.values()].map((b) => ({ id: Number(b.alert.id), n: b.count })));
    for (const b of bumps.values()) timeline.push({
      org_id: orgId, alert_id: b.alert.id, kind: 'deduplicated', actor: SYSTEM_REF,
      detail: { events: b.count, occurrences: b.alert.occurrences + b.count, event_id: b.last.id },
    });
  }

  // 2. New alerts, in one insert.
  const fresh = [...created.values()];
  let inserted: AlertRow[] = [];
  if (fresh.length) {
    const rows = fresh.map((n) => {
      const route = routeSnapshot(n.rules);
      const priority = n.rules.map((r) => r.priority).sort((a, b) => priorityRank(b) - priorityRank(a))[0];
      const e = n.first;
      return {
        org_id: orgId, priority, severity: e.severity, category: e.category, type: e.type, title: e.title,
        body: e.body, source: e.source, dedup_key: e.dedup_key, metadata: e.metadata, entity: e.entity, occurrences: n.occurrences,
        rule_ids: n.rules.map((r) => r.id), route, sop: n.rules.find((r) => r.sop)?.sop ?? null,
        // Level 1 is due `after_minutes` of the first step after creation (created_at is the same now()).
        first_after_s: route.escalation.steps.length ? route.escalation.steps[0].after_minutes * 60 : null,
      };
    });
    // The people the new alerts reach are read while the alerts are inserted (pipelined on the connection).
    const allRoles = new Set<string>(); const allUsers = new Set<number>(); const allSchedules = new Set<number>();
    for (const n of fresh) for (const r of n.rules) {
      r.targets.roles.forEach((x) => allRoles.add(x)); r.targets.users.forEach((x) => allUsers.add(x)); (r.targets.schedules ?? []).forEach((x) => allSchedules.add(x));
    }
    let people: Awaited<ReturnType<typeof loadTargetUsers>>;
    [inserted, people] = await Promise.all([
      insertAlerts(tx, rows),
      // Schedules of the whole batch resolve in the same statement (who is on call now).
      loadTargetUsers(tx, orgId, [...allRoles], [...allUsers], [...allSchedules]),
    ]);
    const idByKey = new Map(inserted.map((a) => [a.dedup_key, Number(a.id)]));
    // Keys another routing job opened after our read (it committed first, we waited on the unique index):
    // their events are repeats of that alert, as if it had been open when this batch began.
    const lost = fresh.filter((n) => !idByKey.has(n.key));
    if (lost.length) {
      const theirs = new Map((await lockOpenByKeys(tx, orgId, lost.map((n) => n.key))).map((a) => [a.dedup_key, a]));
      // Opened and already resolved by the other side in between: rare; the job's retry routes these afresh.
      if (theirs.size !== lost.length) throw new Error('routing race: an alert opened by a concurrent job is already resolved; retrying');
      await countRepeats(tx, lost.map((n) => ({ id: Number(theirs.get(n.key)!.id), n: n.occurrences })));
      for (const n of lost) {
        const a = theirs.get(n.key)!;
        created.delete(n.key);
        for (const u of eventUpdates) {
          if (u.key !== n.key || u.alert_id !== null) continue;
          u.alert_id = Number(a.id);
          if (u.status === 'routed') { u.status = 'deduplicated'; u.rule_ids = a.rule_ids.map(Number); summary.routed--; summary.deduplicated++; }
        }
        timeline.push({ org_id: orgId, alert_id: a.id, kind: 'deduplicated', actor: SYSTEM_REF, detail: { events: n.occurrences, occurrences: a.occurrences + n.occurrences, event_id: n.first.id } });
        if (n.resolvedBy) resolveIds.set(Number(a.id), n.resolvedBy);
      }
    }
    for (const u of eventUpdates) if (u.key && u.alert_id === null) u.alert_id = idByKey.get(u.key) ?? null;
    summary.created += inserted.length;

    // First escalation timers (escalation_next_at was set by the insert).
    for (const a of inserted) {
      if (a.escalation_next_at) jobs.push(job('alert__escalate', { alert_id: Number(a.id), level: 1 }, { run_at: a.escalation_next_at }));
    }

    // Level-0 notifications.
    const level0 = await notifyLevel(tx, h.channels, 0, inserted.map((a) => ({
      orgId, alertId: a.id, title: a.title, priority: a.priority,
      targets: a.route.rules.map((r) => ({ ...r.targets, channels: r.channels, slack_channel: r.slack_channel, discord_channel: r.discord_channel })),
    })), people);
    jobs.push(...level0.jobs);
    timeline.push(...level0.timeline);
    for (const a of inserted) {
      const n = created.get(a.dedup_key)!;
      if (n.occurrences > 1) timeline.push({ org_id: orgId, alert_id: a.id, kind: 'deduplicated', actor: SYSTEM_REF, detail: { events: n.occurrences - 1, occurrences: n.occurrences } });
    }
    for (const a of inserted) {
      const n = created.get(a.dedup_key)!;
      changes.push({ alert: a, timeline: { kind: 'created', actor: SYSTEM_REF, detail: { event_id: n.first.id, rule_ids: a.rule_ids.map(Number) } }, webhook: 'alert.triggered', updateMessages: false });
    }
  }

  // 3. Resolutions by event (of alerts open before this batch, and of alerts created in it).
  const resolvePairs: Array<{ id: number; event: EventRow }> = [...resolveIds.entries()].map(([id, event]) => ({ id, event }));
  const insertedByKey = new Map(inserted.map((a) => [a.dedup_key, a]));
  const updateByEvent = new Map(eventUpdates.map((u) => [u.id, u]));
  for (const n of fresh) {
    const a = n.resolvedBy && insertedByKey.get(n.key);
    if (!a) continue;
    resolvePairs.push({ id: a.id, event: n.resolvedBy! });
    updateByEvent.get(n.resolvedBy!.id)!.alert_id = a.id;
  }
  const resolvingEvent = new Map(resolvePairs.map((p) => [p.id, p.event]));
  if (resolvePairs.length) {
    const resolver = { kind: 'integration', name: 'event' };
    const resolved = await resolveAlerts(tx, orgId, resolvePairs.map((p) => p.id), resolver);
    await removeJobs(tx, resolved.map((a) => escalationKey(Number(a.id))));
    summary.resolved += resolved.length;
    for (const a of resolved) {
      changes.push({ alert: a, timeline: { kind: 'resolved', actor: resolver, detail: { event_id: resolvingEvent.get(a.id)!.id } }, webhook: 'alert.resolved', updateMessages: true });
    }
  }

  jobs.push(...(await applyEffects(tx, h, changes, timeline)));

  // 4. Every event leaves `accepted`, with what became of it.
  await tx`
    update events e set status = t.status, alert_id = t.alert_id, rule_ids = array(select jsonb_array_elements_text(t.rule_ids)::bigint), routed_at = now(),
      maintenance_id = t.maintenance_id
    from json_to_recordset(${JSON.stringify(eventUpdates)}::text::json) as t(id bigint, status text, alert_id bigint, rule_ids jsonb, maintenance_id bigint)
    where e.id = t.id`;
  // Expectations: timers started by `after` events and cancelled by expected ones, whatever became of them.
  jobs.push(...(await watchExpectations(tx, expectations, events)));
  return jobs;
}
