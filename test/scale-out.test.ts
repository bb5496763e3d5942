// Issue 15 #2 and #3: `npm start`'s supervisor with two API and three worker processes on one Postgres
// (HERALD_API_PROCESSES=2 HERALD_WORKER_PROCESSES=3). Thousands of events through both API processes: every
// accepted event is routed once, one alert and one webhook delivery (one webhook-id) per dedup key, and every
// process did part of the work. A worker killed with SIGKILL is started again and nothing is lost; SIGINT
// stops every process. Postgres and graphile-worker coordinate; the test only counts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { ADMIN_KEY, freshDatabase, startReceiver, type Receiver } from './harness';
import { freePort } from '../db/embedded';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

let sup: ChildProcess;
let out = '';
let base = '';
let dbUrl = '';
let sql: postgres.Sql;
let rec: Receiver;

function childrenOf(pid: number): number[] {
  const kids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, 'utf8');
      // Herald's processes (not tsx's esbuild service, also a child of the supervisor)
      if (Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]) === pid && readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('api/main.ts')) kids.push(Number(d));
    } catch { /* gone */ }
  }
  return kids;
}
function cpuMs(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const x = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(x[11]) + Number(x[12])) * 10;
  } catch { return 0; }
}
const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const waitFor = async (what: string, cond: () => boolean | Promise<boolean>, ms: number) => {
  const end = Date.now() + ms;
  while (Date.now() < end) { if (await cond()) return; await new Promise((r) => setTimeout(r, 100)); }
  throw new Error(`${what} not within ${ms} ms:\n${out.slice(-3000)}`);
};
const api = async (method: string, p: string, body?: unknown) => {
  const r = await fetch(base + p, { method, headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
};
const event = (key: string) => ({ category: 'scale', type: 'load', title: `Scale ${key}`, severity: 'warning', dedup_key: key });

beforeAll(async () => {
  dbUrl = await freshDatabase();
  rec = await startReceiver();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  sup = spawn(process.execPath, ['--import', 'tsx', 'api/main.ts'], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env, DATABASE_URL: dbUrl, PORT: String(port), HOST: '127.0.0.1', HERALD_ADMIN_API_KEY: ADMIN_KEY,
      HERALD_SECRET_KEY: 'test-secret', HERALD_WEBHOOK_ALLOW_PRIVATE: '1', LOG_LEVEL: 'warn',
      HERALD_API_PROCESSES: '2', HERALD_WORKER_PROCESSES: '3', HERALD_INGEST_MAX_WAIT_MS: '60000',
    },
  });
  sup.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
  sup.stderr!.on('data', (c: Buffer) => { out += c.toString(); });
  await waitFor('the supervisor reporting its processes', () => out.includes('Ctrl-C stops them all'), 280_000);
  sql = postgres(dbUrl, { max: 2, onnotice: () => {} });
  expect((await api('POST', '/v1/rules', { name: 'Scale', match: { category: 'scale' }, channels: ['in_app'] })).status).toBe(201);
  expect((await api('POST', '/v1/webhooks', { url: rec.url, events: ['alert.triggered'] })).status).toBe(201);
}, 300_000);

afterAll(async () => {
  await sql?.end();
  if (sup && sup.exitCode === null) { sup.kill('SIGKILL'); for (const k of childrenOf(sup.pid!)) { try { process.kill(k, 'SIGKILL'); } catch { /* gone */ } } }
  await rec?.close();
});

/** Sends `n` events with keys prefix-0…: batches of 50 from 8 senders (several connections, so both API processes serve). */
async function send(prefix: string, n: number): Promise<string[]> {
  const keys = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
  const chunks: string[][] = [];
  for (let i = 0; i < n; i += 50) chunks.push(keys.slice(i, i + 50));
  let next = 0;
  const accepted: string[] = [];
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < chunks.length) {
      const c = chunks[next++];
      const r = await api('POST', '/v1/events/batch', { events: c.map(event) });
      expect(r.status).toBe(202);
      r.body.results.forEach((x: { event_id?: number }, j: number) => { if (x.event_id) accepted.push(c[j]); });
    }
  }));
  return accepted;
}

