// Issue 15 #4: above capacity, ingest refuses with 503 and Retry-After instead of queueing without bound, and
// nothing it accepted is lost or delivered twice. Capacity is made small and exceeded for certain: the test
// holds a lock on the events table, so the first write waits and the requests behind it pile up; past the bound
// (events pending, or the oldest request's wait) they are refused before anything is written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { startReceiver, startTestHerald, type Receiver, type TestHerald } from './harness';

let h: TestHerald;
let rec: Receiver;
let sql: postgres.Sql;

beforeAll(async () => {
  h = await startTestHerald({ HERALD_INGEST_MAX_PENDING: '20', HERALD_INGEST_MAX_WAIT_MS: '60000' });
  rec = await startReceiver();
  sql = postgres(h.databaseUrl, { max: 2, onnotice: () => {} });
  expect((await h.api('POST', '/v1/rules', { name: 'Load', match: { category: 'load' }, channels: ['in_app'] })).status).toBe(201);
  expect((await h.api('POST', '/v1/webhooks', { url: rec.url, events: ['alert.triggered'] })).status).toBe(201);
});
afterAll(async () => { await sql?.end(); await h?.stop(); await rec?.close(); });

const event = (key: string) => ({ category: 'load', type: 'burst', title: `Burst ${key}`, severity: 'warning', dedup_key: key });

/** Holds the events table while `fn` sends; the writes behind the lock are what pile up. */
async function whileEventsLocked<T>(fn: () => Promise<T>, holdMs: number): Promise<T> {
  let release!: () => void;
  const held = new Promise<void>((r) => { release = r; });
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => { locked = r; });
  const tx = sql.begin(async (t) => {
    await t`lock table events in share row exclusive mode`;
    locked();
    await held;
  });
  await isLocked;
  const sending = fn();
  await new Promise((r) => setTimeout(r, holdMs));
  release();
  await tx;
  return await sending;
}

async function settle(keys: string[]) {
  // Every accepted event leaves `accepted` and its alert's webhook arrives: wait for each one.
  await h.eventually(async () => {
    const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from events where dedup_key = any(${keys}) and status <> 'accepted'`;
    return n === keys.length;
  }, 30_000);
  await h.eventually(async () => {
    const got = new Set(rec.hits.map((x) => JSON.parse(x.body).data.alert.dedup_key));
    return keys.every((k) => got.has(k));
  }, 30_000);
}

describe('graceful overload', () => {
  it('past the pending bound, ingest answers 503 with Retry-After; every 202 is stored, routed and delivered once, no 503 is stored', async () => {
    const keys = Array.from({ length: 120 }, (_, i) => `burst-${i}`);
    const answers = await whileEventsLocked(() => Promise.all(keys.map((k) => h.api('POST', '/v1/events', event(k)))), 1500);
    const accepted = keys.filter((_, i) => answers[i].status === 202);
    const refused = answers.map((a, i) => ({ a, k: keys[i] })).filter((x) => x.a.status !== 202);
    expect(refused.length).toBeGreaterThan(0);
    expect(accepted.length).toBeGreaterThan(0);
    for (const { a } of refused) {
      expect(a.status).toBe(503);
      expect(a.headers.get('retry-after')).toBe('1');
      expect(a.headers.get('content-type')).toContain('application/problem+json');
    }
    // Nothing refused was written; everything accepted was, once.
    const stored = await sql<{ dedup_key: string; n: number }[]>`select dedup_key, count(*)::int as n from events where dedup_key like 'burst-%' group by dedup_key`;
    expect(stored.map((x) => x.dedup_key).sort()).toEqual([...accepted].sort());
    expect(stored.every((x) => x.n === 1)).toBe(true);
    const ids = new Map(answers.filter((a) => a.status === 202).map((a) => [a.body.dedup_key ?? '', a.body.event_id]));
    expect(ids.size).toBe(accepted.length);
    await settle(accepted);
    // One alert and one delivery (one webhook-id) per accepted event.
    const hits = rec.hits.map((x) => ({ id: x.headers['webhook-id'], key: JSON.parse(x.body).data.alert.dedup_key as string })).filter((x) => x.key.startsWith('burst-'));
    expect(hits.length).toBe(accepted.length);
    expect(new Set(hits.map((x) => x.id)).size).toBe(accepted.length);
    // After the burst, ingest accepts again (the bound is on what waits, not a ban).
    expect((await h.api('POST', '/v1/events', event('after-burst'))).status).toBe(202);
  });

  it('a batch refused for overload is refused whole (503), never split into a partial write', async () => {
    const batch = (p: string) => ({ events: Array.from({ length: 15 }, (_, i) => event(`${p}-${i}`)) });
    const [a, b, c] = await whileEventsLocked(() => Promise.all([
      h.api('POST', '/v1/events/batch', batch('ba')), h.api('POST', '/v1/events/batch', batch('bb')), h.api('POST', '/v1/events/batch', batch('bc')),
    ]), 800);
    const statuses = [a.status, b.status, c.status];
    expect(statuses.filter((s) => s === 202).length).toBe(1); // 15 pending; 15 more would pass the bound of 20
    expect(statuses.filter((s) => s === 503).length).toBe(2);
    for (const [r, p] of [[a, 'ba'], [b, 'bb'], [c, 'bc']] as const) {
      const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from events where dedup_key like ${p + '-%'}`;
      expect(n).toBe(r.status === 202 ? 15 : 0);
      if (r.status === 503) expect(r.headers.get('retry-after')).toBe('1');
    }
  });
});

describe('graceful overload: the wait bound', () => {
  let h2: TestHerald;
  beforeAll(async () => { h2 = await startTestHerald({ HERALD_INGEST_MAX_PENDING: '100000', HERALD_INGEST_MAX_WAIT_MS: '300' }); });
  afterAll(async () => { await h2?.stop(); });

  it('a request arriving when the oldest waiting one has waited past HERALD_INGEST_MAX_WAIT_MS is refused', async () => {
    const s2 = postgres(h2.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      let release!: () => void;
      const held = new Promise<void>((r) => { release = r; });
      let locked!: () => void;
      const isLocked = new Promise<void>((r) => { locked = r; });
      const tx = s2.begin(async (t) => { await t`lock table events in share row exclusive mode`; locked(); await held; });
      await isLocked;
      const early = [h2.api('POST', '/v1/events', event('w-0')), h2.api('POST', '/v1/events', event('w-1'))];
      await new Promise((r) => setTimeout(r, 200));
      const queued = h2.api('POST', '/v1/events', event('w-2')); // the first write waits; this one queues behind it
      await new Promise((r) => setTimeout(r, 700));
      const late = await h2.api('POST', '/v1/events', event('w-3'));
      release();
      await tx;
      expect(late.status).toBe(503);
      expect(late.headers.get('retry-after')).toBe('1');
      const results = await Promise.all([...early, queued]);
      expect(results.map((r) => r.status)).toEqual([202, 202, 202]);
      const keys = (await s2<{ k: string }[]>`select dedup_key as k from events where dedup_key like 'w-%' order by 1`).map((x) => x.k);
      expect(keys).toEqual(['w-0', 'w-1', 'w-2']);
    } finally {
      await s2.end();
    }
  });
});
