// Scoring stories on real Postgres with a real worker: events go in through the public API, the score__recompute
// chain turns them into entities and score values, and the answers are checked against figures worked out by
// hand. A crossing travels the normal path: event → rule → alert → accounting's email (the local SMTP fake).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from './harness';
import { startFakeSmtp, type FakeSmtp } from './fakes/smtp';

let h: TestHerald;
let smtp: FakeSmtp;
const DAY = 86_400_000;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

beforeAll(async () => {
  smtp = await startFakeSmtp();
  h = await startTestHerald({ SMTP_URL: smtp.url, EMAIL_FROM: 'Herald <alerts@herald.example>' });
});
afterAll(async () => {
  await h?.stop();
  await smtp?.close();
});

async function send(events: Array<Record<string, unknown>>) {
  for (let i = 0; i < events.length; i += 1000) {
    const r = await h.api('POST', '/v1/events/batch', { events: events.slice(i, i + 1000).map((e) => ({ title: `${e.category}/${e.type}`, severity: 'info', ...e })) });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    for (const x of r.body.results) expect(x.error).toBeUndefined();
  }
}

/** Every event so far applied to the entities and their scores (the chain runs about once a second). */
async function scored() {
  await h.eventually(async () => {
    const [{ max }] = await h.sql<{ max: number }[]>`select coalesce(max(id), 0)::bigint as max from events`;
    const [{ hwm }] = await h.sql<{ hwm: number }[]>`select hwm from score_state`;
    return Number(hwm) >= Number(max);
  }, 20_000);
}

async function runDone(key: string, runId: number) {
  return h.eventually(async () => {
    const r = await h.api('GET', `/v1/scores/${key}/runs/${runId}`);
    expect(r.status).toBe(200);
    return (r.body.status === 'succeeded' || r.body.status === 'failed') && r.body;
  }, 60_000);
}

const TRUST = {
  key: 'trust', name: 'Trust score', entity_kind: 'customer', base: 100, range: [0, 100],
  factors: [
    { count: { category: 'finance', type: 'invoice_paid_late', days: 90 }, points: -25, name: 'late payments' },
    { field: 'metadata.days_since_contact', op: 'gte', value: 30, points: -15, name: 'no contact in 30 days' },
    { field: 'metadata.revenue', weight: 20, scale: { min: 0, max: 100000 }, name: 'revenue' },
  ],
  thresholds: [{ below: 40, severity: 'error', title: 'At risk' }],
};

const customer = (id: string, name: string, metadata: Record<string, unknown>, occurred_at?: string) =>
  ({ category: 'crm', type: 'customer_updated', entity: { kind: 'customer', id, name }, metadata, ...(occurred_at ? { occurred_at } : {}) });
const late = (id: string, n: number) => ({ category: 'finance', type: 'invoice_paid_late', entity: { kind: 'customer', id }, metadata: { invoice: `INV-${id}-${n}` } });

