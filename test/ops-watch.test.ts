// Herald watches itself (issue 15, item 9): its own trouble becomes an ordinary alert to the admins through
// the preset rule, once per incident, resolved when it clears; each process's readiness is kept for the
// System page. Real Postgres, real worker; the watcher ticks every second here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from './harness';
import { findTrouble } from '../db/system/watch';
import { ensureHeraldRule } from '../db/system/presets';

let h: TestHerald;

beforeAll(async () => {
  h = await startTestHerald({ HERALD_WATCH_ALERTS: '1', HERALD_WATCH_INTERVAL_S: '1', HERALD_WATCH_QUEUE_AGE_S: '5', HERALD_WATCH_WORKER_GONE_S: '10', HERALD_WATCH_CHANNEL_FAILURES: '3' });
});
afterAll(async () => { await h?.stop(); });

const heraldAlerts = (type: string) => h.sql<{ id: number; status: string; title: string; dedup_key: string }[]>`
  select id, status, title, dedup_key from alerts where category = 'herald' and type = ${type} order by id`;
const ticks = async (n: number) => { for (let i = 0; i < n; i++) await h.watcher.tick(); };

describe('Herald alerts on its own trouble', () => {
  it('a stuck queue raises one alert to the admins, resolved when the queue moves', async () => {
    // A job no worker can run, due a minute ago: the oldest runnable job is older than the 5 s limit.
    const [job] = await h.sql<{ id: number }[]>`
      select id from graphile_worker.add_job('nobody__runs', '{}'::json, run_at := now() - interval '1 minute')`;
    const [alert] = await h.eventually(async () => {
      const a = await heraldAlerts('queue_stuck');
      return a.length && a[0].status === 'triggered' ? a : null;
    }, 20_000);
    expect(alert.title).toMatch(/job queue is stuck/);
    expect(alert.dedup_key).toBe('herald/queue');
    // Routed by the preset rule to the admin, in the app.
    const [admin] = await h.sql<{ id: number }[]>`select id from users where email = 'admin@example.com'`;
    await h.eventually(async () => (await h.sql`select 1 from notifications where alert_id = ${alert.id} and user_id = ${admin.id}`).length > 0);
    const rule = await h.sql<{ name: string }[]>`select r.name from rules r, alerts a where a.id = ${alert.id} and r.id = any(a.rule_ids)`;
    expect(rule.map((r) => r.name)).toEqual(['Herald itself (preset)']);
    // Also through the API, like any alert.
    const listed = await h.api('GET', `/v1/alerts/${alert.id}`);
    expect(listed.status).toBe(200);

    // Once per incident: more rounds while it holds post nothing new.
    await ticks(3);
    expect((await h.sql`select id from events where category = 'herald' and type = 'queue_stuck'`).length).toBe(1);
    expect(await heraldAlerts('queue_stuck')).toHaveLength(1);

    // The queue moves again: the alert is resolved.
    await h.sql`delete from graphile_worker._private_jobs where id = ${job.id}`;
    await h.eventually(async () => (await heraldAlerts('queue_stuck'))[0].status === 'resolved', 20_000);
    expect((await h.sql`select id from events where category = 'herald' and type = 'queue_stuck'`).length).toBe(2);

    // A second incident is a second alert.
    await h.sql`select graphile_worker.add_job('nobody__runs', '{}'::json, run_at := now() - interval '1 minute')`;
    await h.eventually(async () => (await heraldAlerts('queue_stuck')).length === 2, 20_000);
    await h.sql`delete from graphile_worker._private_jobs where task_id = (select id from graphile_worker._private_tasks where identifier = 'nobody__runs')`;
    await h.eventually(async () => (await heraldAlerts('queue_stuck')).every((a) => a.status === 'resolved'), 20_000);
  });

  it('a worker process gone without a clean stop raises an alert; a new worker clears it', async () => {
    // This process started long ago, so it does not count as the replacement.
    await h.sql`update herald_processes set started_at = now() - interval '1 hour' where id = ${h.watcher.process.id}`;
    await h.sql`insert into herald_processes (id, roles, host, pid, started_at, seen_at) values ('box:4242:x', '{worker}', 'box', 4242, now() - interval '50 minutes', now() - interval '30 seconds')`;
    await h.eventually(async () => (await heraldAlerts('worker_gone'))[0]?.status === 'triggered', 20_000);
    expect((await heraldAlerts('worker_gone'))[0].title).toMatch(/box pid 4242/);
    await h.sql`insert into herald_processes (id, roles, host, pid) values ('box:4243:y', '{worker}', 'box', 4243)`;
    await h.eventually(async () => (await heraldAlerts('worker_gone'))[0]?.status === 'resolved', 20_000);
    await h.sql`update herald_processes set stopped_at = now() where id = 'box:4243:y'`;
  });

  it('a webhook failing repeatedly raises an alert, resolved when it delivers again', async () => {
    const w = await h.api('POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['alert.triggered'] });
    expect(w.status).toBe(201);
    await h.sql`update webhooks set failure_streak = 7 where id = ${w.body.id}`;
    await h.eventually(async () => (await heraldAlerts('channel_failing'))[0]?.status === 'triggered', 20_000);
    await h.sql`update webhooks set failure_streak = 0 where id = ${w.body.id}`;
    await h.eventually(async () => (await heraldAlerts('channel_failing'))[0]?.status === 'resolved', 20_000);
  });

  it('finds a failing channel and a nearly full disk', async () => {
    const [a] = await heraldAlerts('queue_stuck');
    for (let i = 0; i < 3; i++) {
      await h.sql`insert into messages (org_id, alert_id, level, recipient, channel, status, last_error) values (1, ${a.id}, ${100 + i}, ${'r' + i}, 'email', 'failed', 'SMTP 550 refused')`;
    }
    const t = await findTrouble(h.sql, { queueAgeS: 3600, channelFailures: 3, workerGoneS: 3600, diskPct: 1, diskPath: '/' });
    expect(t.find((x) => x.key === 'channel:email')).toMatchObject({ type: 'channel_failing', metadata: { failed: 3, last_error: 'SMTP 550 refused' } });
    expect(t.find((x) => x.key === 'disk')).toMatchObject({ type: 'disk_full', severity: 'critical' });
    const quiet = await findTrouble(h.sql, { queueAgeS: 3600, channelFailures: 4, workerGoneS: 3600, diskPct: 100, diskPath: '/' });
    expect(quiet.filter((x) => x.key === 'channel:email' || x.key === 'disk')).toEqual([]);
  });
});

describe('the preset rule', () => {
  it('is created once; an edited or deleted preset stays as the admins left it', async () => {
    const presets = () => h.sql<{ id: number; position: number }[]>`select id, position from rules where name = 'Herald itself (preset)'`;
    expect(await presets()).toHaveLength(1);
    await ensureHeraldRule(h.sql); // a second start
    expect(await presets()).toHaveLength(1);
    const [p] = await presets();
    expect((await h.api('DELETE', `/v1/rules/${p.id}`)).status).toBe(204);
    await ensureHeraldRule(h.sql);
    expect(await presets()).toHaveLength(0);
  });
});

describe('readiness history and the System page', () => {
  it('keeps each process\'s checks and shows uptime, processes and incidents', async () => {
    await ticks(2);
    const s = await h.api('GET', '/v1/system');
    expect(s.status).toBe(200);
    expect(s.body.checks.length).toBeGreaterThan(1);
    expect(s.body.checks[0]).toMatchObject({ process_id: h.watcher.process.id, ready: true, checks: { database: { status: 'ok' } } });
    expect(s.body.uptime.last_24h.share).toBeGreaterThan(0);
    expect(s.body.processes.find((p: { id: string }) => p.id === h.watcher.process.id)).toMatchObject({ state: 'alive', roles: ['api', 'worker'] });
    expect(s.body.incidents.find((i: { key: string }) => i.key === 'queue')).toMatchObject({ open: false, seq: 2 });
    expect(s.body.retention.events_days).toBe(90);
  });

  it('needs audit:read', async () => {
    const k = await h.api('POST', '/v1/api-keys', { name: 'events only', scopes: ['events:write'] });
    const r = await h.api('GET', '/v1/system', undefined, { key: k.body.key });
    expect(r.status).toBe(403);
    expect(r.body.detail).toMatch(/audit:read/);
  });
});
