// Hostile input on the scoring endpoints (in the style of attack.test.ts): every JSON field and query parameter
// gets a NUL, a lone surrogate, JSON nested 5,000 deep and numbers too large for a double, while good events
// are posted beside them. No answer may be a 5xx or hang, and every good event must be accepted. Events whose
// metadata carries `__proto__` or `constructor` keys become attributes like any other key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from './harness';

let h: TestHerald;

beforeAll(async () => {
  h = await startTestHerald();
  const r = await h.api('POST', '/v1/scores', {
    key: 'attack', name: 'Attack score', entity_kind: 'customer', base: 50, range: [0, 100],
    factors: [{ field: 'metadata.late', weight: -5 }, { field: 'metadata.tier', op: 'eq', value: 'gold', points: 10 }], thresholds: [{ below: 10, title: 'Low' }],
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
});
afterAll(async () => { await h?.stop(); });

const DEEP = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
const DEEP_ARRAY = '['.repeat(5000) + ']'.repeat(5000);
const HOSTILE = ['"bad\\u0000value"', '"\\ud800"', '"\\udfff tail"', DEEP, DEEP_ARRAY, '1e400', '-1e400', '1e308', '-0', '123456789012345678901234567890'];
const HOSTILE_QUERY = ['%00', '%ED%A0%80', '1e400', '-0', '9'.repeat(400), encodeURIComponent('[{"a":'.repeat(200))];

const endpoints = () => [
  { method: 'POST', path: '/v1/scores', body: {
    key: 'k_attack', name: 'n', entity_kind: 'customer', base: 0, range: [0, 100],
    factors: [{ field: 'metadata.a', op: 'gt', value: 1, points: 5 }, { field: 'metadata.b', weight: 2, scale: { min: 0, max: 10 } }, { count: { category: 'x', type: 'y', days: 30 }, points: -1, cap: 10 }],
    thresholds: [{ below: 20, severity: 'warning', title: 't' }] } },
  { method: 'POST', path: '/v1/scores', body: {
    key: 'm_attack', name: 'm', entity_kind: 'deal',
    model: { kind: 'logistic', outcome: { positive: { category: 's', type: 'won' }, negative: { category: 's', type: 'lost' } }, features: ['metadata.x', { field: 'metadata.r', type: 'category' }] } } },
  { method: 'PATCH', path: '/v1/scores/attack', body: { name: 'n2', base: 60, thresholds: [{ above: 90, title: 'High' }] } },
  { method: 'POST', path: '/v1/scores/attack/recompute', body: {} },
];
const queries = () => [
  { path: '/v1/entities', params: { kind: 'customer', q: 'ac', limit: '10', cursor: 'abc' } },
  { path: '/v1/scores/attack/entities', params: { order: 'asc', below: '40', above: '1', q: 'x', crossed: 'true', limit: '10', cursor: 'abc' } },
  { path: '/v1/entities/customer/acme', params: {} },
  { path: '/v1/entities/customer/acme/scores/attack/history', params: {} },
  { path: '/v1/scores/attack/runs/1', params: {} },
];

async function send(method: string, path: string, raw: string | undefined): Promise<number> {
  const ctl = AbortSignal.timeout(15_000);
  const res = await fetch(h.url + path, { method, headers: { 'content-type': 'application/json', authorization: 'Bearer hk_test_admin_key_0123456789abcdef' }, body: raw, signal: ctl });
  await res.arrayBuffer();
  return res.status;
}

describe('hostile input on the scoring endpoints', () => {
  it('metadata keys such as __proto__ are attributes like any other, and a score still computes', async () => {
    const raw = '{"category":"crm","type":"customer_updated","title":"t","entity":{"kind":"customer","id":"acme","name":"Acme"},"metadata":{"__proto__":{"late":99},"constructor":5,"late":2,"tier":"gold"}}';
    const r = await h.api('POST', '/v1/events', undefined, { raw });
    expect(r.status).toBe(202);
    const e = await h.eventually(async () => {
      const x = await h.api('GET', '/v1/entities/customer/acme');
      return x.status === 200 && x.body.scores.attack.value !== null && x.body;
    });
    expect(e.attributes).toEqual(JSON.parse('{"__proto__":{"late":99},"constructor":5,"late":2,"tier":"gold"}'));
    expect(e.scores.attack.value).toBe(50); // 50 − 5 × 2 + 10
  });

  it('accepts each valid body, then never answers 5xx nor hangs on hostile ones; good events beside them all accepted', async () => {
    for (const e of endpoints()) expect(await send(e.method, e.path, JSON.stringify(e.body)), `${e.method} ${e.path}`).toBeLessThan(300);
    const bad: Array<{ what: string; run: () => Promise<number> }> = [];
    for (const e of endpoints()) {
      for (const field of Object.keys(e.body)) {
        for (const v of HOSTILE) {
          const text = JSON.stringify({ ...e.body, [field]: '__X__' }).replace('"__X__"', v);
          bad.push({ what: `${e.method} ${e.path} ${field}=${v.slice(0, 20)}`, run: () => send(e.method, e.path, text) });
        }
      }
      bad.push({ what: `${e.method} ${e.path} body deep`, run: () => send(e.method, e.path, DEEP) });
      bad.push({ what: `${e.method} ${e.path} body null`, run: () => send(e.method, e.path, 'null') });
    }
    // Inside factors and thresholds too: each field of the first factor and threshold.
    const base = endpoints()[0].body;
    for (const [i, f] of (base.factors as Array<Record<string, unknown>>).entries()) {
      for (const field of Object.keys(f)) {
        for (const v of HOSTILE) {
          const factors = base.factors!.map((x, j) => (j === i ? { ...x, [field]: '__X__' } : x));
          const text = JSON.stringify({ ...base, key: `f${i}`, factors }).replace('"__X__"', v);
          bad.push({ what: `factor ${i}.${field}=${v.slice(0, 20)}`, run: () => send('POST', '/v1/scores', text) });
        }
      }
    }
    for (const q of queries()) {
      for (const name of Object.keys(q.params)) {
        for (const v of HOSTILE_QUERY) {
          const qs = Object.entries(q.params).map(([k, x]) => `${k}=${k === name ? v : encodeURIComponent(x)}`).join('&');
          bad.push({ what: `GET ${q.path} ${name}=${v.slice(0, 12)}`, run: () => send('GET', `${q.path}?${qs}`, undefined) });
        }
      }
      for (const v of HOSTILE_QUERY) {
        const p = q.path.replace('acme', v).replace('/attack/', `/${v}/`);
        bad.push({ what: `GET ${p.slice(0, 60)}`, run: () => send('GET', p, undefined) });
      }
    }
    const failures: string[] = [];
    let good = 0;
    for (let i = 0; i < bad.length; i += 12) {
      const round = bad.slice(i, i + 12);
      const [statuses, goods] = await Promise.all([
        Promise.all(round.map((b) => b.run().then((s) => s, (e: Error) => -1 * (e.name === 'TimeoutError' ? 1 : 2)))),
        Promise.all(Array.from({ length: 10 }, (_, j) => h.api('POST', '/v1/events', { category: 'crm', type: 'touch', title: `good ${i}-${j}`, entity: { kind: 'customer', id: `c${j}` }, metadata: { late: j } }))),
      ]);
      statuses.forEach((s, j) => { if (s >= 500 || s < 0) failures.push(`${round[j].what} → ${s === -1 ? 'hang' : s}`); });
      for (const g of goods) if (g.status === 202) good++; else failures.push(`good event → ${g.status}`);
    }
    expect(failures).toEqual([]);
    expect(good).toBe(Math.ceil(bad.length / 12) * 10);
    // Every value written is a finite number.
    const values = await h.sql<{ value: number }[]>`select value from score_values`;
    expect(values.length).toBeGreaterThan(0);
    for (const v of values) expect(Number.isFinite(v.value)).toBe(true);
  }, 600_000);
});
