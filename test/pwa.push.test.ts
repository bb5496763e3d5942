// Web push end to end: the real `web-push` library against a local HTTPS push service (self-signed
// certificate) that checks VAPID and decrypts each payload as a browser would. A person subscribes from
// the PWA (session cookie + CSRF), an alert for them arrives as an encrypted push that decrypts to the
// alert, its signed one-tap URL acknowledges without a session, an escalation to them arrives too, and an
// expired subscription (410) is forgotten.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from './harness';
import { startPushFake, type PushFake } from './fakes/webpush';
import { createAdapters } from '../bot/registry';
import { webPushAdapter } from '../bot/push/adapter';
import { pushAckToken } from '../db/push/ack';
import { pushPayload, MAX_PAYLOAD_BYTES } from '../bot/push/payload';
import { signIn, type PwaSession } from './pwa-session';

let h: TestHerald;
let push: PushFake;
let admin: PwaSession;
let ana: PwaSession;
let anaId: number;
let carlId: number;

const opsRule = {
  name: 'Machine down', position: 10,
  match: { category: 'production', type: 'machine_down' },
  targets: { roles: ['admin'] }, channels: ['in_app', 'push'], priority: 'high',
  escalation: { steps: [{ after_minutes: 60, roles: ['ceo'] }], repeat: 0 },
  sop: { title: 'Restart the line', steps: ['Check the e-stop', 'Call maintenance'] },
};
const invoiceRule = {
  name: 'Overdue invoices', position: 20,
  match: { category: 'finance', type: 'invoice_overdue' },
  targets: { roles: ['accounting'] }, channels: ['in_app', 'push'], priority: 'normal',
  escalation: { steps: [{ after_minutes: 30, roles: ['admin'] }], repeat: 0 },
};

async function postEvent(body: Record<string, unknown>): Promise<number> {
  const ev = await h.api('POST', '/v1/events', body);
  expect(ev.status).toBe(202);
  const routed = await h.eventually(async () => {
    const e = await h.api('GET', `/v1/events/${ev.body.event_id}`);
    return e.body.status === 'routed' && e.body;
  });
  return routed.alert_id;
}

const pushesFor = (subId: string, alertId: number) => push.received.filter((r) => r.subscription === subId && r.payload?.alert?.id === alertId);

beforeAll(async () => {
  push = await startPushFake();
  h = await startTestHerald({}, { adapters: (config) => ({ ...createAdapters(config), push: webPushAdapter(config, { ca: push.ca }) }) });
  admin = await signIn(h, 'admin@example.com', 'correct horse battery');
  const a = await h.api('POST', '/v1/users', { name: 'Ana Accountant', email: 'ana@example.com', roles: ['accounting'], password: 'ana password 1' });
  anaId = a.body.id;
  carlId = (await h.api('POST', '/v1/users', { name: 'Carl CEO', email: 'carl@example.com', roles: ['ceo'] })).body.id;
  ana = await signIn(h, 'ana@example.com', 'ana password 1');
  for (const r of [opsRule, invoiceRule]) expect((await h.api('POST', '/v1/rules', r)).status).toBe(201);
});
afterAll(async () => {
  await h?.stop();
  await push?.close();
});

describe('VAPID keys', () => {
  it('are generated once, kept in the database, and served to the PWA', async () => {
    const k1 = await admin.call('GET', '/v1/push/vapid-public-key');
    expect(k1.status).toBe(200);
    expect(Buffer.from(k1.body.key, 'base64url')).toHaveLength(65);
    const [row] = await h.sql`select value from settings where name = 'vapid_keys'`;
    expect(JSON.parse(row.value).publicKey).toBe(k1.body.key);
    expect((await admin.call('GET', '/v1/push/vapid-public-key')).body.key).toBe(k1.body.key);
    expect((await fetch(`${h.url}/v1/push/vapid-public-key`)).status).toBe(401);
    const ready = await h.api('GET', '/readyz', undefined, { key: null });
    expect(ready.body.checks.channels.push).toMatchObject({ status: 'ok', detail: expect.stringContaining('generated') });
  });
});

describe('subscriptions', () => {
  it('validate what the browser sends and belong to the signed-in person', async () => {
    const s = push.subscribe();
    expect((await admin.call('POST', '/v1/push/subscriptions', { endpoint: s.endpoint, keys: s.keys }, { csrf: false })).status).toBe(403);
    expect((await h.api('POST', '/v1/push/subscriptions', { endpoint: s.endpoint, keys: s.keys })).status).toBe(403); // an API key is not a person
    const http = await admin.call('POST', '/v1/push/subscriptions', { endpoint: s.endpoint.replace('https:', 'http:'), keys: s.keys });
    expect(http.status).toBe(400);
    expect(http.body.errors[0].path).toBe('endpoint');
    const badKey = await admin.call('POST', '/v1/push/subscriptions', { endpoint: s.endpoint, keys: { ...s.keys, p256dh: Buffer.alloc(65, 4).toString('base64url') } });
    expect(badKey.status).toBe(400);
    expect(badKey.body.errors[0].path).toBe('keys.p256dh');
    const shortAuth = await admin.call('POST', '/v1/push/subscriptions', { endpoint: s.endpoint, keys: { ...s.keys, auth: 'AAAA' } });
    expect(shortAuth.status).toBe(400);
    expect((await h.sql`select count(*)::int as n from push_subscriptions`)[0].n).toBe(0);
  });
});

