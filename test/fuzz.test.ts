// Fuzz (issue 14, "Proof"): thousands of generated requests over the JSON endpoints and some query strings,
// each a valid request with a few fields replaced by hostile values: NUL, lone surrogates, deep nesting, huge
// numbers (1e308, 1e400, -0, big integers as strings), odd dates and wrong types. Sent concurrently together
// with known-good events. Asserts: no 500 (nor any other 5xx), no hang, every 4xx is problem+json, and every
// good request interleaved with them succeeds.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, startTestHerald, type TestHerald } from './harness';

let h: TestHerald;
/** Things that exist, for the PATCH and action endpoints. */
const ids = { rule: 0, user: 0, webhook: 0, alert: 0 };
beforeAll(async () => {
  h = await startTestHerald();
  ids.rule = (await h.api('POST', '/v1/rules', { name: 'Fuzz target', position: 1, continue: true, match: { category: 'fuzz' }, targets: { roles: ['admin'] } })).body.id;
  ids.user = (await h.api('POST', '/v1/users', { name: 'Patch me', email: 'patch@example.com' })).body.id;
  ids.webhook = (await h.api('POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['*'], enabled: false })).body.id;
  const ev = await h.api('POST', '/v1/events', { category: 'fuzz', type: 'target', title: 'Alert to act on' });
  ids.alert = await h.eventually(async () => (await h.api('GET', `/v1/events/${ev.body.event_id}`)).body.alert_id);
});
afterAll(async () => { await h?.stop(); });

// ---------------------------------------------------------------- hostile values

/** A number written exactly as given in the JSON text (JSON.stringify cannot say -0 or 1e400). */
class RawNumber { constructor(readonly text: string) {} }
/** Nesting `depth` deep, written directly (a JS value that deep is fine, but building it per sample is slow). */
class Deep { constructor(readonly depth: number, readonly kind: 'object' | 'array') {} }

const nastyChars = fc.constantFrom('\u0000', '\ud800', '\udfff', '\ud83d', '\ufffe', '\uffff', '\u202e', '\u2028', '%00', '\\', '"', '\u0000\u0000', '\udc00\ud800');
const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.string({ maxLength: 8 }), nastyChars, fc.string({ maxLength: 8 })).map(([a, b, c]) => a + b + c),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: fc.constantFrom('a', '\u0000', '\ud800', 'é', '😀', ' '), maxLength: 12 }),
  fc.constantFrom(
    '', ' ', '0000-01-01T00:00:00Z', '1969-12-31T23:59:59Z', '9999-12-31T23:59:60Z', '+275760-09-13T00:00:00Z', '-000001-01-01T00:00:00Z',
    '2024-02-30T00:00:00Z', '2024-13-01T00:00:00Z', '2024-01-01T25:00:00Z', '2024-01-01', '2024-01-01T00:00:00+24:00', 'now', 'Infinity',
    'NaN', '-0', '1e308', '1e400', '123456789012345678901234567890', '-9223372036854775809', '0x10', 'null', 'true', '[]', '{}',
    '__proto__', 'constructor', '../../etc/passwd', "'; drop table events; --", '<script>', 'a'.repeat(70_000), '^(a+)+$', '(a)\\1',
    'http://127.0.0.1:9/\u0000', 'javascript:alert(1)', 'x@y', 'Europe/Nowhere',
  ),
);
const nastyNumber: fc.Arbitrary<number | RawNumber> = fc.oneof(
  fc.constantFrom(1e308, -1e308, 5e-324, Number.MAX_SAFE_INTEGER + 2, -1, 0, 0.5, 2 ** 63, 1e21),
  fc.constantFrom('-0', '1e400', '-1e400', '123456789012345678901234567890', '1E+2', '0.0000000000000000000001', '-0.0e-0').map((t) => new RawNumber(t)),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);
const deep: fc.Arbitrary<Deep> = fc.tuple(fc.constantFrom(33, 100, 5_000, 20_000), fc.constantFrom('object' as const, 'array' as const)).map(([d, k]) => new Deep(d, k));
const nastyValue: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    nastyString,
    nastyNumber,
    fc.constantFrom(null, true, false),
    deep,
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(fc.oneof(nastyString, fc.string({ maxLength: 6 })), tie('v'), { maxKeys: 3 }),
  ),
})).v;

