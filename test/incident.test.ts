// Incident stories for the core loop, on real Postgres with a real worker and a real HTTP receiver.
import { escalationKey } from '../db/jobs/catalog';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { startReceiver, startTestHerald, type Receiver, type TestHerald } from './harness';

let h: TestHerald;
let hook: Receiver;
let secret: string;
let accountant: number;
let admin: number;

const accountingRule = {
  name: 'Overdue invoices', position: 10,
  match: { category: 'finance', type: 'invoice_overdue', min_severity: 'warning', conditions: [{ field: 'metadata.amount', op: 'gte', value: 10000 }] },
  targets: { roles: ['accounting'] }, channels: ['in_app'], priority: 'high',
  escalation: { steps: [{ after_minutes: 60, roles: ['admin'] }, { after_minutes: 120, roles: ['ceo'] }], repeat: 0 },
  sop: { title: 'Chase the invoice', steps: ['Call the customer', 'Log the promise date'] },
};

beforeAll(async () => {
  h = await startTestHerald();
  hook = await startReceiver();
  const w = await h.api('POST', '/v1/webhooks', { url: hook.url, events: ['*'] });
  expect(w.status).toBe(201);
  secret = w.body.secret;
  accountant = (await h.api('POST', '/v1/users', { name: 'Ana Accountant', email: 'ana@example.com', roles: ['accounting'] })).body.id;
  admin = (await h.api('POST', '/v1/users', { name: 'Ada Admin', email: 'ada@example.com', roles: ['admin'] })).body.id;
  await h.api('POST', '/v1/users', { name: 'Carl CEO', email: 'carl@example.com', roles: ['ceo'] });
  const r = await h.api('POST', '/v1/rules', accountingRule);
  expect(r.status).toBe(201);
});
afterAll(async () => { await h?.stop(); await hook?.close(); });

const hitsOf = (type: string, alertId?: number) => hook.hits.map((x) => ({ ...x, json: JSON.parse(x.body) }))
  .filter((x) => x.json.type === type && (alertId === undefined || x.json.data.alert.id === alertId));

describe('an overdue invoice', () => {
  it('notifies accounting, escalates to admin, and is acknowledged', async () => {
    const ev = await h.api('POST', '/v1/events', { category: 'finance', type: 'invoice_overdue', title: 'Invoice 1042 overdue 30d', severity: 'error', metadata: { amount: 12500 }, entity: { kind: 'invoice', id: 1042 } });
    expect(ev.status).toBe(202);
    expect(ev.body.dedup_key).toBe('finance/invoice_overdue/invoice:1042');

    const routed = await h.eventually(async () => { const e = await h.api('GET', `/v1/events/${ev.body.event_id}`); return e.body.status === 'routed' && e.body; });
    const alertId = routed.alert_id;

    // In-app notification for the accountant, in the same transaction as the alert.
    const [note] = await h.sql`select * from notifications where alert_id = ${alertId}`;
    expect(Number(note.user_id)).toBe(accountant);

    // The webhook arrives, signed per Standard Webhooks.
    const [triggered] = await h.eventually(async () => hitsOf('alert.triggered', alertId).length > 0 && hitsOf('alert.triggered', alertId));
    const verified = new Webhook(secret).verify(triggered.body, triggered.headers) as { data: { alert: { id: number; status: string } } };
    expect(verified.data.alert).toMatchObject({ id: alertId, status: 'triggered' });

    let alert = (await h.api('GET', `/v1/alerts/${alertId}`)).body;
    expect(alert.escalation.level).toBe(0);
    expect(new Date(alert.escalation.next_at).getTime() - new Date(alert.created_at).getTime()).toBe(60 * 60_000);
    expect(alert.sop.title).toBe('Chase the invoice');

    // An hour passes: the alert escalates to admin.
    await h.fastForward(alertId);
    await h.eventually(async () => (await h.api('GET', `/v1/alerts/${alertId}`)).body.escalation.level === 1);
    const adminNote = await h.eventually(async () => (await h.sql`select * from notifications where alert_id = ${alertId} and user_id = ${admin}`)[0]);
    expect(adminNote.level).toBe(1);
    await h.eventually(async () => hitsOf('alert.escalated', alertId).length > 0);

    // Ada acknowledges: the timer is gone and the webhook is told.
    const ack = await h.api('POST', `/v1/alerts/${alertId}/acknowledge`);
    expect(ack.status).toBe(200);
    expect(ack.body.status).toBe('acknowledged');
    const jobs = await h.sql`select 1 from graphile_worker._private_jobs where key = ${escalationKey(alertId)}`;
    expect(jobs).toHaveLength(0);
    await h.eventually(async () => hitsOf('alert.acknowledged', alertId).length > 0);

    alert = (await h.api('GET', `/v1/alerts/${alertId}`)).body;
    expect(alert.timeline.map((t: { kind: string }) => t.kind)).toEqual(
      expect.arrayContaining(['created', 'notified', 'escalated', 'acknowledged']));
    expect(alert.escalation.next_at).toBeNull();

    // Acknowledging a resolved alert is a conflict that names who resolved it.
    await h.api('POST', `/v1/alerts/${alertId}/resolve`);
    const again = await h.api('POST', `/v1/alerts/${alertId}/acknowledge`);
    expect(again.status).toBe(409);
    expect(again.headers.get('content-type')).toContain('application/problem+json');
    expect(again.body.detail).toContain('resolved by HERALD_ADMIN_API_KEY');
  });

  it('counts a repeat as an occurrence and resolves by event', async () => {
    const base = { category: 'finance', type: 'invoice_overdue', title: 'Invoice 7 overdue', metadata: { amount: 20000 }, dedup_key: 'inv-7' };
    const first = await h.api('POST', '/v1/events', base);
    const e1 = await h.eventually(async () => { const e = await h.api('GET', `/v1/events/${first.body.event_id}`); return e.body.status === 'routed' && e.body; });
    const second = await h.api('POST', '/v1/events', base);
    const e2 = await h.eventually(async () => { const e = await h.api('GET', `/v1/events/${second.body.event_id}`); return e.body.status !== 'accepted' && e.body; });
    expect(e2.status).toBe('deduplicated');
    expect(e2.alert_id).toBe(e1.alert_id);
    expect((await h.api('GET', `/v1/alerts/${e1.alert_id}`)).body.occurrences).toBe(2);
    expect(hitsOf('alert.triggered', e1.alert_id)).toHaveLength(1);

    const res = await h.api('POST', '/v1/events', { ...base, action: 'resolve' });
    const e3 = await h.eventually(async () => { const e = await h.api('GET', `/v1/events/${res.body.event_id}`); return e.body.status !== 'accepted' && e.body; });
    expect(e3.status).toBe('resolved');
    const a = (await h.api('GET', `/v1/alerts/${e1.alert_id}`)).body;
    expect(a.status).toBe('resolved');
    await h.eventually(async () => hitsOf('alert.resolved', e1.alert_id).length > 0);
  });

  it('keeps an event that matches no rule as unrouted', async () => {
    const r = await h.api('POST', '/v1/events', { category: 'sales', type: 'deal_lost', title: 'Deal lost' });
    const e = await h.eventually(async () => { const x = await h.api('GET', `/v1/events/${r.body.event_id}`); return x.body.status !== 'accepted' && x.body; });
    expect(e.status).toBe('unrouted');
    expect(e.alert_id).toBeNull();
  });
});