describe('a machine goes down', () => {
  let sub: ReturnType<PushFake['subscribe']>;
  let alertId: number;

  it('the admin turns on push; the dry run now reaches them by push', async () => {
    sub = push.subscribe();
    const r = await admin.call('POST', '/v1/push/subscriptions', { endpoint: sub.endpoint, keys: sub.keys, expirationTime: null });
    expect(r.status).toBe(201);
    expect((await admin.call('POST', '/v1/push/subscriptions', { endpoint: sub.endpoint, keys: sub.keys })).status).toBe(200); // idempotent
    const [row] = await h.sql`select org_id, user_id, p256dh, auth from push_subscriptions where endpoint = ${sub.endpoint}`;
    expect(row).toMatchObject({ org_id: 1, user_id: admin.user.id, p256dh: sub.keys.p256dh, auth: sub.keys.auth });
    // Every process learns of the subscription through LISTEN herald_push.
    await h.eventually(async () => {
      const t = await h.api('POST', '/v1/rules/test', { event: { category: 'production', type: 'machine_down', title: 't' } });
      return t.body.recipients.find((x: { user_id: number; channels: string[] }) => x.user_id === admin.user.id)?.channels.includes('push');
    });
  });

  it('the alert arrives as an encrypted push that decrypts to the alert, signed with the VAPID key', async () => {
    alertId = await postEvent({ category: 'production', type: 'machine_down', title: 'Press 4 stopped', severity: 'critical', metadata: { line: 4 } });
    const [got] = await h.eventually(async () => pushesFor(sub.id, alertId).length > 0 && pushesFor(sub.id, alertId));
    const key = (await admin.call('GET', '/v1/push/vapid-public-key')).body.key;
    expect(got.vapid.key).toBe(key);
    expect(got.vapid.claims.sub).toBe('mailto:admin@example.com');
    expect(got.headers).toMatchObject({ ttl: '86400', urgency: 'high', topic: `alert-${alertId}` });
    const alert = (await h.api('GET', `/v1/alerts/${alertId}`)).body;
    expect(got.payload.reason).toBe('New alert');
    expect(got.payload.alert).toMatchObject({ id: alertId, title: 'Press 4 stopped', status: 'triggered', priority: 'high', severity: 'critical', category: 'production', metadata: { line: 4 } });
    expect(got.payload.alert.escalation).toEqual(alert.escalation);
    expect(got.payload.alert.sop.steps).toEqual(['Check the e-stop', 'Call maintenance']);
    expect(got.payload.ack_url).toMatch(new RegExp(`^${h.url}/v1/push/ack/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$`));
    expect(push.rejected).toEqual([]);
    // The message is recorded as sent, and the timeline says so.
    await h.eventually(async () => (await h.sql`select 1 from messages where alert_id = ${alertId} and channel = 'push' and status = 'sent'`).length > 0);
    const timeline = (await h.api('GET', `/v1/alerts/${alertId}`)).body.timeline;
    expect(timeline.find((t: { kind: string; detail: { channel?: string } }) => t.kind === 'delivered' && t.detail.channel === 'push')?.detail.to).toBe('Admin');
  });

  it("the notification's Acknowledge works without a session, once", async () => {
    const [got] = pushesFor(sub.id, alertId);
    expect((await fetch(got.payload.ack_url.replace(/.$/, (c: string) => (c === 'A' ? 'B' : 'A')), { method: 'POST' })).status).toBe(404);
    expect((await fetch(got.payload.ack_url)).status).toBeGreaterThanOrEqual(400); // a GET (link preview, prefetch) does nothing
    expect((await h.api('GET', `/v1/alerts/${alertId}`)).body.status).toBe('triggered');
    const res = await fetch(got.payload.ack_url, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const acked = (await res.json()) as { status: string; acknowledged_by: unknown };
    expect(acked.status).toBe('acknowledged');
    expect(acked.acknowledged_by).toEqual({ kind: 'user', id: admin.user.id, name: 'Admin', via: 'push' });
    const again = await fetch(got.payload.ack_url, { method: 'POST' });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { detail: string }).detail).toContain('already acknowledged by Admin');
  });

  it('an expired or foreign link does nothing', async () => {
    const other = await postEvent({ category: 'production', type: 'machine_down', title: 'Press 5 stopped', entity: { kind: 'press', id: '5' } });
    const old = pushAckToken(h.ctx.key, 1, admin.user.id, other, Date.now() - 25 * 3600_000);
    const expired = await fetch(`${h.url}/v1/push/ack/${old}`, { method: 'POST' });
    expect(expired.status).toBe(410);
    const forged = pushAckToken(Buffer.from('not the instance key'), 1, admin.user.id, other);
    expect((await fetch(`${h.url}/v1/push/ack/${forged}`, { method: 'POST' })).status).toBe(404);
    expect((await h.api('GET', `/v1/alerts/${other}`)).body.status).toBe('triggered');
  });
});

