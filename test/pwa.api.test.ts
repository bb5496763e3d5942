// The server side of the PWA, over HTTP with the PWA's session cookie: the notification centre, SOP ticks
// shown to the next person, the live stream (SSE: the org's changes within a second, nothing of another
// org, heartbeats), VAPID keys from the environment, and how the built PWA is served (SPA fallback,
// service worker without long caching).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSse } from './sse';
import { startTestHerald, type TestHerald } from './harness';
import { signIn, type PwaSession } from './pwa-session';
import { ensurePwaBuilt } from './pwa-build';
import { streamSettings } from '../api/routes/stream';
import { alertHub } from '../db/alerts/live';
import { hashPassword } from '../db/platform/crypto';
import webpush from 'web-push';

let h: TestHerald;
let admin: PwaSession;
let ana: PwaSession;
const vapid = webpush.generateVAPIDKeys();

const adminRule = {
  name: 'Everything for admins', position: 10,
  match: { category: 'finance', type: null }, targets: { roles: ['admin', 'accounting'] }, channels: ['in_app'], priority: 'high',
  escalation: { steps: [{ after_minutes: 60, roles: ['ceo'] }], repeat: 0 },
  sop: { title: 'Chase the invoice', steps: ['Call the customer', 'Log the promise date', 'Tell sales'] },
};
const productionRule = {
  name: 'Production', position: 20, match: { category: 'production', type: null }, targets: { roles: ['admin'] }, channels: ['in_app'], priority: 'normal',
  escalation: { steps: [], repeat: 0 },
};

async function postEvent(body: Record<string, unknown>): Promise<number> {
  const ev = await h.api('POST', '/v1/events', body);
  expect(ev.status).toBe(202);
  return (await h.eventually(async () => {
    const e = await h.api('GET', `/v1/events/${ev.body.event_id}`);
    return e.body.status === 'routed' && e.body;
  })).alert_id;
}

beforeAll(async () => {
  await ensurePwaBuilt();
  h = await startTestHerald({ VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, VAPID_SUBJECT: 'mailto:ops@example.com' });
  for (const r of [adminRule, productionRule]) expect((await h.api('POST', '/v1/rules', r)).status).toBe(201);
  await h.api('POST', '/v1/users', { name: 'Ana Accountant', email: 'ana@example.com', roles: ['accounting'], password: 'ana password 1' });
  admin = await signIn(h, 'admin@example.com', 'correct horse battery');
  ana = await signIn(h, 'ana@example.com', 'ana password 1');
});
afterAll(async () => {
  await h?.stop();
});

