// Two routing jobs that open an alert with the same dedup key at the same moment: the second waits on the
// unique index of open keys, then finds the first one's alert and counts its event as a repeat, in the same
// run (it used to fail with a unique violation and wait for graphile-worker's retry backoff).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from './harness';
import { insertAlerts } from '../db/alerts/transitions';

let h: TestHerald;
beforeAll(async () => {
  h = await startTestHerald();
  expect((await h.api('POST', '/v1/rules', { name: 'Races', match: { category: 'race' }, targets: { roles: ['admin'] }, channels: ['in_app'] })).status).toBe(201);
});
afterAll(async () => { await h?.stop(); });

it('an event whose key another transaction opens meanwhile becomes a repeat of that alert, with no failed attempt', async () => {
  let commit!: () => void;
  const held = new Promise<void>((r) => { commit = r; });
  let theirs = 0;
  // The other side: an alert with key race-1, inserted and held uncommitted.
  const other = h.sql.begin(async (tx) => {
    const [a] = await insertAlerts(tx, [{ org_id: 1, priority: 'normal', severity: 'error', category: 'race', type: 'x', title: 'First', body: null, source: null,
      dedup_key: 'race-1', metadata: {}, entity: null, occurrences: 1, rule_ids: [], route: { rules: [], escalation: { steps: [], repeat: 0, channels: [] } }, sop: null, first_after_s: null }]);
    theirs = Number(a.id);
    await held;
  });
  const ev = await h.api('POST', '/v1/events', { category: 'race', type: 'x', title: 'Second', dedup_key: 'race-1' });
  expect(ev.status).toBe(202);
  // The routing job reads no open alert, tries to insert, and waits on the index for the other transaction.
  await h.eventually(async () => (await h.sql`select 1 from pg_stat_activity where wait_event_type = 'Lock' and query ilike '%insert into alerts%'`).length > 0, 10_000);
  commit();
  await other;
  // Until it is routed, watch for a failed attempt (a failed job keeps its last_error for its whole backoff).
  let failed = 0;
  const routed = await h.eventually(async () => {
    failed += (await h.sql`select 1 from graphile_worker._private_jobs where last_error is not null`).length;
    const e = (await h.api('GET', `/v1/events/${ev.body.event_id}`)).body;
    return e.status !== 'accepted' && e;
  });
  expect(failed).toBe(0);
  expect(routed).toMatchObject({ status: 'deduplicated', alert_id: theirs });
  const alerts = await h.sql`select id, occurrences from alerts where dedup_key = 'race-1'`;
  expect(alerts.map((a) => [Number(a.id), a.occurrences])).toEqual([[theirs, 2]]);
  const timeline = (await h.api('GET', `/v1/alerts/${theirs}`)).body.timeline as Array<{ kind: string; detail: any }>;
  expect(timeline.find((t) => t.kind === 'deduplicated')!.detail).toMatchObject({ events: 1, occurrences: 2, event_id: ev.body.event_id });
});