async function settled(prefix: string, keys: string[]) {
  await waitFor('every event routed', async () => {
    const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from events where dedup_key like ${prefix + '-%'} and status = 'accepted'`;
    return n === 0;
  }, 120_000);
  await waitFor('every webhook received', () => {
    const got = new Set(rec.hits.map((x) => JSON.parse(x.body).data.alert.dedup_key));
    return keys.every((k) => got.has(k));
  }, 120_000);
}

describe('scale-out: 2 API + 3 worker processes on one Postgres', () => {
  it('runs five processes; every accepted event is routed once, one alert and one delivery per key; each process works', async () => {
    const kids = childrenOf(sup.pid!);
    expect(kids.length).toBe(5);
    const before = new Map(kids.map((k) => [k, cpuMs(k)]));
    const keys = await send('s', 3000);
    expect(keys.length).toBe(3000);
    await settled('s', keys);
    const [a] = await sql<{ events: number; routed: number; alerts: number; keys: number }[]>`
      select (select count(*)::int from events where dedup_key like 's-%') as events,
             (select count(*)::int from events where dedup_key like 's-%' and status = 'routed') as routed,
             (select count(*)::int from alerts where dedup_key like 's-%') as alerts,
             (select count(distinct dedup_key)::int from alerts where dedup_key like 's-%') as keys`;
    expect(a).toEqual({ events: 3000, routed: 3000, alerts: 3000, keys: 3000 });
    const hits = rec.hits.map((x) => ({ id: x.headers['webhook-id'], key: JSON.parse(x.body).data.alert.dedup_key as string })).filter((x) => x.key.startsWith('s-'));
    expect(hits.length).toBe(3000); // no delivery twice
    expect(new Set(hits.map((x) => x.id)).size).toBe(3000);
    const [{ dups }] = await sql<{ dups: number }[]>`select count(*)::int as dups from (select alert_id from webhook_deliveries group by alert_id, event_type having count(*) > 1) x`;
    expect(dups).toBe(0);
    // Every process did part of it: the two API processes took connections, the three workers took jobs.
    for (const k of kids) expect(cpuMs(k) - before.get(k)!, `process ${k} used no CPU during the load`).toBeGreaterThan(50);
    const [{ pools }] = await sql<{ pools: number }[]>`select count(*)::int as pools from pg_stat_activity where application_name like 'herald-pool:%'`;
    expect(pools).toBeGreaterThanOrEqual(3);
  }, 240_000);

  it('a worker killed with SIGKILL is started again; events sent meanwhile are all routed, one alert per key', async () => {
    const line = /and 3 worker process\(es\) \(pid ([\d, ]+)\)/.exec(out);
    expect(line).not.toBeNull();
    const victim = Number(line![1].split(',')[0].trim());
    const sending = send('k', 1000);
    await new Promise((r) => setTimeout(r, 300));
    process.kill(victim, 'SIGKILL');
    const keys = await sending;
    expect(keys.length).toBe(1000);
    await waitFor('the worker started again', () => /worker process 1 running again/.test(out), 90_000);
    await settled('k', keys);
    const [a] = await sql<{ alerts: number; keys: number; ids: number }[]>`
      select (select count(*)::int from alerts where dedup_key like 'k-%') as alerts,
             (select count(distinct dedup_key)::int from alerts where dedup_key like 'k-%') as keys,
             (select count(distinct d.msg_id)::int from webhook_deliveries d join alerts a on a.id = d.alert_id where a.dedup_key like 'k-%') as ids`;
    expect(a).toEqual({ alerts: 1000, keys: 1000, ids: 1000 });
    expect(childrenOf(sup.pid!).length).toBe(5);
  }, 240_000);

  it('SIGINT stops every process', async () => {
    const kids = childrenOf(sup.pid!);
    const exited = new Promise<number | null>((r) => sup.once('exit', (c) => r(c)));
    sup.kill('SIGINT');
    expect(await exited).toBe(0);
    await waitFor('every child gone', () => kids.every((k) => !alive(k)), 10_000);
  }, 60_000);
});