describe('a trust score from three factors', () => {
  it('refuses impossible definitions with a 400 naming the field', async () => {
    const bad = async (patch: Record<string, unknown>, path: string) => {
      const r = await h.api('POST', '/v1/scores', { ...TRUST, key: 'bad', ...patch });
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(r.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    };
    await bad({ range: [50, 10] }, 'range');
    await bad({ base: 0, factors: [{ field: 'metadata.x', op: 'eq', value: 1, points: 10 }], range: [50, 100], thresholds: [] }, 'range');
    await bad({ thresholds: [{ below: 140, title: 'never' }] }, 'thresholds.0.below');
    await bad({ thresholds: [{ below: 10, above: 20, title: 'both' }] }, 'thresholds.0.below');
    await bad({ factors: [{ field: 'metadata.x', op: 'gt', points: 1 }] }, 'factors.0.value');
    await bad({ factors: [{ field: 'metadata.x', op: 'matches', value: '(', points: 1 }] }, 'factors.0.value');
    await bad({ factors: [{ field: 'metadata.x', weight: 2, scale: { min: 5, max: 5 } }] }, 'factors.0.scale.max');
    await bad({ factors: [{ field: 'x', weight: 2 }] }, 'factors.0.field');
    const inf = await h.api('POST', '/v1/scores', undefined, { raw: JSON.stringify({ ...TRUST, key: 'bad' }).replace('"weight":20', '"weight":1e400') });
    expect(inf.status).toBe(400);
    expect(inf.body.errors.map((e: { path: string }) => e.path)).toContain('factors.2.weight');
    await bad({ factors: [], model: { kind: 'logistic', outcome: { positive: { category: 'sales', type: 'won' }, negative: { category: 'sales', type: 'won' } }, features: ['metadata.x'] } }, 'model.outcome.negative');
  });

  it('an entity kind with no entities is an explained state, not an error', async () => {
    const r = await h.api('POST', '/v1/scores', TRUST);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(typeof r.body.run_id).toBe('number');
    const run = await runDone('trust', r.body.run_id);
    expect(run.status).toBe('succeeded');
    const s = await h.api('GET', '/v1/scores/trust');
    expect(s.body.entities_of_kind).toBe(0);
    expect(s.body.state).toMatch(/no customer entities yet/);
  });

  it('gives exactly the hand-computed values and explanations; a late event does not overwrite a newer fact', async () => {
    await send([
      customer('acme', 'Acme', { revenue: 15000, days_since_contact: 45 }),
      customer('globex', 'Globex', { revenue: 100000, days_since_contact: 3 }),
      customer('initech', 'Initech', { revenue: 'lots' }),
    ]);
    await scored();
    // An older update arrives late: its revenue is not the current fact.
    await send([customer('acme', 'Acme Old Name', { revenue: 999999, segment: 'smb' }, ago(10 * DAY)), late('acme', 1)]);
    await scored();

    const acme = await h.api('GET', '/v1/entities/customer/acme');
    expect(acme.status).toBe(200);
    expect(acme.body.name).toBe('Acme');
    expect(acme.body.attributes).toEqual({ revenue: 15000, days_since_contact: 45, segment: 'smb', invoice: 'INV-acme-1' });
    expect(acme.body.event_count).toBe(3);
    // 100 − 25 (one late payment) − 15 (45 days without contact) + 20 × 15000/100000 = 63
    expect(acme.body.scores.trust.value).toBe(63);
    expect(acme.body.scores.trust.explanation).toEqual([
      { factor: 'base', contribution: 100, status: 'base' },
      { factor: 'late payments', contribution: -25, status: 'applied', value: 1 },
      { factor: 'no contact in 30 days', contribution: -15, status: 'applied', value: 45 },
      { factor: 'revenue', contribution: 3, status: 'applied', value: 15000 },
    ]);
    // 100 − 0 − 0 + 20 = 120, clamped to the range's 100
    const globex = await h.api('GET', '/v1/entities/customer/globex');
    expect(globex.body.scores.trust.value).toBe(100);
    expect(globex.body.scores.trust.explanation[3]).toEqual({ factor: 'revenue', contribution: 20, status: 'applied', value: 100000 });
    // Missing and non-numeric attributes contribute nothing and say so.
    const initech = await h.api('GET', '/v1/entities/customer/initech');
    expect(initech.body.scores.trust.value).toBe(100);
    expect(initech.body.scores.trust.explanation.slice(1)).toEqual([
      { factor: 'late payments', contribution: 0, status: 'not_met', value: 0 },
      { factor: 'no contact in 30 days', contribution: 0, status: 'missing' },
      { factor: 'revenue', contribution: 0, status: 'not_numeric', value: 'lots' },
    ]);

    const list = await h.api('GET', '/v1/entities?kind=customer&q=acm');
    expect(list.body.items.map((e: { id: string }) => e.id)).toEqual(['acme']);
  });

  it('a customer whose invoices go late crosses below 40 once: one alert reaches accounting by email', async () => {
    const u = await h.api('POST', '/v1/users', { name: 'Ada Accounts', email: 'ada@example.com', roles: ['accounting'] });
    expect(u.status, JSON.stringify(u.body)).toBe(201);
    const rule = await h.api('POST', '/v1/rules', {
      name: 'Scores at risk', match: { category: 'scoring', type: 'threshold_crossed' }, targets: { roles: ['accounting'], users: [] },
      channels: ['email'], priority: 'high', escalation: { steps: [] },
    });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    const before = smtp.messages.length;

    await send([late('acme', 2)]);
    await scored();
    // 100 − 50 − 15 + 3 = 38
    const acme = await h.api('GET', '/v1/entities/customer/acme');
    expect(acme.body.scores.trust.value).toBe(38);
    const mails = await smtp.waitFor(before + 1, 20_000);
    const mail = mails[before];
    expect(mail.subject).toContain('Trust score of Acme dropped to 38 (late payments −50, no contact in 30 days −15)');
    expect(smtp.envelopes[before].to).toEqual(['ada@example.com']);

    const crossings = await h.sql`select id, metadata from events where category = 'scoring' and type = 'threshold_crossed'`;
    expect(crossings).toHaveLength(1);
    expect(crossings[0].metadata).toMatchObject({ score: 'trust', old_value: 63, new_value: 38, threshold: { below: 40, title: 'At risk' } });
    const opened = await h.eventually(async () => {
      const e = await h.api('GET', '/v1/entities/customer/acme');
      return e.body.open_alerts.length === 1 && e.body;
    });
    expect(opened.open_alerts[0].title).toContain('dropped to 38');

    // A second drop without recovery raises nothing.
    await send([late('acme', 3)]);
    await scored();
    const again = await h.api('GET', '/v1/entities/customer/acme');
    expect(again.body.scores.trust.value).toBe(13);
    expect(await h.sql`select id from events where category = 'scoring'`).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 1500));
    expect(smtp.messages.length).toBe(before + 1);

    const hist = await h.api('GET', '/v1/entities/customer/acme/scores/trust/history');
    expect(hist.status).toBe(200);
    expect(hist.body.items.map((x: { value: number }) => x.value)).toEqual([88, 63, 38, 13]);
  });

  it('ranks entities by score with filters and a cursor, and recomputes on request with progress', async () => {
    const asc = await h.api('GET', '/v1/scores/trust/entities?order=asc&limit=2');
    expect(asc.body.items.map((x: { id: string; value: number }) => [x.id, x.value])).toEqual([['acme', 13], ['globex', 100]]);
    const next = await h.api('GET', `/v1/scores/trust/entities?order=asc&limit=2&cursor=${asc.body.next_cursor}`);
    expect(next.body.items.map((x: { id: string }) => x.id)).toEqual(['initech']);
    expect(next.body.next_cursor).toBeNull();
    const below = await h.api('GET', '/v1/scores/trust/entities?below=40');
    expect(below.body.items.map((x: { id: string }) => x.id)).toEqual(['acme']);
    expect((await h.api('GET', '/v1/scores/trust/entities?below=abc')).status).toBe(400);

    const r = await h.api('POST', '/v1/scores/trust/recompute');
    expect(r.status).toBe(202);
    const run = await runDone('trust', r.body.run_id);
    expect(run).toMatchObject({ status: 'succeeded', progress: 1, total: 3, done: 3, result: { entities: 3, changed: 0, crossings: 0 } });

    const sum = await h.api('GET', '/v1/scores/trust/summary');
    expect(sum.body).toMatchObject({ count: 3, past_threshold: 1 });
    expect(sum.body.distribution.reduce((n: number, b: { n: number }) => n + b.n, 0)).toBe(3);
    expect(sum.body.crossed_lately.map((x: { id: string }) => x.id)).toEqual(['acme']);

    // Redefining recomputes everything. Thresholds are known by their limit: replacing "below 40" by
    // "below 20" resolves the first alert (threshold removed) and raises one for the new line (13 < 20).
    const p = await h.api('PATCH', '/v1/scores/trust', { thresholds: [{ below: 20, severity: 'error', title: 'Lost' }] });
    expect(p.status, JSON.stringify(p.body)).toBe(200);
    await runDone('trust', p.body.run_id);
    const posted = await h.sql`select action, dedup_key, title from events where category = 'scoring' order by id`;
    expect(posted.map((x) => [x.action, x.dedup_key, x.title])).toEqual([
      ['trigger', 'scoring/trust/customer:acme/below:40', 'Trust score of Acme dropped to 38 (late payments −50, no contact in 30 days −15)'],
      ['trigger', 'scoring/trust/customer:acme/below:20', 'Trust score of Acme dropped to 13 (late payments −75, no contact in 30 days −15)'],
      ['resolve', 'scoring/trust/customer:acme/below:40', 'Trust score of Acme no longer watched below 40 (threshold removed): 13'],
    ]);
    // Back above the line: re-armed, the alert is resolved.
    const up = await h.api('PATCH', '/v1/scores/trust', { base: 110 });
    await runDone('trust', up.body.run_id);
    const last = await h.sql`select action, title from events where category = 'scoring' order by id desc limit 1`;
    expect([last[0].action, last[0].title]).toEqual(['resolve', 'Trust score of Acme back at or above 20: 23']);
  });

  it('deleting a score deletes its values and history with it', async () => {
    const c = await h.api('POST', '/v1/scores', { ...TRUST, key: 'doomed' });
    expect(c.status, JSON.stringify(c.body)).toBe(201);
    expect((await runDone('doomed', c.body.run_id)).status).toBe('succeeded');
    const [{ id }] = await h.sql<{ id: number }[]>`select id from scores where key = 'doomed'`;
    const count = async () => (await h.sql<{ n: number }[]>`
      select (select count(*) from score_values where score_id = ${id}) + (select count(*) from score_history where score_id = ${id}) as n`)[0].n;
    expect(Number(await count())).toBe(6); // three customers: a value and a first history row each
    const d = await h.api('DELETE', '/v1/scores/doomed');
    expect(d.status).toBeLessThan(300);
    expect(Number(await count())).toBe(0);
    expect((await h.api('GET', '/v1/scores/doomed')).status).toBe(404);
  });

  it('needs scores:write to edit and a read permission to read', async () => {
    const k = await h.api('POST', '/v1/api-keys', { name: 'reader', scopes: ['dashboards:read'] });
    expect(k.status, JSON.stringify(k.body)).toBe(201);
    const key = k.body.key ?? k.body.secret;
    const denied = await h.api('POST', '/v1/scores', { ...TRUST, key: 'other' }, { key });
    expect(denied.status).toBe(403);
    expect(denied.body.detail).toContain('scores:write');
    expect((await h.api('GET', '/v1/scores/trust/entities', undefined, { key })).status).toBe(200);
    const k2 = await h.api('POST', '/v1/api-keys', { name: 'events only', scopes: ['events:write'] });
    const no = await h.api('GET', '/v1/entities', undefined, { key: k2.body.key ?? k2.body.secret });
    expect(no.status).toBe(403);
    expect(no.body.detail).toContain('dashboards:read');
  });
});
