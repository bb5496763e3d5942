// Expectations at routing time, and their timers firing. See ./repo.ts for the invariant.
import type { Herald } from '../herald';
import type { Sql } from '../platform/sql';
import { job, jobKey, type JobSpec } from '../jobs/catalog';
import { removeJobs } from '../jobs/enqueue';
import type { Severity } from '../model/levels';

interface Kind { category: string; type: string }
interface Row { id: number; name: string; after: Kind; expect: Kind[]; within_minutes: number; same: 'entity' | 'dedup_key';
  then: { category: string; type: string; severity: Severity; title: string } }
export interface WatchedEvent { id: number; category: string; type: string; action: string; dedup_key: string; entity: Record<string, unknown> | null }

const subjectOf = (x: Row, e: WatchedEvent): string | null =>
  x.same === 'dedup_key' ? e.dedup_key : e.entity && e.entity.kind !== undefined && e.entity.id !== undefined ? `${String(e.entity.kind)}:${String(e.entity.id)}` : null;
const is = (k: Kind, e: WatchedEvent) => k.category === e.category && k.type === e.type;

/** The org's enabled expectations, read by the routing transaction once per batch (with its other reads). */
export async function loadExpectations(tx: Sql, orgId: number): Promise<Row[]> {
  return tx<Row[]>`select id, name, after, expect, within_minutes, same, "then" from expectations where org_id = ${orgId} and enabled`;
}

/**
 * Called by the routing transaction with the batch's events of one org, in order, and the org's expectations
 * (`loadExpectations`): an expected event cancels the timer of its subject (in this transaction), an `after`
 * event starts (or restarts) one. Returns the timers to add with the batch's other jobs. Every triggering
 * event counts, routed to an alert or not. No expectations: no work.
 */
export async function watchExpectations(tx: Sql, rows: Row[], events: WatchedEvent[]): Promise<JobSpec[]> {
  if (!rows.length) return [];
  const starts = new Map<string, JobSpec>();
  const cancels = new Set<string>();
  for (const e of events) {
    if (e.action !== 'trigger') continue;
    for (const x of rows) {
      const expected = x.expect.some((k) => is(k, e));
      const after = is(x.after, e);
      if (!expected && !after) continue;
      const subject = subjectOf(x, e)?.slice(0, 400);
      if (!subject) continue;
      const payload = { expectation_id: Number(x.id), subject, event_id: Number(e.id) };
      const key = jobKey('expectation__due', payload);
      if (expected) { starts.delete(key); cancels.add(key); }
      if (after) { cancels.delete(key); starts.set(key, job('expectation__due', payload, { run_at: new Date(Date.now() + x.within_minutes * 60_000) })); }
    }
  }
  await removeJobs(tx, [...cancels]);
  return [...starts.values()];
}

/** Writes events with their routing work inside the caller's transaction (db/events/ingest.ts `insertEvents`). */
export interface EventPoster {
  // Method syntax on purpose: the event's shape is db/events' EventInput, which this folder does not import.
  post(tx: Sql, orgId: number, events: Array<Record<string, unknown>>): Promise<unknown>;
}

/**
 * The timer fired: the expected event did not come in time; post the `then` event about the subject through
 * `post` (the routing owns event writes; events → expectations is the one import direction).
 */
export async function fireExpectation(h: Herald, events: EventPoster, p: { expectation_id: number; subject: string; event_id: number }): Promise<'posted' | 'stale'> {
  return h.sql.begin(async (tx) => {
    const [x] = await tx<(Row & { org_id: number })[]>`
      select id, org_id, name, after, expect, within_minutes, same, "then" from expectations where id = ${p.expectation_id} and enabled`;
    if (!x) return 'stale';
    const [e] = await tx<WatchedEvent[]>`select id, category, type, action, dedup_key, entity from events where id = ${p.event_id}`;
    if (!e) return 'stale';
    await events.post(tx, Number(x.org_id), [{
      category: x.then.category, type: x.then.type, severity: x.then.severity, title: x.then.title, body: null, source: 'expectation',
      action: 'trigger', occurred_at: null,
      entity: x.same === 'entity' ? (e.entity as never) : null,
      dedup_key: x.same === 'dedup_key' ? `${x.then.category}/${x.then.type}/${e.dedup_key}`.slice(0, 255) : null,
      metadata: { expectation_id: Number(x.id), expectation: x.name, after_event_id: Number(e.id), about: p.subject,
        ...(x.same === 'dedup_key' ? { about_dedup_key: e.dedup_key } : {}), within_minutes: x.within_minutes },
    }]);
    return 'posted';
  });
}