describe('an invoice nobody answers', () => {
  it('escalates to the admin, who gets a push saying so; Ana without push is skipped, not failed', async () => {
    const before = push.received.length;
    const alertId = await postEvent({ category: 'finance', type: 'invoice_overdue', title: 'Invoice 7 overdue', entity: { kind: 'invoice', id: '7' } });
    const notified = (await h.api('GET', `/v1/alerts/${alertId}`)).body.timeline.find((t: { kind: string }) => t.kind === 'notified');
    expect(notified.detail.skipped).toContain('push for Ana Accountant (no address)');
    expect(await h.sql`select 1 from messages where alert_id = ${alertId} and channel = 'push'`).toHaveLength(0);
    await h.fastForward(alertId);
    const [got] = await h.eventually(async () => {
      const p = push.received.slice(before).filter((r) => r.payload.alert.id === alertId);
      return p.length > 0 && p;
    });
    expect(got.payload.reason).toBe('Escalated to you (level 1)');
    expect(got.payload.alert.escalation.level).toBe(1);
    expect(got.headers.urgency).toBe('normal');
    void anaId;
  });
});

describe('subscriptions that end', () => {
  it('a 410 from the push service forgets that subscription; the other device still gets the alert', async () => {
    const phone = push.subscribe();
    const laptop = push.subscribe();
    for (const s of [phone, laptop]) expect((await ana.call('POST', '/v1/push/subscriptions', { endpoint: s.endpoint, keys: s.keys })).status).toBe(201);
    push.answer.set(laptop.id, 410);
    await h.eventually(async () => {
      const t = await h.api('POST', '/v1/rules/test', { event: { category: 'finance', type: 'invoice_overdue', title: 't' } });
      return t.body.recipients.find((x: { user_id: number; channels: string[] }) => x.user_id === anaId)?.channels.includes('push');
    });
    const alertId = await postEvent({ category: 'finance', type: 'invoice_overdue', title: 'Invoice 8 overdue', entity: { kind: 'invoice', id: '8' } });
    await h.eventually(async () => pushesFor(phone.id, alertId).length > 0);
    await h.eventually(async () => (await h.sql`select 1 from push_subscriptions where endpoint = ${laptop.endpoint}`).length === 0);
    expect(await h.sql`select 1 from push_subscriptions where endpoint = ${phone.endpoint}`).toHaveLength(1);
    await h.eventually(async () => (await h.sql`select status from messages where alert_id = ${alertId} and channel = 'push'`)[0]?.status === 'sent');
  });

  it('signing out of push (DELETE) stops pushes: the person is no longer reached by push', async () => {
    const [{ endpoint }] = await h.sql`select endpoint from push_subscriptions where user_id = ${anaId}`;
    const del = await ana.call('DELETE', '/v1/push/subscriptions', { endpoint });
    expect(del).toMatchObject({ status: 200, body: { deleted: 1 } });
    await h.eventually(async () => {
      const t = await h.api('POST', '/v1/rules/test', { event: { category: 'finance', type: 'invoice_overdue', title: 't' } });
      const anaRow = t.body.recipients.find((x: { user_id: number }) => x.user_id === anaId);
      return anaRow && !anaRow.channels.includes('push');
    });
    void carlId;
  });
});

describe('the payload', () => {
  it('fits a push message even for a huge alert, keeping what the notification shows', () => {
    const alert = {
      id: 9, status: 'triggered', priority: 'critical', severity: 'critical', category: 'system', type: 'job_failed',
      title: 'Nightly export failed', body: 'x'.repeat(5000), source: 'cron', dedup_key: 'k', occurrences: 1,
      metadata: { log: 'y'.repeat(5000) }, entity: null, created_at: new Date().toISOString(), updated_at: new Date().toISOString(),
      acknowledged_at: null, acknowledged_by: null, resolved_at: null, resolved_by: null, snoozed_until: null,
      escalation: { level: 0, next_at: new Date().toISOString(), next_to: 'Admin' },
      sop: { title: 'Rerun', steps: Array.from({ length: 50 }, (_, i) => `step ${i} `.repeat(10)), url: null }, rule_ids: [1], url: 'http://x/alerts/9',
    } as const;
    const text = pushPayload(alert as never, 'New alert', 'http://x/v1/push/ack/t');
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    const p = JSON.parse(text);
    expect(p.alert).toMatchObject({ id: 9, title: 'Nightly export failed', status: 'triggered', priority: 'critical', escalation: alert.escalation });
    expect(p.ack_url).toBe('http://x/v1/push/ack/t');
  });
});