describe('the notification centre', () => {
  let invoice: number;
  let machine: number;

  it('lists my notifications with the alert state and unread counts per category', async () => {
    invoice = await postEvent({ category: 'finance', type: 'invoice_overdue', title: 'Invoice 1042 overdue', severity: 'error', entity: { kind: 'invoice', id: '1042' } });
    machine = await postEvent({ category: 'production', type: 'machine_down', title: 'Press 4 stopped', severity: 'critical' });
    const r = await admin.call('GET', '/v1/notifications');
    expect(r.status).toBe(200);
    expect(r.body.unread).toEqual({ all: 2, finance: 1, sales: 0, production: 1, system: 0 });
    expect(r.body.items.map((n: { alert_id: number }) => n.alert_id)).toEqual([machine, invoice]); // newest first
    const inv = r.body.items[1];
    const alert = (await h.api('GET', `/v1/alerts/${invoice}`)).body;
    expect(inv).toEqual({
      id: expect.any(Number), alert_id: invoice, title: 'Invoice 1042 overdue', category: 'finance', priority: 'high', severity: 'error',
      alert_status: 'triggered', escalation_next_at: alert.escalation.next_at, level: 0, created_at: expect.any(String), read_at: null,
    });
    expect(inv.escalation_next_at).not.toBeNull();
    // Ana (accounting) has her own: only the invoice.
    const hers = await ana.call('GET', '/v1/notifications');
    expect(hers.body.items.map((n: { alert_id: number }) => n.alert_id)).toEqual([invoice]);
    expect(hers.body.unread.all).toBe(1);
  });

  it('filters by category; limit=0 answers the counts alone (the badge)', async () => {
    const fin = await admin.call('GET', '/v1/notifications?category=finance');
    expect(fin.body.items.map((n: { alert_id: number }) => n.alert_id)).toEqual([invoice]);
    expect(fin.body.unread.all).toBe(2); // counts are always for every tab
    const counts = await admin.call('GET', '/v1/notifications?limit=0');
    expect(counts.body).toEqual({ items: [], unread: { all: 2, finance: 1, sales: 0, production: 1, system: 0 } });
    expect((await admin.call('GET', '/v1/notifications?limit=-1')).status).toBe(400);
  });

  it('shows the escalation only while unacknowledged', async () => {
    expect((await h.api('POST', `/v1/alerts/${invoice}/acknowledge`)).status).toBe(200);
    const inv = (await admin.call('GET', '/v1/notifications?category=finance')).body.items[0];
    expect(inv).toMatchObject({ alert_status: 'acknowledged', escalation_next_at: null });
  });

  it('marks read by id (only mine) and all at once', async () => {
    const items = (await admin.call('GET', '/v1/notifications')).body.items as Array<{ id: number; alert_id: number }>;
    const anaNote = (await ana.call('GET', '/v1/notifications')).body.items[0];
    const one = await admin.call('POST', '/v1/notifications/read', { ids: [items[0].id, anaNote.id] });
    expect(one).toMatchObject({ status: 200, body: { read: 1 } }); // Ana's is not mine to mark
    expect((await ana.call('GET', '/v1/notifications')).body.unread.all).toBe(1);
    const after = (await admin.call('GET', '/v1/notifications')).body;
    expect(after.unread).toMatchObject({ all: 1, production: 0, finance: 1 });
    expect(after.items.find((n: { id: number }) => n.id === items[0].id).read_at).not.toBeNull();
    expect((await admin.call('POST', '/v1/notifications/read', { all: true })).body).toEqual({ read: 1 });
    expect((await admin.call('GET', '/v1/notifications?limit=0')).body.unread.all).toBe(0);
  });

  it('refuses what is not a person, a write without CSRF, and malformed bodies', async () => {
    expect((await h.api('GET', '/v1/notifications')).status).toBe(403); // an API key has no notifications
    expect((await fetch(`${h.url}/v1/notifications`)).status).toBe(401);
    expect((await admin.call('POST', '/v1/notifications/read', { all: true }, { csrf: false })).status).toBe(403);
    for (const bad of [{}, { ids: [] }, { ids: [1], all: true }, { all: false }, { ids: ['x'] }, { every: true }]) {
      const r = await admin.call('POST', '/v1/notifications/read', bad);
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
    }
  });
});

