// The HTTP contract: bad input answered with problem+json (never a 500, nothing half-written), keys and
// scopes, idempotency, batches, rules CRUD with preview, dry run, import/export.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from './harness';

let h: TestHerald;
beforeAll(async () => { h = await startTestHerald(); });
afterAll(async () => { await h?.stop(); });

const event = { category: 'finance', type: 'invoice_overdue', title: 'Invoice 9 overdue', metadata: { amount: 12000 } };
const countEvents = async () => (await h.sql`select count(*)::int as n from events`)[0].n as number;

function expectProblem(r: { status: number; body: any; headers: Headers }, status: number) {
  expect(r.status).toBe(status);
  expect(r.headers.get('content-type')).toContain('application/problem+json');
  expect(r.body).toMatchObject({ status, title: expect.any(String), detail: expect.any(String), type: expect.any(String) });
}

describe('bad input', () => {
  it('malformed JSON is a 400 and stores nothing', async () => {
    const before = await countEvents();
    const r = await h.api('POST', '/v1/events', undefined, { raw: '{"category": "finance",' });
    expectProblem(r, 400);
    expect(r.body.detail).toMatch(/Malformed JSON/);
    expect(await countEvents()).toBe(before);
  });

  it('wrong types and missing fields are named', async () => {
    const r = await h.api('POST', '/v1/events', { category: 'finance', type: 42, severity: 'apocalyptic' });
    expectProblem(r, 400);
    const paths = r.body.errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['type', 'title', 'severity']));
  });

  it('unknown fields are rejected', async () => {
    const r = await h.api('POST', '/v1/events', { ...event, colour: 'red' });
    expectProblem(r, 400);
    expect(r.body.detail).toContain('colour');
  });

  it('a body over 1 MiB is a 413', async () => {
    const r = await h.api('POST', '/v1/events', { ...event, body: 'x'.repeat(1024 * 1024 + 10) });
    expectProblem(r, 413);
  });

  it('a forged or revoked key is a 401; a key without the scope is a 403', async () => {
    expectProblem(await h.api('POST', '/v1/events', event, { key: 'hk_forged_nope' }), 401);
    expectProblem(await h.api('POST', '/v1/events', event, { key: null }), 401);
    const reader = await h.api('POST', '/v1/api-keys', { name: 'Dashboard', scopes: ['alerts:read'] });
    expect(reader.status).toBe(201);
    expect(reader.body.key).toMatch(/^hk_/);
    const forbidden = await h.api('POST', '/v1/events', event, { key: reader.body.key });
    expectProblem(forbidden, 403);
    expect(forbidden.body.detail).toContain('events:write');
    expect((await h.api('GET', '/v1/alerts', undefined, { key: reader.body.key })).status).toBe(200);
    await h.api('DELETE', `/v1/api-keys/${reader.body.id}`);
    expectProblem(await h.api('GET', '/v1/alerts', undefined, { key: reader.body.key }), 401);
    // A key cannot be created already expired (issue 14); one whose time has come stops working.
    const expired = await h.api('POST', '/v1/api-keys', { name: 'Old', scopes: ['admin'], expires_at: new Date(Date.now() + 3600_000).toISOString() });
    expect(expired.status).toBe(201);
    await h.sql`update api_keys set expires_at = now() - interval '1 second' where id = ${expired.body.id}`;
    expectProblem(await h.api('GET', '/v1/alerts', undefined, { key: expired.body.key }), 401);
  });

  it('the key is stored hashed, never in clear', async () => {
    const k = await h.api('POST', '/v1/api-keys', { name: 'Hash check', scopes: ['events:write'] });
    const rows = await h.sql`select * from api_keys where id = ${k.body.id}`;
    expect(JSON.stringify(rows)).not.toContain(k.body.key.slice(12));
    expect((await h.api('GET', '/v1/api-keys')).body.items.find((x: { id: number }) => x.id === k.body.id)).not.toHaveProperty('key');
  });

  it('an invalid regular expression in a rule is a 400 naming the condition; nothing is saved', async () => {
    const before = (await h.api('GET', '/v1/rules')).body.items.length;
    const r = await h.api('POST', '/v1/rules', { name: 'Bad', match: { category: 'finance', conditions: [{ field: 'metadata.customer', op: 'matches', value: '([a-z' }] } });
    expectProblem(r, 400);
    expect(r.body.errors[0].path).toBe('match.conditions.0.value');
    expect(r.body.errors[0].message).toContain('metadata.customer');
    expect((await h.api('GET', '/v1/rules')).body.items.length).toBe(before);
  });

  it('unknown rule fields are rejected', async () => {
    const r = await h.api('POST', '/v1/rules', { name: 'Typo', match: { category: 'finance' }, chanels: ['email'] });
    expectProblem(r, 400);
    expect(r.body.detail).toContain('chanels');
  });

  it('unknown ids are 404, non-numeric ids 400, unknown routes 404', async () => {
    expectProblem(await h.api('GET', '/v1/alerts/999999'), 404);
    expectProblem(await h.api('POST', '/v1/alerts/999999/acknowledge'), 404);
    expectProblem(await h.api('GET', '/v1/alerts/abc'), 400);
    expectProblem(await h.api('GET', '/v1/nothing-here'), 404);
    expectProblem(await h.api('POST', '/v1/alerts/1/snooze', { minutes: -5 }), 400);
  });

  it('bad list filters and cursors are 400s', async () => {
    expectProblem(await h.api('GET', '/v1/alerts?status=sleeping'), 400);
    expectProblem(await h.api('GET', '/v1/alerts?cursor=%%%'), 400);
    expectProblem(await h.api('GET', '/v1/alerts?limit=100000'), 400);
  });
});