/** JSON text for a value that may hold RawNumber and Deep (lone surrogates become \\uXXXX escapes). */
function toJson(v: unknown): string {
  if (v instanceof RawNumber) return v.text;
  if (v instanceof Deep) return v.kind === 'object' ? `${'{"a":'.repeat(v.depth)}1${'}'.repeat(v.depth)}` : `${'['.repeat(v.depth)}1${']'.repeat(v.depth)}`;
  if (Array.isArray(v)) return `[${v.map(toJson).join(',')}]`;
  if (v !== null && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`).join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

// ---------------------------------------------------------------- requests

interface Req { method: string; path: string; body?: string; label: string }

let unique = 0;
const goodEvent = () => ({ category: 'fuzz', type: 'good', title: `Good ${++unique}`, severity: 'warning', metadata: { n: unique, nested: { ok: true } } });
const templates: Record<string, () => Record<string, unknown>> = {
  event: () => ({ category: 'fuzz', type: 'probe', title: 'Fuzz probe', severity: 'error', body: 'b', source: 's', dedup_key: `fz-${++unique}`,
    action: 'trigger', metadata: { amount: 5, region: 'EU', s: 'aaaa' }, entity: { kind: 'invoice', id: `i${unique}`, name: 'n' }, occurred_at: '2024-03-01T09:00:00Z' }),
  // Another category than the events': hundreds of saved fuzz rules would otherwise all route every event.
  rule: () => ({ name: `Fuzz rule ${++unique}`, enabled: true, position: 500, continue: true,
    match: { category: 'fuzz-rules', type: null, min_severity: 'info', conditions: [{ field: 'metadata.s', op: 'matches', value: '^(a+)+$' }, { field: 'metadata.amount', op: 'gte', value: 1 }] },
    targets: { roles: ['admin'], users: [] }, channels: ['in_app'], priority: 'normal', escalation: { steps: [{ after_minutes: 600, roles: ['admin'] }], repeat: 0 },
    slack_channel: null, discord_channel: null, sop: { title: 'Do it', steps: ['one'], url: 'https://example.com/sop' } }),
  user: () => ({ name: `Fuzz ${++unique}`, email: `fuzz${unique}@example.com`, phone: null, roles: [], slack_user_id: null, discord_user_id: null, timezone: 'Europe/Berlin' }),
  role: () => ({ key: `fz_${++unique}`, name: 'Fuzz role' }),
  webhook: () => ({ url: 'http://127.0.0.1:9/hook', events: ['alert.created'], description: 'fuzz', enabled: false }),
  apiKey: () => ({ name: `Fuzz key ${++unique}`, scopes: ['events:write'], expires_at: '2999-01-01T00:00:00Z' }),
  snooze: () => ({ minutes: 30 }),
  bulkAck: () => ({ ids: [ids.alert], category: 'fuzz' }),
  login: () => ({ email: 'nobody@example.com', password: 'wrong password' }),
};

/** Paths into a template's fields (one level into nested objects and the first array element). */
function fieldPaths(o: Record<string, unknown>): string[][] {
  const out: string[][] = [];
  for (const [k, v] of Object.entries(o)) {
    out.push([k]);
    if (v && typeof v === 'object') {
      for (const [k2, v2] of Object.entries(v)) {
        out.push([k, k2]);
        if (Array.isArray(v2) && v2[0] && typeof v2[0] === 'object') for (const k3 of Object.keys(v2[0])) out.push([k, k2, '0', k3]);
      }
    }
  }
  return out;
}

function setPath(o: any, path: string[], value: unknown) {
  let cur = o;
  for (const k of path.slice(0, -1)) {
    if (cur[k] === null || typeof cur[k] !== 'object') cur[k] = {};
    cur = cur[k];
  }
  const last = path[path.length - 1];
  if (value === undefined) delete cur[last];
  else cur[last] = value;
}

/** A valid body from the template with 0–3 fields replaced by hostile values (or removed), or a hostile body. */
const mutated = (kind: keyof typeof templates) =>
  fc.tuple(
    fc.array(fc.tuple(fc.nat(), fc.oneof({ weight: 5, arbitrary: nastyValue }, { weight: 1, arbitrary: fc.constant(undefined) }), fc.oneof(fc.constant(null), nastyString)), { maxLength: 3 }),
    fc.oneof({ weight: 12, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: nastyValue }),
  ).map(([changes, whole]) => {
    if (whole !== null) return toJson(whole);
    const body = templates[kind]();
    const paths = fieldPaths(body);
    for (const [i, value, extraKey] of changes) {
      // Mostly a known field; sometimes an unknown one next to it.
      const path = extraKey !== null && i % 4 === 0 ? [...paths[i % paths.length].slice(0, -1), extraKey] : paths[i % paths.length];
      setPath(body, path, value);
    }
    return toJson(body);
  });

/** Percent-encodes like encodeURIComponent; lone surrogates (which it refuses) as the bytes of their CESU form. */
function encodeQuery(s: string): string {
  let out = '';
  for (const ch of s) {
    try { out += encodeURIComponent(ch); } catch { out += '%ED%A0%80'; }
  }
  return out;
}
const queryValue = fc.oneof(nastyString.map(encodeQuery), fc.constantFrom('%', '%zz', '%00', '%C0%80', '%ED%A0%80', '%FF', '1e308', '-0', '99999999999999999999', ''));
const queryReq: fc.Arbitrary<Req> = fc
  .tuple(
    fc.constantFrom('/v1/alerts', '/v1/notifications', '/v1/rules/export', '/v1/rules', '/v1/users', '/v1/webhooks'),
    fc.array(fc.tuple(fc.constantFrom('status', 'category', 'priority', 'mine', 'limit', 'cursor', 'unread', 'format', 'x\u0000'), queryValue), { minLength: 1, maxLength: 3 }),
  )
  .map(([path, params]) => ({ method: 'GET', path: `${path}?${params.map(([k, v]) => `${encodeQuery(k)}=${v}`).join('&')}`, label: 'query' }));
const idPathReq: fc.Arbitrary<Req> = fc
  .tuple(fc.constantFrom('/v1/events/', '/v1/alerts/', '/v1/rules/', '/v1/users/', '/v1/webhooks/', '/v1/roles/'), queryValue)
  .map(([p, v]) => ({ method: p === '/v1/roles/' ? 'DELETE' : 'GET', path: p + (v || '0'), label: 'id path' }));

const request: fc.Arbitrary<Req> = fc.oneof(
  { weight: 4, arbitrary: mutated('event').map((body) => ({ method: 'POST', path: '/v1/events', body, label: 'event' })) },
  { weight: 2, arbitrary: fc.array(mutated('event'), { minLength: 1, maxLength: 4 }).map((items) => ({ method: 'POST', path: '/v1/events/batch', body: `{"events":[${items.join(',')}]}`, label: 'batch' })) },
  { weight: 2, arbitrary: mutated('rule').map((body) => ({ method: 'POST', path: '/v1/rules', body, label: 'rule' })) },
  { weight: 1, arbitrary: mutated('rule').map((body) => ({ method: 'POST', path: '/v1/rules/preview', body, label: 'rule preview' })) },
  { weight: 2, arbitrary: mutated('event').map((body) => ({ method: 'POST', path: '/v1/rules/test', body: `{"event":${body}}`, label: 'rules/test' })) },
  { weight: 2, arbitrary: mutated('user').map((body) => ({ method: 'POST', path: '/v1/users', body, label: 'user' })) },
  { weight: 1, arbitrary: mutated('role').map((body) => ({ method: 'POST', path: '/v1/roles', body, label: 'role' })) },
  { weight: 1, arbitrary: mutated('webhook').map((body) => ({ method: 'POST', path: '/v1/webhooks', body, label: 'webhook' })) },
  { weight: 1, arbitrary: mutated('apiKey').map((body) => ({ method: 'POST', path: '/v1/api-keys', body, label: 'api key' })) },
  { weight: 1, arbitrary: mutated('rule').map((body) => ({ method: 'PATCH', path: `/v1/rules/${ids.rule}`, body, label: 'rule patch' })) },
  { weight: 1, arbitrary: mutated('user').map((body) => ({ method: 'PATCH', path: `/v1/users/${ids.user}`, body, label: 'user patch' })) },
  { weight: 1, arbitrary: mutated('webhook').map((body) => ({ method: 'PATCH', path: `/v1/webhooks/${ids.webhook}`, body, label: 'webhook patch' })) },
  { weight: 1, arbitrary: mutated('snooze').map((body) => ({ method: 'POST', path: `/v1/alerts/${ids.alert}/snooze`, body, label: 'snooze' })) },
  { weight: 1, arbitrary: mutated('bulkAck').map((body) => ({ method: 'POST', path: '/v1/alerts/acknowledge', body, label: 'bulk ack' })) },
  { weight: 1, arbitrary: mutated('login').map((body) => ({ method: 'POST', path: '/v1/auth/login', body, label: 'login' })) },
  { weight: 2, arbitrary: queryReq },
  { weight: 1, arbitrary: idPathReq },
);

async function send(r: Req): Promise<{ status: number; type: string; text: string }> {
  const res = await fetch(h.url + r.path, {
    method: r.method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(r.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: r.body,
    signal: AbortSignal.timeout(15_000),
  });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

describe('fuzz: hostile requests never give a 500 nor fail good requests beside them', () => {
  it('a few thousand generated requests, concurrently with good events', async () => {
    let sent = 0;
    const byStatus = new Map<number, number>();
    const failures: string[] = [];
    const started = Date.now();
    const short = (r: Req, res: { status: number; text: string }) => `${r.method} ${r.path.slice(0, 200)} ${r.body?.slice(0, 300) ?? ''} → ${res.status} ${res.text.slice(0, 300)}`;
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(request, { minLength: 20, maxLength: 40 }), async (reqs) => {
          const goods = Array.from({ length: 5 }, () => goodEvent());
          const [hostile, good] = await Promise.all([
            Promise.all(reqs.map(send)),
            Promise.all(goods.map((e) => send({ method: 'POST', path: '/v1/events', body: JSON.stringify(e), label: 'good' }))),
          ]);
          sent += reqs.length + goods.length;
          const before = failures.length;
          hostile.forEach((res, i) => {
            byStatus.set(res.status, (byStatus.get(res.status) ?? 0) + 1);
            if (res.status >= 500) failures.push(`5xx: ${short(reqs[i], res)}`);
            // 431 (URL over Node's header limit) is answered by Node's HTTP parser before Herald sees the request.
            else if (res.status >= 400 && res.status !== 431 && !res.type.includes('application/problem+json')) failures.push(`not problem+json: ${short(reqs[i], res)}`);
          });
          good.forEach((res, i) => { if (res.status !== 202) failures.push(`good request failed: ${JSON.stringify(goods[i])} → ${res.status} ${res.text.slice(0, 300)}`); });
          return failures.length === before;
        }),
        // On a loaded machine (the whole suite in parallel) stop after 60 s rather than time out.
        { numRuns: 100, endOnFailure: true, interruptAfterTimeLimit: 60_000, markInterruptAsFailure: false },
      );
    } catch (e) {
      // fast-check's own report prints whole bodies (metadata 20,000 deep): say what failed, briefly, with the seed.
      throw new Error(`${String((e as Error).message).split('\n')[0]}\n${failures.slice(0, 5).join('\n')}`);
    }
    expect(sent).toBeGreaterThanOrEqual(1_000); // about 3,400 when the machine is not busy with other tests
    // Some of each: the generator reaches both the accepting and the refusing paths.
    expect(byStatus.get(400) ?? 0).toBeGreaterThan(100);
    expect((byStatus.get(201) ?? 0) + (byStatus.get(202) ?? 0) + (byStatus.get(200) ?? 0)).toBeGreaterThan(100);
    console.log(`fuzz: ${sent} requests in ${Date.now() - started} ms; hostile by status: ${JSON.stringify(Object.fromEntries([...byStatus].sort()))}`);
    // The server is still healthy and routing.
    const ev = await send({ method: 'POST', path: '/v1/events', body: JSON.stringify(goodEvent()), label: 'after' });
    expect(ev.status).toBe(202);
  }, 150_000);

  it('rule import (which replaces every rule, so apart from the rest): hostile documents never give a 500', async () => {
    const doc = fc.oneof(
      fc.array(mutated('rule'), { minLength: 1, maxLength: 3 }).map((rules) => ({ body: `{"rules":[${rules.join(',')}]}`, type: 'application/json' })),
      mutated('rule').map((rule) => ({ body: `rules:\n  - ${rule}\n`, type: 'application/yaml' })),
      nastyValue.map((v) => ({ body: toJson(v), type: 'application/json' })),
      nastyString.map((t) => ({ body: t, type: 'application/yaml' })),
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(doc, { minLength: 5, maxLength: 10 }), async (docs) => {
        const res = await Promise.all(docs.map(async (d) => {
          const r = await fetch(`${h.url}/v1/rules/import`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': d.type }, body: d.body, signal: AbortSignal.timeout(15_000) });
          return { status: r.status, text: (await r.text()).slice(0, 300), body: d.body.slice(0, 300) };
        }));
        n += res.length;
        const bad = res.find((r) => r.status >= 500);
        if (bad) throw new Error(`import ${bad.body} → ${bad.status} ${bad.text}`);
      }),
      { numRuns: 40, endOnFailure: true },
    );
    expect(n).toBeGreaterThanOrEqual(200);
  }, 60_000);
});