describe('the SOP checklist', () => {
  let alertId: number;

  it('ticks are saved per alert, with who ticked them, and shown to the next person', async () => {
    alertId = await postEvent({ category: 'finance', type: 'invoice_overdue', title: 'Invoice 2001 overdue', entity: { kind: 'invoice', id: '2001' } });
    const t0 = await admin.call('PUT', `/v1/alerts/${alertId}/sop/0`, { checked: true });
    expect(t0.status).toBe(200);
    expect(t0.body.checked).toEqual([0]);
    expect(t0.body.ticks).toEqual([{ step: 0, by: { kind: 'user', id: admin.user.id, name: 'Admin', via: 'pwa' }, at: expect.any(String) }]);
    // Ana opens the alert: she sees Admin's tick, ticks the next step.
    const seen = await ana.call('GET', `/v1/alerts/${alertId}`);
    expect(seen.body.sop_progress.checked).toEqual([0]);
    expect(seen.body.sop_progress.ticks[0].by.name).toBe('Admin');
    const t2 = await ana.call('PUT', `/v1/alerts/${alertId}/sop/2`, { checked: true });
    expect(t2.body.checked).toEqual([0, 2]);
    expect(t2.body.ticks.map((t: { by: { name: string } }) => t.by.name)).toEqual(['Admin', 'Ana Accountant']);
    // Ticking twice keeps the first person; unticking removes the step.
    expect((await ana.call('PUT', `/v1/alerts/${alertId}/sop/0`, { checked: true })).body.ticks[0].by.name).toBe('Admin');
    expect((await ana.call('PUT', `/v1/alerts/${alertId}/sop/0`, { checked: false })).body.checked).toEqual([2]);
    // The API (and so the contract) still answers the alert with its timeline.
    const detail = (await h.api('GET', `/v1/alerts/${alertId}`)).body;
    expect(detail).toMatchObject({ id: alertId, status: 'triggered', timeline: expect.any(Array), sop_progress: { checked: [2] } });
  });

  it('refuses steps that do not exist, alerts without an SOP, closed alerts and writes without CSRF', async () => {
    expect((await admin.call('PUT', `/v1/alerts/${alertId}/sop/3`, { checked: true })).status).toBe(400);
    expect((await admin.call('PUT', `/v1/alerts/${alertId}/sop/x`, { checked: true })).status).toBe(400);
    expect((await admin.call('PUT', `/v1/alerts/${alertId}/sop/0`, { checked: 'yes' })).status).toBe(400);
    expect((await admin.call('PUT', `/v1/alerts/${alertId}/sop/0`, { checked: true }, { csrf: false })).status).toBe(403);
    expect((await admin.call('PUT', `/v1/alerts/999999/sop/0`, { checked: true })).status).toBe(404);
    const noSop = await postEvent({ category: 'production', type: 'belt_slow', title: 'Belt slow' });
    const r = await admin.call('PUT', `/v1/alerts/${noSop}/sop/0`, { checked: true });
    expect(r.status).toBe(400);
    expect(r.body.detail).toContain('no SOP');
    expect((await h.api('POST', `/v1/alerts/${alertId}/resolve`)).status).toBe(200);
    const closed = await admin.call('PUT', `/v1/alerts/${alertId}/sop/1`, { checked: true });
    expect(closed.status).toBe(409);
    expect((await admin.call('GET', `/v1/alerts/${alertId}`)).body.sop_progress.checked).toEqual([2]);
  });
});

/** Reads the live stream with a session cookie (or none), collecting events and comments. */
function openStream(cookie: string | null) {
  return openSse(`${h.url}/v1/stream`, cookie ? { cookie, accept: 'text/event-stream' } : {});
}