describe('ingestion', () => {
  it('an Idempotency-Key repeat returns the first response and does nothing', async () => {
    const a = await h.api('POST', '/v1/events', event, { headers: { 'idempotency-key': 'order-77' } });
    const before = await countEvents();
    // The same body (key order and spacing do not matter) within 24 h: the first response, nothing stored.
    const reordered = Object.fromEntries(Object.entries(event).reverse());
    const b = await h.api('POST', '/v1/events', undefined, { raw: JSON.stringify(reordered, null, 2), headers: { 'idempotency-key': 'order-77' } });
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(b.body).toEqual(a.body);
    expect(await countEvents()).toBe(before);
  });

  it('issue 14 #3: the same Idempotency-Key from two API keys names two requests; another body from one sender is a 422', async () => {
    const k1 = await h.api('POST', '/v1/api-keys', { name: 'Shop A', scopes: ['events:write'] });
    const k2 = await h.api('POST', '/v1/api-keys', { name: 'Shop B', scopes: ['events:write'] });
    expect(k1.status).toBe(201);
    expect(k2.status).toBe(201);
    const before = await countEvents();
    const e1 = { category: 'orders', type: 'payment_failed', title: 'Order 1001 payment failed', dedup_key: 'shop-a-1001' };
    const e2 = { category: 'orders', type: 'stock_low', title: 'SKU 77 below minimum', dedup_key: 'shop-b-77' };
    const a = await h.api('POST', '/v1/events', e1, { key: k1.body.key, headers: { 'idempotency-key': 'req-1' } });
    const b = await h.api('POST', '/v1/events', e2, { key: k2.body.key, headers: { 'idempotency-key': 'req-1' } });
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(b.body.event_id).not.toBe(a.body.event_id);
    expect(b.body.dedup_key).toBe('shop-b-77');
    expect(await countEvents()).toBe(before + 2);
    const [stored] = await h.sql`select title from events where id = ${b.body.event_id}`;
    expect(stored.title).toBe('SKU 77 below minimum');

    // The same sender, the same key, a different body: refused, nothing stored; the first response still replays.
    const c = await h.api('POST', '/v1/events', { ...e1, title: 'Order 1002 payment failed' }, { key: k1.body.key, headers: { 'idempotency-key': 'req-1' } });
    expectProblem(c, 422);
    expect(c.body.detail).toMatch(/Idempotency-Key/);
    const again = await h.api('POST', '/v1/events', e1, { key: k1.body.key, headers: { 'idempotency-key': 'req-1' } });
    expect(again.status).toBe(202);
    expect(again.body).toEqual(a.body);
    // The same key on the batch endpoint is another request.
    expectProblem(await h.api('POST', '/v1/events/batch', { events: [e1] }, { key: k1.body.key, headers: { 'idempotency-key': 'req-1' } }), 422);
    expect(await countEvents()).toBe(before + 2);

    // Concurrent reuse in one flush: the different bodies are refused, the same ones share one event.
    const rs = await Promise.all(Array.from({ length: 8 }, (_, i) => h.api('POST', '/v1/events', i % 2 ? e2 : e1,
      { key: k2.body.key, headers: { 'idempotency-key': 'req-2' } })));
    const ok = rs.filter((r) => r.status === 202);
    expect(new Set(ok.map((r) => r.body.event_id)).size).toBe(1);
    expect(rs.filter((r) => r.status === 422)).toHaveLength(8 - ok.length);
    expect(ok.length).toBe(4);
    expect(await countEvents()).toBe(before + 3);
  });

  it('a batch replayed under its Idempotency-Key answers each slot as the first time', async () => {
    const body = { events: [event, { category: 'finance' }, { ...event, dedup_key: 'replay-2' }] };
    const a = await h.api('POST', '/v1/events/batch', body, { headers: { 'idempotency-key': 'batch-9' } });
    const before = await countEvents();
    const b = await h.api('POST', '/v1/events/batch', body, { headers: { 'idempotency-key': 'batch-9' } });
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(b.body).toEqual(a.body);
    expect(b.body.results[1]).toHaveProperty('error');
    expect(await countEvents()).toBe(before);
  });

  it('concurrent requests with one Idempotency-Key store one event', async () => {
    const before = await countEvents();
    const rs = await Promise.all(Array.from({ length: 8 }, () => h.api('POST', '/v1/events', event, { headers: { 'idempotency-key': 'burst-1' } })));
    expect(new Set(rs.map((r) => r.body.event_id)).size).toBe(1);
    expect(await countEvents()).toBe(before + 1);
  });

  it('a batch accepts the valid events and reports each invalid one in place', async () => {
    const r = await h.api('POST', '/v1/events/batch', { events: [event, { category: 'finance' }, { ...event, dedup_key: 'b-1' }] });
    expect(r.status).toBe(202);
    expect(r.body.results[0]).toHaveProperty('event_id');
    expect(r.body.results[1].error.errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['type', 'title']));
    expect(r.body.results[2]).toMatchObject({ dedup_key: 'b-1' });
    expectProblem(await h.api('POST', '/v1/events/batch', { events: Array.from({ length: 1001 }, () => event) }), 400);
  });
});

