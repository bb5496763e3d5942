// The durability story: the worker process dies by kill -9 in the middle of a burst, a new one starts, and
// nothing accepted is lost. The API runs in this process (role api); the workers are child processes
// (`api/main.ts --role=worker`) sharing the test's database, as in a multi-process deployment.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startReceiver, startTestHerald, type Receiver, type TestHerald } from './harness';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const TOTAL = 2000;
const BATCHES = 10; // of 100 events each; the rest are single requests
const BATCH_SIZE = 100;
const KEYS = 1800; // events i and i + 1800 share a dedup key: some repeats are deduplicated into open alerts

// How long the new worker gets to route what the dead one left. The dead worker's locked jobs (its local
// queue holds up to 200) come back when db/jobs/liveness.ts declares it dead: after 30 s without heartbeat, on
// the minute sweep, i.e. 30 to 90 s after the kill. Events older than 60 s are also re-routed by that sweep.
const WAIT_MS = Number(process.env.CRASH_WAIT_MS ?? 45_000);

let h: TestHerald;
let hook: Receiver;
const workers: ChildProcess[] = [];

/** A worker-only Herald as its own process; resolves once it reports that it runs. */
async function startWorkerProcess(databaseUrl: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'api/main.ts', '--role=worker'], {
    cwd: ROOT,
    env: {
      ...process.env, DATABASE_URL: databaseUrl, HERALD_SECRET_KEY: 'test-secret', HERALD_WEBHOOK_ALLOW_PRIVATE: '1',
      HERALD_POLL_INTERVAL_MS: '50', LOG_LEVEL: 'error', PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  workers.push(child);
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start:\n${out}`)), 30_000);
    const onData = (c: Buffer) => {
      out += c.toString();
      if (out.includes('Herald is running')) { clearTimeout(timer); resolve(); }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => { out += c.toString(); });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`worker exited with ${code}:\n${out}`)); });
  });
  child.removeAllListeners('exit');
  return child;
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
  });
}

beforeAll(async () => {
  h = await startTestHerald({}, { roles: { api: true, worker: false } });
  hook = await startReceiver();
  expect((await h.api('POST', '/v1/webhooks', { url: hook.url, events: ['alert.triggered'] })).status).toBe(201);
  expect((await h.api('POST', '/v1/users', { name: 'Ana Accountant', email: 'ana@example.com', roles: ['accounting'] })).status).toBe(201);
  expect((await h.api('POST', '/v1/users', { name: 'Abe Accountant', email: 'abe@example.com', roles: ['accounting'] })).status).toBe(201);
  const rule = await h.api('POST', '/v1/rules', {
    name: 'Shop floor', position: 10, match: { category: 'production', type: null },
    targets: { roles: ['accounting'] }, channels: ['in_app'], priority: 'high',
  });
  expect(rule.status).toBe(201);
});

afterAll(async () => {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) { w.kill('SIGKILL'); await killed(w); }
  await h?.stop();
  await hook?.close();
});

describe('kill -9 of the worker during a burst', () => {
  it('loses nothing that was accepted: every event has its alert, messages and exactly one webhook', async () => {
    let worker = await startWorkerProcess(h.databaseUrl);

    const event = (i: number) => ({
      category: 'production', type: 'machine_down', title: `Machine ${i % KEYS} down`, severity: 'error',
      dedup_key: `machine-${i % KEYS}`, metadata: { i },
    });
    const accepted: number[] = [];
    const post = async (path: string, body: unknown) => {
      const r = await h.api('POST', path, body);
      expect(r.status).toBe(202);
      return r.body;
    };

    // The burst: batches spread over the run, single events 24 at a time.
    let next = 0;
    const claim = (n: number) => { const from = next; next += n; return from; };
    const started = Date.now();
    const singles = (async () => {
      await Promise.all(Array.from({ length: 24 }, async () => {
        while (next < TOTAL - BATCHES * BATCH_SIZE) {
          const i = claim(1);
          const r = await post('/v1/events', event(i));
          accepted.push(r.event_id);
        }
      }));
    })();
    const batches = (async () => {
      for (let b = 0; b < BATCHES; b++) {
        await new Promise((res) => setTimeout(res, 150));
        const from = TOTAL - BATCHES * BATCH_SIZE + b * BATCH_SIZE;
        const r = await post('/v1/events/batch', { events: Array.from({ length: BATCH_SIZE }, (_, k) => event(from + k)) });
        for (const x of r.results) { expect(x.event_id).toBeTypeOf('number'); accepted.push(x.event_id); }
      }
    })();

    // In the middle of the burst, once the worker is busy: kill -9, and a new worker starts.
    await h.eventually(async () => accepted.length >= TOTAL * 0.4, 20_000);
    const [busy] = await h.sql<{ n: number }[]>`select count(*)::int as n from graphile_worker._private_jobs where locked_at is not null`;
    worker.kill('SIGKILL');
    await killed(worker);
    const killedAt = accepted.length;
    const [routedAtKill] = await h.sql<{ n: number }[]>`select count(*)::int as n from events where status <> 'accepted'`;
    worker = await startWorkerProcess(h.databaseUrl);

    await Promise.all([singles, batches]);
    expect(accepted).toHaveLength(TOTAL);
    const burstMs = Date.now() - started;

    // Every 202'd event exists, and each one leaves `accepted`.
    const ids = [...new Set(accepted)];
    expect(ids).toHaveLength(TOTAL);
    const [{ n: stored }] = await h.sql<{ n: number }[]>`select count(*)::int as n from events where id = any(${ids}::bigint[])`;
    expect(stored).toBe(TOTAL);
    const waitStart = Date.now();
    const recoveryDeadline = waitStart + WAIT_MS;
    let left = -1;
    try {
      await h.eventually(async () => {
        [{ n: left }] = await h.sql<{ n: number }[]>`select count(*)::int as n from events where id = any(${ids}::bigint[]) and status = 'accepted'`;
        return left === 0;
      }, WAIT_MS);
    } finally {
      console.log(`crash story: burst ${burstMs} ms, killed after ${killedAt} accepted (${routedAtKill.n} routed, ${busy.n} jobs locked), `
        + `${left} still accepted after ${Date.now() - waitStart} ms`);
    }

    // Each event became (or joined) an alert: one alert per dedup key.
    const events = await h.sql<{ id: number; status: string; alert_id: number | null; dedup_key: string }[]>`
      select id, status, alert_id, dedup_key from events where id = any(${ids}::bigint[])`;
    const bad = events.filter((e) => !['routed', 'deduplicated'].includes(e.status) || e.alert_id === null);
    expect(bad.slice(0, 5)).toEqual([]);
    const alertIds = [...new Set(events.map((e) => Number(e.alert_id)))];
    expect(alertIds).toHaveLength(new Set(events.map((e) => e.dedup_key)).size);
    const byKey = new Map<string, Set<number>>();
    for (const e of events) (byKey.get(e.dedup_key) ?? byKey.set(e.dedup_key, new Set()).get(e.dedup_key)!).add(Number(e.alert_id));
    expect([...byKey.values()].filter((s) => s.size > 1)).toEqual([]);

    // Every alert has its in-app messages and notifications (two accountants), written with it.
    const perAlert = await h.sql<{ id: number; messages: number; notes: number; triggered: number }[]>`
      select a.id,
        (select count(*)::int from messages m where m.alert_id = a.id and m.level = 0 and m.channel = 'in_app') as messages,
        (select count(*)::int from notifications n where n.alert_id = a.id and n.level = 0) as notes,
        (select count(*)::int from webhook_deliveries d where d.alert_id = a.id and d.event_type = 'alert.triggered') as triggered
      from alerts a where a.id = any(${alertIds}::bigint[])`;
    expect(perAlert).toHaveLength(alertIds.length);
    expect(perAlert.filter((a) => a.messages !== 2 || a.notes !== 2).slice(0, 5)).toEqual([]);
    // Exactly one alert.triggered delivery per alert: a re-run of routing never fans out twice.
    expect(perAlert.filter((a) => a.triggered !== 1).slice(0, 5)).toEqual([]);

    // Every alert.triggered reaches the receiver, including those whose job the dead worker held.
    let undelivered = -1;
    await h.eventually(async () => {
      [{ n: undelivered }] = await h.sql<{ n: number }[]>`
        select count(*)::int as n from webhook_deliveries where alert_id = any(${alertIds}::bigint[]) and status <> 'delivered'`;
      return undelivered === 0;
    }, Math.max(15_000, recoveryDeadline - Date.now())).catch(() => {});
    expect(undelivered).toBe(0);
    const seen = new Set(hook.hits.map((x) => (JSON.parse(x.body) as { data: { alert: { id: number } } }).data.alert.id));
    expect(alertIds.filter((id) => !seen.has(id)).slice(0, 5)).toEqual([]);

    // The receiver may see one webhook-id twice (an at-least-once retry), never one alert under two ids.
    const idsByAlert = new Map<string, Set<string>>();
    for (const x of hook.hits) {
      const body = JSON.parse(x.body) as { type: string; data: { alert: { id: number } } };
      const k = `${body.data.alert.id}|${body.type}`;
      (idsByAlert.get(k) ?? idsByAlert.set(k, new Set()).get(k)!).add(x.headers['webhook-id']);
    }
    console.log(`crash story: ${alertIds.length} alerts, ${hook.hits.length} webhooks received (repeats of a webhook-id are retries)`);
    expect([...idsByAlert].filter(([, s]) => s.size > 1).map(([k]) => k)).toEqual([]);
  }, WAIT_MS + 60_000);
});
