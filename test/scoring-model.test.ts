// Model scores on real Postgres with a real worker: labelled entities go in as events through the public API,
// model__train fits a logistic regression on them, and its held-out AUC says how well it ranks. A data set where
// the outcome depends on two features must be learned (AUC > 0.8, right signs); pure noise must show ~0.5.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from './harness';

let h: TestHerald;
beforeAll(async () => { h = await startTestHerald(); });
afterAll(async () => { await h?.stop(); });

/** A seeded generator (mulberry32) so the data set is the same on every run. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const gauss = (r: () => number) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());

async function send(events: Array<Record<string, unknown>>) {
  for (let i = 0; i < events.length; i += 1000) {
    const r = await h.api('POST', '/v1/events/batch', { events: events.slice(i, i + 1000).map((e) => ({ title: `${e.category}/${e.type}`, severity: 'info', ...e })) });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
  }
}
async function scored() {
  await h.eventually(async () => {
    const [{ max }] = await h.sql<{ max: number }[]>`select coalesce(max(id), 0)::bigint as max from events`;
    const [{ hwm }] = await h.sql<{ hwm: number }[]>`select hwm from score_state`;
    return Number(hwm) >= Number(max);
  }, 30_000);
}
async function runDone(key: string, runId: number) {
  return h.eventually(async () => {
    const r = await h.api('GET', `/v1/scores/${key}/runs/${runId}`);
    return (r.body.status === 'succeeded' || r.body.status === 'failed') && r.body;
  }, 60_000);
}

const DAY = 86_400_000;
const yesterday = new Date(Date.now() - DAY).toISOString();

describe('a logistic model score', () => {
  it('learns an outcome that depends on two features: held-out AUC > 0.8 and the right signs', async () => {
    const r = rng(42);
    const events: Array<Record<string, unknown>> = [];
    const regions = ['north', 'south', 'east'];
    for (let i = 0; i < 800; i++) {
      const discount = gauss(r);
      const days_to_reply = gauss(r);
      const region = regions[Math.floor(r() * 3)];
      const entity = { kind: 'deal', id: `d${i}`, name: `Deal ${i}` };
      events.push({ category: 'sales', type: 'deal_created', entity, metadata: { discount, days_to_reply, region }, occurred_at: new Date(Date.now() - 30 * DAY).toISOString() });
      if (i >= 700) continue; // open deals: the ones the model predicts
      const p = 1 / (1 + Math.exp(-(2 * discount - 1.5 * days_to_reply)));
      events.push({ category: 'sales', type: r() < p ? 'deal_won' : 'deal_lost', entity, occurred_at: yesterday });
    }
    await send(events);
    await scored();
    const c = await h.api('POST', '/v1/scores', {
      key: 'win', name: 'Win chance', entity_kind: 'deal',
      model: {
        kind: 'logistic', outcome: { positive: { category: 'sales', type: 'deal_won' }, negative: { category: 'sales', type: 'deal_lost' } },
        features: ['metadata.discount', 'metadata.days_to_reply', { field: 'metadata.region', type: 'category' }],
      },
      thresholds: [{ above: 80, severity: 'info', title: 'Likely win' }],
    });
    expect(c.status, JSON.stringify(c.body)).toBe(201);
    const run = await runDone('win', c.body.run_id);
    expect(run.status, JSON.stringify(run)).toBe('succeeded');
    const s = await h.api('GET', '/v1/scores/win');
    const m = s.body.model;
    expect(m.version).toBe(1);
    expect(m.samples).toBe(700);
    expect(m.auc).toBeGreaterThan(0.8);
    expect(m.coefficients['metadata.discount']).toBeGreaterThan(0.5);
    expect(m.coefficients['metadata.days_to_reply']).toBeLessThan(-0.5);
    expect(m.calibration.reduce((n: number, b: { n: number }) => n + b.n, 0)).toBe(run.result.holdout_n);
    // Predictions for the 100 open deals only, each with its per-feature explanation.
    expect(s.body.entities).toBe(100);
    const open = await h.api('GET', '/v1/entities/deal/d750');
    const v = open.body.scores.win;
    expect(v.value).toBeGreaterThanOrEqual(0);
    expect(v.value).toBeLessThanOrEqual(100);
    expect(v.explanation.map((x: { factor: string }) => x.factor)).toEqual(['base rate (log-odds)', 'discount', 'days_to_reply', 'region']);
    const sum = v.explanation.reduce((n: number, x: { contribution: number }) => n + x.contribution, 0);
    expect(Math.abs(100 / (1 + Math.exp(-sum)) - v.value)).toBeLessThan(0.05);
    const closed = await h.api('GET', '/v1/entities/deal/d1');
    expect(closed.body.scores.win.value).toBeNull();
  }, 120_000);

  it('reports an AUC near 0.5 on pure noise (reported, not hidden)', async () => {
    const r = rng(7);
    const events: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 1200; i++) {
      const entity = { kind: 'lead', id: `l${i}` };
      events.push({ category: 'sales', type: 'lead_created', entity, metadata: { visits: gauss(r), size: gauss(r) } });
      events.push({ category: 'sales', type: r() < 0.5 ? 'lead_converted' : 'lead_dropped', entity, occurred_at: yesterday });
    }
    await send(events);
    await scored();
    const c = await h.api('POST', '/v1/scores', {
      key: 'noise', name: 'Noise', entity_kind: 'lead',
      model: { kind: 'logistic', outcome: { positive: { category: 'sales', type: 'lead_converted' }, negative: { category: 'sales', type: 'lead_dropped' } }, features: ['metadata.visits', 'metadata.size'] },
      thresholds: [],
    });
    expect(c.status, JSON.stringify(c.body)).toBe(201);
    const run = await runDone('noise', c.body.run_id);
    expect(run.status).toBe('succeeded');
    const s = await h.api('GET', '/v1/scores/noise');
    console.log(`noise model: held-out AUC ${s.body.model.auc}`);
    expect(s.body.model.auc).toBeGreaterThan(0.38);
    expect(s.body.model.auc).toBeLessThan(0.62);
  }, 120_000);

  it('one class or too few outcomes: says so and keeps the previous version', async () => {
    const events: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 30; i++) {
      const entity = { kind: 'ticket', id: `t${i}` };
      events.push({ category: 'support', type: 'ticket_opened', entity, metadata: { age: i } });
      events.push({ category: 'support', type: 'ticket_solved', entity, occurred_at: yesterday });
    }
    await send(events);
    await scored();
    const c = await h.api('POST', '/v1/scores', {
      key: 'solve', name: 'Solve chance', entity_kind: 'ticket',
      model: { kind: 'logistic', outcome: { positive: { category: 'support', type: 'ticket_solved' }, negative: { category: 'support', type: 'ticket_abandoned' } }, features: ['metadata.age'] },
    });
    expect(c.status, JSON.stringify(c.body)).toBe(201);
    const run = await runDone('solve', c.body.run_id);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/only one outcome is known \(30 ticket_solved, 0 ticket_abandoned\)/);
    const s = await h.api('GET', '/v1/scores/solve');
    expect(s.body.model.version).toBeNull();
    expect(s.body.models[0]).toMatchObject({ status: 'refused', version: 1 });
    expect(s.body.state).toMatch(/not trained/);

    // A retrain of the good model makes version 2 …
    const again = await h.api('POST', '/v1/scores/win/train');
    expect(again.status).toBe(202);
    expect((await runDone('win', again.body.run_id)).status).toBe('succeeded');
    expect((await h.api('GET', '/v1/scores/win')).body.model.version).toBe(2);
    // … and one refused (the bar raised past the data) says why and keeps version 2 and its predictions.
    const win = (await h.api('GET', '/v1/scores/win')).body;
    const spec = { kind: 'logistic', outcome: win.model.outcome, features: win.model.features, min_per_class: 100_000 };
    const p = await h.api('PATCH', '/v1/scores/win', { model: spec });
    expect(p.status, JSON.stringify(p.body)).toBe(200);
    const refused = await runDone('win', p.body.run_id);
    expect(refused.status).toBe('failed');
    expect(refused.error).toMatch(/too few outcomes: \d+ deal_won and \d+ deal_lost; at least 100000 of each are needed\. Version 2 stays in use/);
    const kept = (await h.api('GET', '/v1/scores/win')).body;
    expect(kept.model.version).toBe(2);
    expect(kept.entities).toBe(100);
    expect(kept.models.map((m: { version: number; status: string }) => [m.version, m.status])).toEqual([[3, 'refused'], [2, 'trained'], [1, 'trained']]);
    const same = await h.api('PATCH', '/v1/scores/solve', { model: { kind: 'logistic', outcome: { positive: { category: 'support', type: 'ticket_solved' }, negative: { category: 'support', type: 'ticket_solved' } }, features: ['metadata.age'] } });
    expect(same.status).toBe(400);
    expect(same.body.errors[0].path).toBe('model.outcome.negative');
    console.log(`signal model: held-out AUC ${win.model.auc}, v2 coefficients ${JSON.stringify(win.model.coefficients)}`);
  }, 120_000);
});
