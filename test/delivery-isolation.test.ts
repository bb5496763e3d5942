// Issue 14 #6: failing webhooks must not starve routing. Ten subscriptions to a receiver that accepts the TCP
// connection and never answers, 250 alerts, and then a new event is still routed within seconds, a healthy
// webhook still gets every delivery (once), and the dead endpoint's circuit opens so its deliveries are
// rescheduled without requests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { spawn } from 'node:child_process';
import { startReceiver, startTestHerald, type Receiver, type TestHerald } from './harness';
import { BREAKER_THRESHOLD, post } from '../db/webhooks/deliver';

let h: TestHerald;
let healthy: Receiver;
let hang: { url: string; requests: number; connections: number; close: () => Promise<void> };

/** Accepts every connection, reads the request, never answers. */
async function startHangingReceiver() {
  const sockets = new Set<Socket>();
  const state = { url: '', requests: 0, connections: 0, close: async () => {} };
  const srv: Server = createServer((s) => {
    state.connections++;
    sockets.add(s);
    s.on('data', (b) => { state.requests += (b.toString('latin1').match(/^POST /gm) ?? []).length; });
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  state.url = `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
  state.close = () => new Promise((r) => { for (const s of sockets) s.destroy(); srv.close(() => r()); });
  return state;
}

beforeAll(async () => {
  h = await startTestHerald();
  healthy = await startReceiver();
  hang = await startHangingReceiver();
  expect((await h.api('POST', '/v1/rules', { name: 'Shop floor', match: { category: 'production' }, channels: ['in_app'] })).status).toBe(201);
});
afterAll(async () => { await h?.stop(); await healthy?.close(); await hang?.close(); });

const routedWithin = async (title: string, ms: number) => {
  const started = Date.now();
  const e = await h.api('POST', '/v1/events', { category: 'production', type: 'line_stopped', title });
  expect(e.status).toBe(202);
  const ev = await h.eventually(async () => {
    const r = await h.api('GET', `/v1/events/${e.body.event_id}`);
    return r.body.alert_id && r.body;
  }, ms);
  const [alert] = await h.sql`select id, title from alerts where id = ${ev.alert_id}`;
  expect(alert.title).toBe(title);
  return { alertId: Number(alert.id), ms: Date.now() - started };
};

describe('failing webhooks do not starve routing', () => {
  it('10 hanging subscriptions and 250 alerts: a new event is routed in seconds, the healthy webhook gets everything', async () => {
    const dead: number[] = [];
    for (let i = 0; i < 10; i++) {
      const w = await h.api('POST', '/v1/webhooks', { url: `${hang.url}/hook/${i}`, events: ['alert.triggered'] });
      expect(w.status).toBe(201);
      dead.push(w.body.id);
    }
    const good = await h.api('POST', '/v1/webhooks', { url: healthy.url, events: ['alert.triggered'] });
    expect(good.status).toBe(201);

    // 250 alerts: 2,500 deliveries to the hanging receiver, 250 to the healthy one.
    const batch = await h.api('POST', '/v1/events/batch', { events: Array.from({ length: 250 }, (_, i) => ({
      category: 'production', type: 'machine_down', title: `Machine ${i} down`, dedup_key: `machine-${i}` })) });
    expect(batch.status).toBe(202);
    await h.eventually(async () => (await h.sql`select count(*)::int as n from alerts where dedup_key like 'machine-%'`)[0].n === 250, 20_000);
    // The receiver holds connections open and answers nothing.
    await h.eventually(async () => hang.requests > 0, 5_000);

    // While requests hang: a new event is routed (its alert exists) within a few seconds.
    const first = await routedWithin('Press 4 jammed', 5_000);
    console.log(`routed while 10 receivers hang: ${first.ms} ms (hanging receiver saw ${hang.requests} requests on ${hang.connections} connections)`);
    expect(first.ms).toBeLessThan(5_000);

    // The healthy webhook received every alert, each once, without waiting for the dead ones.
    const seen = await h.eventually(async () => {
      const ids = new Set(healthy.hits.map((x) => JSON.parse(x.body).data.alert.id as number));
      return ids.size >= 251 && ids;
    }, 10_000);
    expect(seen.has(first.alertId)).toBe(true);
    expect(new Set(healthy.hits.map((x) => x.headers['webhook-id'])).size).toBe(healthy.hits.length);

    // The attempts end at the 10 s total timeout; the breaker of each dead endpoint opens.
    const hooks = await h.eventually(async () => {
      const rows = await h.sql<{ id: number; failure_streak: number; breaker_open_until: Date | null }[]>`
        select id, failure_streak, breaker_open_until from webhooks where id = any(${dead}::bigint[])`;
      return rows.every((r) => r.failure_streak >= BREAKER_THRESHOLD && r.breaker_open_until && r.breaker_open_until.getTime() > Date.now()) && rows;
    }, 20_000);
    expect(hooks).toHaveLength(10);
    const [{ n: goodStreak }] = await h.sql`select failure_streak as n from webhooks where id = ${good.body.id}`;
    expect(goodStreak).toBe(0);
    const [timing] = await h.sql<{ min: number; max: number; err: string }[]>`
      select min(duration_ms)::int as min, max(duration_ms)::int as max, min(last_error) as err
      from webhook_deliveries where webhook_id = any(${dead}::bigint[]) and attempts = 1`;
    expect(timing.err).toMatch(/no answer within 10000 ms/);
    expect(timing.max).toBeLessThan(12_000);

    // Their failed deliveries wait for the end of the pause: one resume job per endpoint, no job per delivery.
    const [waiting] = await h.sql`
      select count(*)::int as n, count(*) filter (where d.next_attempt_at = w.breaker_open_until)::int as at_pause_end
      from webhook_deliveries d join webhooks w on w.id = d.webhook_id where d.webhook_id = any(${dead}::bigint[]) and d.status = 'failed_temp'`;
    expect(waiting.n).toBeGreaterThanOrEqual(2_500);
    // (The new event's 10 deliveries may have failed just before the breakers opened: those have a retry job.)
    expect(waiting.at_pause_end).toBeGreaterThanOrEqual(2_500);
    const jobs = await h.sql<{ key: string | null; queue: string }[]>`
      select j.key, q.queue_name as queue from graphile_worker._private_jobs j
      join graphile_worker._private_job_queues q on q.id = j.job_queue_id
      where q.queue_name = any(${dead.map((id) => `webhook:${id}`)}::text[])`;
    expect(jobs.filter((j) => j.key?.startsWith('delivery:')).length).toBeLessThanOrEqual(10);
    expect(new Set(jobs.filter((j) => j.key?.endsWith(':resume')).map((j) => j.queue)).size).toBe(10);

    // Retries that come due while the circuit is still open are rescheduled without a request or an attempt
    // (once the attempts that started before it opened have ended).
    await h.eventually(async () => (await h.sql`
      select count(*)::int as n from webhook_deliveries where webhook_id = any(${dead}::bigint[]) and attempts = 0`)[0].n === 0, 15_000);
    await new Promise((r) => setTimeout(r, 1_000)); // bytes of a request written just before its timeout
    const requestsWhenOpen = hang.requests;
    await h.sql`update webhook_deliveries set next_attempt_at = now() where webhook_id = any(${dead}::bigint[]) and status = 'failed_temp'`;
    await h.sql`update graphile_worker._private_jobs set run_at = now() where key like 'webhook:%:resume'`;
    await h.eventually(async () => (await h.sql`
      select count(*)::int as n from webhook_deliveries where webhook_id = any(${dead}::bigint[]) and last_error like 'circuit open%'`)[0].n >= 2_500, 20_000);
    expect(hang.requests).toBe(requestsWhenOpen);
    const [att] = await h.sql`select max(attempts)::int as n from webhook_deliveries where webhook_id = any(${dead}::bigint[])`;
    expect(att.n).toBe(1);
    // Each endpoint's delivery jobs run one at a time, in their own queue.
    const [q] = await h.sql`
      select coalesce(max(n), 0)::int as n from (select count(*) as n from graphile_worker._private_jobs j
        join graphile_worker._private_tasks t on t.id = j.task_id
        where t.identifier = 'webhook__deliver' and j.locked_at is not null group by j.job_queue_id) x`;
    expect(q.n).toBeLessThanOrEqual(1);

    // Routing is still prompt, and the healthy webhook still gets the new alert.
    const second = await routedWithin('Press 5 jammed', 3_000);
    console.log(`routed with 10 open circuits: ${second.ms} ms`);
    await h.eventually(async () => healthy.hits.some((x) => JSON.parse(x.body).data.alert.id === second.alertId), 5_000);
    expect(new Set(healthy.hits.map((x) => x.headers['webhook-id'])).size).toBe(healthy.hits.length);
  }, 90_000);

  it('a success closes an open circuit and the kept-back deliveries go out, each once', async () => {
    const rx = await startReceiver(503);
    const w = await h.api('POST', '/v1/webhooks', { url: rx.url, events: ['alert.triggered'] });
    for (let i = 0; i < BREAKER_THRESHOLD; i++) {
      await h.api('POST', '/v1/events', { category: 'production', type: 'sensor', title: `Sensor ${i} drift`, dedup_key: `sensor-${i}` });
    }
    // Their retries come due now (instead of after the backoff) until the breaker opens.
    const dueNow = () => h.sql`update graphile_worker._private_jobs set run_at = now() where locked_at is null
      and job_queue_id = (select id from graphile_worker._private_job_queues where queue_name = ${`webhook:${w.body.id}`})`;
    await h.eventually(async () => {
      await dueNow();
      return (await h.sql`select breaker_open_until from webhooks where id = ${w.body.id}`)[0].breaker_open_until;
    }, 30_000);
    const [open] = await h.sql`select count(*)::int as n from webhook_deliveries where webhook_id = ${w.body.id} and status = 'delivered'`;
    expect(open.n).toBe(0);
    rx.status = 200;
    const before = rx.hits.length;
    // The pause ends (as if its time had come): one trial, then everything kept back, under the same webhook-ids.
    await h.sql`update webhooks set breaker_open_until = now() where id = ${w.body.id}`;
    await h.sql`update webhook_deliveries set next_attempt_at = now() where webhook_id = ${w.body.id} and next_attempt_at is not null`;
    await h.eventually(async () => {
      await dueNow();
      return (await h.sql`select count(*)::int as n from webhook_deliveries where webhook_id = ${w.body.id} and status = 'delivered'`)[0].n === BREAKER_THRESHOLD;
    }, 15_000);
    const [row] = await h.sql`select failure_streak, breaker_open_until from webhooks where id = ${w.body.id}`;
    expect(row).toMatchObject({ failure_streak: 0, breaker_open_until: null });
    const ids = rx.hits.slice(before).map((x) => x.headers['webhook-id']);
    expect(new Set(ids).size).toBe(ids.length);
    await rx.close();
  }, 60_000);
});

describe('webhook timeouts', () => {
  it('a receiver that accepts and never answers costs at most the total timeout', async () => {
    const started = Date.now();
    const r = await post(`${hang.url}/x`, {}, '{}', true, { connectMs: 3_000, totalMs: 300 });
    expect(r.status).toBeNull();
    expect(r.error).toMatch(/no answer within 300 ms/);
    expect(Date.now() - started).toBeLessThan(1_500);
  });
});

describe('webhook connect timeout', () => {
  it('an address that never completes the TCP handshake costs at most the connect timeout', async () => {
    // A listener whose process never accepts (its event loop is blocked) and whose backlog is full: further
    // SYNs are dropped, as by a blackhole address.
    const child = spawn(process.execPath, ['-e', `
      const s = require('net').createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
        console.log(s.address().port);
        setTimeout(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30000), 50);
      });`], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const port = await new Promise<number>((r) => child.stdout!.once('data', (b: Buffer) => r(Number(b.toString().trim()))));
      await new Promise((r) => setTimeout(r, 200));
      const fillers = Array.from({ length: 8 }, () => connect(port, '127.0.0.1').on('error', () => {}));
      await new Promise((r) => setTimeout(r, 300));
      const started = Date.now();
      const r = await post(`http://127.0.0.1:${port}/x`, {}, '{}', true, { connectMs: 500, totalMs: 10_000 });
      expect(r.status).toBeNull();
      expect(r.error).toMatch(/could not connect within 500 ms/);
      expect(Date.now() - started).toBeLessThan(3_000);
      for (const f of fillers) f.destroy();
    } finally {
      child.kill('SIGKILL');
    }
  });
});