describe('rules', () => {
  const rule = {
    name: 'Overdue invoices', enabled: true, position: 10, continue: false,
    match: { category: 'finance', type: 'invoice_overdue', min_severity: 'warning', conditions: [{ field: 'metadata.amount', op: 'gte', value: 10000 }] },
    targets: { roles: ['accounting'], users: [] }, channels: ['in_app', 'email', 'slack'], priority: 'high',
    escalation: { steps: [{ after_minutes: 60, roles: ['admin'] }, { after_minutes: 120, roles: ['ceo'] }], repeat: 0 },
    slack_channel: null, discord_channel: null,
    sop: { title: 'Chase the invoice', steps: ['Call the customer', 'Log the promise date'], url: null },
  };

  it('create, read, patch, delete, with the preview sentence', async () => {
    const c = await h.api('POST', '/v1/rules', rule);
    expect(c.status).toBe(201);
    expect(c.body.preview).toBe('Finance/invoice_overdue alerts (severity ≥ warning, amount ≥ 10000) go to Accounting via In-app, Email and Slack, escalating to Admin after 60 min and to CEO after 120 min.');
    const p = await h.api('PATCH', `/v1/rules/${c.body.id}`, { enabled: false });
    expect(p.body.enabled).toBe(false);
    expect(p.body.match).toEqual(rule.match);
    expectProblem(await h.api('PATCH', `/v1/rules/${c.body.id}`, { priority: 'urgent' }), 400);
    expect((await h.api('GET', `/v1/rules/${c.body.id}`)).body.priority).toBe('high');
    expect((await h.api('DELETE', `/v1/rules/${c.body.id}`)).status).toBe(204);
    expectProblem(await h.api('GET', `/v1/rules/${c.body.id}`), 404);
  });

  it('dry run names the rules, the people, the channels and when each step fires', async () => {
    await h.api('POST', '/v1/users', { name: 'Ann Books', email: 'ann@example.com', roles: ['accounting'] });
    await h.api('POST', '/v1/rules', { ...rule, channels: ['in_app'] });
    const r = await h.api('POST', '/v1/rules/test', { event: { ...event, severity: 'error' } });
    expect(r.status).toBe(200);
    expect(r.body.matched[0].name).toBe('Overdue invoices');
    expect(r.body.recipients).toEqual([expect.objectContaining({ name: 'Ann Books', channels: ['in_app'] })]);
    expect(r.body.escalation.map((s: { after_minutes: number }) => s.after_minutes)).toEqual([60, 120]);
    const none = await h.api('POST', '/v1/rules/test', { event: { ...event, metadata: { amount: 5 } } });
    expect(none.body.matched).toEqual([]);
    expect(await h.sql`select 1 from alerts where title = 'Invoice 9 overdue' and metadata->>'amount' = '5'`).toHaveLength(0);
  });

  it('exports YAML and imports it back, all or nothing', async () => {
    const y = await fetch(`${h.url}/v1/rules/export?format=yaml`, { headers: { authorization: `Bearer ${(await import('./harness')).ADMIN_KEY}` } });
    expect(y.headers.get('content-type')).toContain('yaml');
    const text = await y.text();
    expect(text).toContain('Overdue invoices');
    const before = (await h.api('GET', '/v1/rules')).body.items;
    const bad = await h.api('POST', '/v1/rules/import', undefined, { raw: text + '\n  - name: broken\n', headers: { 'content-type': 'application/yaml' } });
    expectProblem(bad, 400);
    expect((await h.api('GET', '/v1/rules')).body.items.map((r: { id: number }) => r.id)).toEqual(before.map((r: { id: number }) => r.id));
    const ok = await h.api('POST', '/v1/rules/import', undefined, { raw: text, headers: { 'content-type': 'application/yaml' } });
    expect(ok.status).toBe(200);
    expect(ok.body.imported).toBe(before.length);
  });
});

describe('operations', () => {
  it('healthz, readyz and metrics answer', async () => {
    expect((await h.api('GET', '/healthz', undefined, { key: null })).status).toBe(200);
    const ready = await h.api('GET', '/readyz', undefined, { key: null });
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toMatchObject({ database: { status: 'ok' }, migrations: { status: 'ok' }, worker: { status: 'ok' } });
    expect(ready.body.checks.channels.slack.status).toBe('off');
    const m = await fetch(`${h.url}/metrics`);
    const text = await m.text();
    for (const family of ['herald_events_ingested_total', 'herald_alert_transitions_total', 'herald_messages_total', 'herald_escalations_total',
      'herald_acknowledge_latency_seconds', 'herald_job_queue_depth', 'herald_job_oldest_runnable_age_seconds']) expect(text).toContain(family);
  });
});