describe('the live stream', () => {
  it('refuses anonymous clients', async () => {
    const s = await openStream(null);
    expect(s.res.status).toBe(401);
  });

  it("sends every change of my org's alerts within a second, with the SOP ticks; nothing of another org", async () => {
    // A second organisation with its own person, signed in.
    const [org] = await h.sql`insert into orgs (name) values ('Other Co') returning id`;
    await h.sql`insert into users (org_id, name, email, roles, password_hash) values (${org.id}, 'Olga', 'olga@other.example', ${['admin']}, ${await hashPassword('olga password 1')})`;
    const olga = await signIn(h, 'olga@other.example', 'olga password 1');
    const mine = await openStream(admin.cookie);
    const theirs = await openStream(olga.cookie);
    expect(mine.res.headers.get('content-type')).toContain('text/event-stream');
    expect(mine.res.headers.get('cache-control')).toContain('no-cache');
    await h.eventually(async () => mine.comments.includes('connected') && theirs.comments.includes('connected'));

    // A new alert, then an acknowledgement through the API (as Slack, SMS or another phone would).
    const alertId = await postEvent({ category: 'finance', type: 'invoice_overdue', title: 'Invoice 3003 overdue', entity: { kind: 'invoice', id: '3003' } });
    await h.eventually(async () => mine.events.some((e) => e.event === 'alert' && e.data.id === alertId && e.data.status === 'triggered'));
    const t0 = Date.now();
    expect((await h.api('POST', `/v1/alerts/${alertId}/acknowledge`)).status).toBe(200);
    const acked = await h.eventually(async () => mine.events.find((e) => e.data.id === alertId && e.data.status === 'acknowledged'), 1000);
    expect(acked.at - t0).toBeLessThan(1000);
    expect(acked.data).toMatchObject({ id: alertId, acknowledged_by: { kind: 'api_key' }, escalation: { next_at: null }, sop_progress: { checked: [] } });
    // A tick is a change too: other open views learn of it.
    await admin.call('PUT', `/v1/alerts/${alertId}/sop/1`, { checked: true });
    await h.eventually(async () => mine.events.some((e) => e.data.id === alertId && e.data.sop_progress.checked.includes(1)), 1000);

    // The other org's change reaches its own stream only.
    const [other] = await h.sql`
      insert into alerts (org_id, status, priority, severity, category, type, title, dedup_key, rule_ids, route)
      values (${org.id}, 'triggered', 'normal', 'warning', 'system', 'job_failed', 'Other Co job failed', 'x', '{}',
        ${{ rules: [], escalation: { rule_id: null, channels: [], steps: [], repeat: 0 } } as never})
      returning id`;
    await h.sql`select pg_notify('herald_alert', ${`${org.id}:${other.id}`})`;
    await h.eventually(async () => theirs.events.some((e) => e.data.id === other.id), 1000);
    expect(theirs.events.map((e) => e.data.id)).toEqual([other.id]);
    expect(mine.events.some((e) => e.data.id === other.id)).toBe(false);
    expect(alertHub(h.sql, h.config).connected).toBe(2);
    mine.close();
    theirs.close();
    // A client that goes away is forgotten (no listener leak on the one LISTEN connection).
    await h.eventually(async () => alertHub(h.sql, h.config).connected === 0, 2000);
  });

  it('keeps an idle connection alive with comment lines', async () => {
    const before = streamSettings.heartbeatMs;
    streamSettings.heartbeatMs = 200;
    try {
      const s = await openStream(admin.cookie);
      await h.eventually(async () => s.comments.filter((c) => c === 'ping').length >= 2, 2000);
      s.close();
    } finally {
      streamSettings.heartbeatMs = before;
    }
  });

  it('also serves API keys (integrations), for their org', async () => {
    const ctl = new AbortController();
    const res = await fetch(`${h.url}/v1/stream`, { headers: { authorization: 'Bearer hk_test_admin_key_0123456789abcdef' }, signal: ctl.signal });
    expect(res.status).toBe(200);
    ctl.abort();
  });
});

describe('web push keys from the environment', () => {
  it('VAPID_PUBLIC_KEY/VAPID_PRIVATE_KEY win over generated keys', async () => {
    expect((await admin.call('GET', '/v1/push/vapid-public-key')).body.key).toBe(vapid.publicKey);
    expect(await h.sql`select 1 from settings where name = 'vapid_keys'`).toHaveLength(0);
    const ready = await h.api('GET', '/readyz', undefined, { key: null });
    expect(ready.body.checks.channels.push).toEqual({ status: 'ok', detail: 'VAPID keys from the environment' });
  });
});

describe('serving the built PWA', () => {
  it('answers app routes with index.html and the service worker without long caching', async () => {
    const sw = await fetch(`${h.url}/sw.js`);
    expect(sw.status).toBe(200);
    expect(sw.headers.get('content-type')).toMatch(/javascript/);
    expect(sw.headers.get('cache-control')).toBe('no-cache');
    expect(await sw.text()).toContain('herald-acks');
    for (const p of ['/', '/alerts/12', '/notifications?category=finance', '/rules/new', '/settings']) {
      const r = await fetch(h.url + p);
      expect(r.status, p).toBe(200);
      expect(r.headers.get('content-type'), p).toContain('text/html');
      expect(r.headers.get('cache-control'), p).toBe('no-cache');
      expect(await r.text(), p).toContain('<div id="app">');
    }
    const manifest = await fetch(`${h.url}/manifest.webmanifest`);
    expect(manifest.headers.get('cache-control')).toBe('no-cache');
    const html = await (await fetch(h.url)).text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1];
    const a = await fetch(h.url + asset);
    expect(a.status).toBe(200);
    expect(a.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    // The API is not swallowed by the fallback.
    const missing = await fetch(`${h.url}/v1/nothing-here`, { headers: { authorization: 'Bearer hk_test_admin_key_0123456789abcdef' } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
  });
});
