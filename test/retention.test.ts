// Retention (issue 15, item 7): old events, deliveries, timelines, notifications and readiness rows are
// deleted in small batches while ingest goes on; nothing an open alert still needs is touched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, startTestHerald, type Receiver, type TestHerald } from './harness';
import { pruneOnce } from '../db/system/retention';

let h: TestHerald;
let rx: Receiver;

beforeAll(async () => {
  h = await startTestHerald();
  rx = await startReceiver();
  expect((await h.api('POST', '/v1/rules', { name: 'Retention', match: { category: 'ret' }, targets: { roles: ['admin'] }, channels: ['in_app'] })).status).toBe(201);
  expect((await h.api('POST', '/v1/webhooks', { url: rx.url, events: ['alert.triggered'] })).status).toBe(201);
});
afterAll(async () => { await h?.stop(); await rx?.close(); });

const post = async (e: Record<string, unknown>) => {
  const r = await h.api('POST', '/v1/events', { title: 'x', severity: 'error', ...e });
  expect(r.status).toBe(202);
  return r.body.event_id as number;
};
const count = async (q: Promise<{ n: number }[]>) => (await q)[0].n;

describe('retention', () => {
  it('prunes old rows in batches, keeps what open alerts need, while ingest goes on', async () => {
    // Alert "done": 3 events, resolved. Alert "open": 2 events, still triggered. One event no rule routes.
    const done = [await post({ category: 'ret', type: 'done', dedup_key: 'done' }), await post({ category: 'ret', type: 'done', dedup_key: 'done' }), await post({ category: 'ret', type: 'done', dedup_key: 'done' })];
    const open = [await post({ category: 'ret', type: 'open', dedup_key: 'open' }), await post({ category: 'ret', type: 'open', dedup_key: 'open' })];
    const unrouted = await post({ category: 'nobody', type: 'cares' });
    const all = [...done, ...open, unrouted];
    const rows = await h.eventually(async () => {
      const r = await h.sql<{ id: number; status: string; alert_id: number | null }[]>`select id, status, alert_id from events where id = any(${all}::bigint[]) order by id`;
      return r.length === 6 && r.every((e) => e.status !== 'accepted') ? r : null;
    });
    const doneAlert = rows[0].alert_id!;
    const openAlert = rows[3].alert_id!;
    expect(doneAlert).not.toBe(openAlert);
    expect((await h.api('POST', `/v1/alerts/${doneAlert}/resolve`, {})).status).toBe(200);
    await h.eventually(async () => (await count(h.sql`select count(*)::int as n from webhook_deliveries where status = 'delivered'`)) === 2);
    // The KPI rollup has read every event (retention never deletes ahead of it).
    await h.eventually(async () => {
      const [{ hwm }] = await h.sql<{ hwm: number }[]>`select hwm from metric_rollup_state`;
      return Number(hwm) >= unrouted;
    }, 20_000);

    // Everything happened long ago.
    await h.sql`update events set received_at = received_at - interval '100 days'`;
    await h.sql`update alerts set created_at = created_at - interval '400 days', resolved_at = resolved_at - interval '400 days' where id = ${doneAlert}`;
    await h.sql`update alert_timeline set at = at - interval '400 days'`;
    await h.sql`update notifications set created_at = created_at - interval '100 days'`;
    await h.sql`update webhook_deliveries set created_at = created_at - interval '40 days'`;
    // A delivery still being retried is kept whatever its age.
    const [retrying] = await h.sql<{ id: number }[]>`
      insert into webhook_deliveries (org_id, webhook_id, msg_id, event_type, alert_id, payload, status, attempts, created_at, next_attempt_at)
      select 1, id, 'msg_retrying', 'alert.triggered', ${openAlert}, '{}', 'failed_temp', 3, now() - interval '60 days', now() + interval '1 minute' from webhooks limit 1 returning id`;
    await h.sql`insert into readiness_checks (process_id, at, ready, checks) select 'old', now() - make_interval(days => 20 + g), true, '{}' from generate_series(1, 25) g`;
    await h.watcher.tick();
    const before = {
      timelineOpen: await count(h.sql`select count(*)::int as n from alert_timeline where alert_id = ${openAlert}`),
      notesOpen: await count(h.sql`select count(*)::int as n from notifications where alert_id = ${openAlert}`),
    };
    expect(before.timelineOpen).toBeGreaterThan(0);
    expect(before.notesOpen).toBeGreaterThan(0);

    // Ingest goes on while the pruning runs, in batches of 2.
    const fresh = Array.from({ length: 40 }, (_, i) => post({ category: 'ret', type: 'fresh', dedup_key: `fresh-${i}` }));
    const deleted = await pruneOnce(h.sql, { ...h.config, HERALD_RETAIN_BATCH: 2 }, { pauseMs: 1 });
    const freshIds = await Promise.all(fresh);

    expect(deleted).toMatchObject({ events: 4, webhook_deliveries: 2, readiness_checks: 25 });
    expect(deleted.alert_timeline).toBeGreaterThan(0);
    expect(deleted.notifications).toBeGreaterThan(0);
    const left = (await h.sql<{ id: number }[]>`select id from events where id = any(${all}::bigint[]) order by id`).map((e) => e.id);
    expect(left).toEqual(open); // the resolved alert's events and the unrouted one went; the open alert's stay
    expect(await count(h.sql`select count(*)::int as n from events where id = any(${freshIds}::bigint[])`)).toBe(40);
    expect(await count(h.sql`select count(*)::int as n from alert_timeline where alert_id = ${doneAlert}`)).toBe(0);
    expect(await count(h.sql`select count(*)::int as n from alert_timeline where alert_id = ${openAlert}`)).toBe(before.timelineOpen);
    expect(await count(h.sql`select count(*)::int as n from notifications where alert_id = ${doneAlert}`)).toBe(0);
    expect(await count(h.sql`select count(*)::int as n from notifications where alert_id = ${openAlert}`)).toBe(before.notesOpen);
    expect((await h.sql`select id from webhook_deliveries where id = ${retrying.id}`).length).toBe(1);
    expect(await count(h.sql`select count(*)::int as n from readiness_checks where process_id = 'old'`)).toBe(0);
    expect(await count(h.sql`select count(*)::int as n from readiness_checks`)).toBeGreaterThan(0);
    // The alerts themselves stay (the record; analytics read them).
    expect((await h.api('GET', `/v1/alerts/${doneAlert}`)).status).toBe(200);
    // A second run finds nothing more.
    expect(Object.values(await pruneOnce(h.sql, h.config)).every((n) => n === 0)).toBe(true);
  });

  it('0 keeps a table forever', async () => {
    await h.sql`insert into readiness_checks (process_id, at, ready, checks) values ('older', now() - interval '400 days', true, '{}')`;
    const d = await pruneOnce(h.sql, { ...h.config, HERALD_RETAIN_READINESS_DAYS: 0 });
    expect(d.readiness_checks).toBeUndefined();
    expect((await h.sql`select 1 from readiness_checks where process_id = 'older'`).length).toBe(1);
  });

  it('keeps the audit trail forever unless HERALD_RETAIN_AUDIT_DAYS bounds it', async () => {
    // A configuration change writes its audit row; then it is made two years old.
    expect((await h.api('POST', '/v1/rules', { name: 'Audited long ago', match: { category: 'aud' }, targets: { roles: ['admin'] }, channels: ['in_app'] })).status).toBe(201);
    const [old] = await h.sql<{ id: number }[]>`select id from audit where action = 'rule.created' and after->>'name' = 'Audited long ago'`;
    expect(old).toBeDefined();
    await h.sql`update audit set at = now() - interval '730 days' where id = ${old.id}`;
    expect((await h.api('POST', '/v1/rules', { name: 'Audited today', match: { category: 'aud2' }, targets: { roles: ['admin'] }, channels: ['in_app'] })).status).toBe(201);
    const kept = await pruneOnce(h.sql, h.config);
    expect(kept.audit).toBeUndefined();
    expect((await h.sql`select 1 from audit where id = ${old.id}`).length).toBe(1);
    const bounded = await pruneOnce(h.sql, { ...h.config, HERALD_RETAIN_AUDIT_DAYS: 365 });
    expect(bounded.audit).toBe(1);
    expect((await h.sql`select 1 from audit where id = ${old.id}`).length).toBe(0);
    expect((await h.sql`select 1 from audit where action = 'rule.created' and after->>'name' = 'Audited today'`).length).toBe(1);
  });

  it('runs as a periodic job', async () => {
    const jobs = await h.sql`select 1 from graphile_worker._private_known_crontabs where identifier like '%system__prune%'`;
    expect(jobs.length).toBe(1);
  });
});
