// The PWA in a real headless Chromium (Debian's `chromium`, driven by playwright-core), against a real
// Herald on a fresh database: sign in, the queue, acknowledging, live updates from elsewhere, offline
// acknowledgement, installability as the browser sees it, the service worker, accessibility (axe-core)
// and a phone-sized screenshot. Chromium is found at /usr/bin/chromium (or HERALD_CHROMIUM); without it
// the file is skipped with a message, unless HERALD_REQUIRE_BROWSER=1 (CI), where that is a failure.
// Nothing leaves 127.0.0.1: every host name resolves to nothing, and the test checks no request tried.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { CHROMIUM, seriousAxeOn } from './browser-kit';
import { startTestHerald, type TestHerald } from './harness';
import { ensurePwaBuilt, ROOT } from './pwa-build';
import { startPushFake, type PushFake } from './fakes/webpush';
import { signIn } from './pwa-session';
import { createAdapters } from '../bot/registry';
import { webPushAdapter } from '../bot/push/adapter';

const REQUIRED = process.env.HERALD_REQUIRE_BROWSER === '1';
if (!CHROMIUM && !REQUIRED) {
  console.warn(`[pwa.browser] SKIPPED: Chromium not found at ${process.env.HERALD_CHROMIUM ?? '/usr/bin/chromium'} (install Debian's \`chromium\` or set HERALD_CHROMIUM; CI sets HERALD_REQUIRE_BROWSER=1 and fails instead)`);
}
const suite = CHROMIUM || REQUIRED ? describe : describe.skip;

const ARTIFACTS = path.join(ROOT, 'test', 'artifacts');

let h: TestHerald;
let profile = '';
let push: PushFake;
let ruleId: number;
let context: BrowserContext;
let page: Page;
const outside: string[] = [];
const pageErrors: string[] = [];
const cspViolations: string[] = [];
let firstScreen = '';

const rule = {
  name: 'Overdue invoices', position: 10,
  match: { category: 'finance', type: 'invoice_overdue' },
  targets: { roles: ['admin'] }, channels: ['in_app'], priority: 'high',
  escalation: { steps: [{ after_minutes: 60, roles: ['ceo'] }], repeat: 0 },
  sop: { title: 'Chase the invoice', steps: ['Call the customer', 'Log the promise date'] },
};

async function postEvent(title: string, id: string): Promise<number> {
  const ev = await h.api('POST', '/v1/events', { category: 'finance', type: 'invoice_overdue', title, severity: 'error', entity: { kind: 'invoice', id } });
  expect(ev.status).toBe(202);
  return (await h.eventually(async () => {
    const e = await h.api('GET', `/v1/events/${ev.body.event_id}`);
    return e.body.status === 'routed' && e.body;
  })).alert_id;
}

/** Names the step that timed out (eventually() only says that something did). */
async function labelled<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message}`);
  }
}

const card = (title: string): Locator => page.getByRole('article', { name: title });
const serverAlert = async (id: number) => (await h.api('GET', `/v1/alerts/${id}`)).body;

const axeViolations = () => seriousAxeOn(page);

suite('the PWA in Chromium', () => {
  beforeAll(async () => {
    if (!CHROMIUM) throw new Error(`HERALD_REQUIRE_BROWSER=1 but Chromium was not found at ${process.env.HERALD_CHROMIUM ?? '/usr/bin/chromium'} (apt-get install chromium, or set HERALD_CHROMIUM)`);
    const log = await ensurePwaBuilt();
    firstScreen = /first-screen JS[^\n]*/.exec(log ?? '')?.[0] ?? '(build was up to date)';
    push = await startPushFake();
    h = await startTestHerald({}, { adapters: (config) => ({ ...createAdapters(config), push: webPushAdapter(config, { ca: push.ca }) }) });
    const created = await h.api('POST', '/v1/rules', rule);
    expect(created.status).toBe(201);
    ruleId = created.body.id;
    await h.api('POST', '/v1/users', { name: 'Carl CEO', email: 'carl@example.com', roles: ['ceo'] });
    // A persistent profile: an incognito context is never installable (and keeps no Background Sync state).
    profile = mkdtempSync(path.join(tmpdir(), 'herald-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      baseURL: h.url, viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, hasTouch: true, locale: 'en-US',
      args: [
        '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-domain-reliability', '--no-default-browser-check',
        // Nothing may leave 127.0.0.1: every name fails to resolve (the app is addressed by IP).
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
      ],
    });
    context.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith(h.url) && !u.startsWith('data:') && !u.startsWith('blob:')) outside.push(u);
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => pageErrors.push(e.stack ?? e.message));
    // The PWA runs under its Content-Security-Policy: Chromium reports anything the policy blocked on the console.
    page.on('console', (m) => { if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) cspViolations.push(m.text()); });
  });

  afterAll(async () => {
    await context?.close().catch(() => {});
    await h?.stop();
    await push?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('signs in with email and password (HttpOnly, SameSite session cookie); the login page is accessible', async () => {
    await page.goto('/');
    await page.waitForURL(/\/login$/);
    await page.getByLabel('Email').waitFor();
    expect(await axeViolations()).toEqual([]);
    await page.getByLabel('Email').fill('admin@example.com');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'My queue' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/');
    const cookie = (await context.cookies()).find((c) => c.name === 'herald_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    console.log(`[pwa.browser] ${firstScreen}`);
  }, 60_000);

  it('the queue shows a fresh alert as it is created, with its countdown', async () => {
    await page.locator('.live-dot', { hasText: 'Live' }).waitFor();
    await postEvent('Invoice 1042 overdue 30d', '1042');
    const c = card('Invoice 1042 overdue 30d');
    await c.waitFor({ timeout: 5000 }); // no reload: the stream told the page
    const text = await c.innerText();
    expect(text).toMatch(/Escalates to CEO in (1 h|59 min)/);
    expect(text).toContain('Finance');
  });

  it('Acknowledge changes the server state', async () => {
    const c = card('Invoice 1042 overdue 30d');
    await c.getByRole('button', { name: 'Acknowledge' }).click();
    await c.getByText('Acknowledged by Admin').waitFor();
    const id = Number(await c.getAttribute('data-alert-id'));
    const a = await serverAlert(id);
    expect(a.status).toBe('acknowledged');
    expect(a.acknowledged_by).toMatchObject({ kind: 'user', name: 'Admin', via: 'pwa' });
    expect(await c.getByRole('button', { name: 'Acknowledge' }).count()).toBe(0);
  });

  it('an acknowledgement made through the API appears in the open page within a second', async () => {
    const id = await postEvent('Invoice 2001 overdue', '2001');
    const c = card('Invoice 2001 overdue');
    await c.getByRole('button', { name: 'Acknowledge' }).waitFor();
    const t0 = Date.now();
    expect((await h.api('POST', `/v1/alerts/${id}/acknowledge`)).status).toBe(200);
    await c.getByText('Acknowledged by').waitFor({ timeout: 1000 });
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeLessThan(1000);
    console.log(`[pwa.browser] API acknowledgement visible in the page after ${elapsed} ms`);
  });

  it('an acknowledgement made offline is kept, shown as pending, and sent when back online', async () => {
    const id = await postEvent('Invoice 3003 overdue', '3003');
    const c = card('Invoice 3003 overdue');
    await c.getByRole('button', { name: 'Acknowledge' }).waitFor();
    expect(await page.evaluate(async () => !!(await navigator.serviceWorker.ready).active)).toBe(true);
    await context.setOffline(true);
    await c.getByRole('button', { name: 'Acknowledge' }).click();
    await c.getByText('Acknowledgement pending').waitFor();
    await page.getByText(/You are offline\. 1 acknowledgement pending/).waitFor();
    expect((await serverAlert(id)).status).toBe('triggered');
    await context.setOffline(false);
    const a = await h.eventually(async () => {
      const x = await serverAlert(id);
      return x.status === 'acknowledged' && x;
    }, 15_000);
    expect(a.acknowledged_by).toMatchObject({ kind: 'user', name: 'Admin', via: 'pwa' });
    await c.getByText('Acknowledged by Admin').waitFor({ timeout: 5000 });
    expect(await c.getByText('Acknowledgement pending').count()).toBe(0);
  }, 60_000);

  it('is installable: the manifest parses without errors as Chromium reads it, and the service worker controls the page', async () => {
    await page.reload();
    await page.getByRole('heading', { name: 'My queue' }).waitFor();
    const sw = await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.ready;
      return { controlled: navigator.serviceWorker.controller !== null, scope: reg.scope, script: reg.active?.scriptURL };
    });
    expect(sw).toEqual({ controlled: true, scope: `${h.url}/`, script: `${h.url}/sw.js` });
    const cdp = await context.newCDPSession(page);
    const m = (await cdp.send('Page.getAppManifest')) as { url: string; errors: Array<{ message: string }>; data?: string };
    expect(m.errors).toEqual([]);
    expect(m.url).toBe(`${h.url}/manifest.webmanifest`);
    const manifest = JSON.parse(m.data!);
    expect(manifest).toMatchObject({ name: 'Herald', short_name: 'Herald', start_url: '/', display: 'standalone', theme_color: expect.stringMatching(/^#/) });
    const icons = manifest.icons as Array<{ sizes: string; purpose?: string; src: string }>;
    expect(icons.some((i) => i.sizes === '192x192')).toBe(true);
    expect(icons.some((i) => i.sizes === '512x512' && (i.purpose ?? 'any').includes('any'))).toBe(true);
    expect(icons.some((i) => i.purpose?.includes('maskable'))).toBe(true);
    for (const i of icons) expect((await fetch(new URL(i.src, h.url))).status, i.src).toBe(200);
    const inst = (await cdp.send('Page.getInstallabilityErrors')) as { installabilityErrors: Array<{ errorId: string }> };
    expect(inst.installabilityErrors).toEqual([]);
    await cdp.detach();
  }, 60_000);

  it('opens offline: the app shell and the last queue come from the service worker', async () => {
    await context.setOffline(true);
    try {
      const queueAnswer = page.waitForResponse((r) => r.url().includes('/v1/alerts?'));
      const shell = await page.reload();
      expect(shell?.fromServiceWorker()).toBe(true);
      expect((await queueAnswer).fromServiceWorker()).toBe(true);
      await page.getByRole('heading', { name: 'My queue' }).waitFor();
      await card('Invoice 3003 overdue').waitFor();
    } finally {
      await context.setOffline(false);
    }
  }, 60_000);

  it('has no serious or critical axe-core violations on the queue, detail, notifications, settings, rules and users pages', async () => {
    const id = await postEvent('Invoice 4004 overdue', '4004');
    const pages: Array<[string, () => Promise<unknown>]> = [
      ['/', () => card('Invoice 4004 overdue').waitFor()],
      [`/alerts/${id}`, () => page.getByRole('heading', { name: 'Timeline' }).waitFor()],
      ['/notifications', () => page.getByRole('link', { name: /Invoice 4004 overdue/ }).waitFor()],
      ['/settings', () => page.getByRole('heading', { name: 'Push notifications' }).waitFor()],
      ['/rules', () => page.getByText('Overdue invoices').first().waitFor()],
      ['/rules/new', () => page.getByRole('heading', { level: 1 }).waitFor()],
      ['/users', () => page.getByRole('cell', { name: 'admin@example.com' }).waitFor()],
    ];
    const report: Record<string, unknown> = {};
    for (const [url, ready] of pages) {
      await page.goto(url);
      await ready();
      await page.waitForTimeout(150); // let late renders settle
      const v = await axeViolations();
      if (v.length) report[url] = v;
    }
    expect(report).toEqual({});
  }, 90_000);

  it('the SOP ticked on the detail page is saved and shown to the next person', async () => {
    const id = await postEvent('Invoice 5005 overdue', '5005');
    await page.goto(`/alerts/${id}`);
    await page.getByRole('checkbox', { name: 'Call the customer' }).check();
    await h.eventually(async () => (await serverAlert(id)).sop_progress.checked.includes(0));
    expect((await serverAlert(id)).sop_progress.ticks[0].by).toMatchObject({ name: 'Admin', via: 'pwa' });
    await page.reload();
    expect(await page.getByRole('checkbox', { name: 'Call the customer' }).isChecked()).toBe(true);
    await page.getByText('(ticked by Admin)').waitFor();
  }, 60_000);

  it('never renders a stored non-http(s) SOP link as a link (a javascript: one would run in the PWA)', async () => {
    const bad = await postEvent('Invoice 5006 overdue', '5006');
    const good = await postEvent('Invoice 5007 overdue', '5007');
    // As stored before links were checked (the API refuses such a link now; see auth-hardening.test.ts).
    await h.sql`update alerts set sop = jsonb_set(sop, '{url}', to_jsonb('javascript:document.title="pwned"'::text)) where id = ${bad}`;
    await h.sql`update alerts set sop = jsonb_set(sop, '{url}', to_jsonb('https://wiki.example.com/sop/invoices'::text)) where id = ${good}`;
    await page.goto(`/alerts/${good}`);
    const link = page.getByRole('link', { name: /Full procedure/ });
    await link.waitFor();
    expect(await link.getAttribute('href')).toBe('https://wiki.example.com/sop/invoices');
    await page.goto(`/alerts/${bad}`);
    await page.getByRole('checkbox', { name: 'Call the customer' }).waitFor();
    expect(await page.getByRole('link', { name: /Full procedure/ }).count()).toBe(0);
    expect(await page.locator('a[href^="javascript:" i]').count()).toBe(0);
    expect(await page.title()).not.toBe('pwned');
  }, 60_000);

  it('a push becomes a notification whose Acknowledge action acknowledges from the service worker', async () => {
    // Chromium's own push service is Google's, so the browser is not subscribed: Herald pushes to the local
    // fake (which decrypts the payload as a browser would) and CDP hands that payload to the service worker.
    const node = await signIn(h, 'admin@example.com', 'correct horse battery');
    const sub = push.subscribe();
    expect((await node.call('POST', '/v1/push/subscriptions', { endpoint: sub.endpoint, keys: sub.keys })).status).toBe(201);
    expect((await h.api('PATCH', `/v1/rules/${ruleId}`, { channels: ['in_app', 'push'] })).status).toBe(200);
    await labelled('the dry run reaches the admin by push', () => h.eventually(async () => {
      const t = await h.api('POST', '/v1/rules/test', { event: { category: 'finance', type: 'invoice_overdue', title: 't' } });
      return t.body.recipients.some((r: { channels: string[] }) => r.channels.includes('push'));
    }));
    const id = await postEvent('Invoice 6006 overdue', '6006');
    const got = await labelled('the fake push service receives the alert', () => h.eventually(async () => push.received.find((r) => r.payload.alert.id === id)));

    await context.grantPermissions(['notifications'], { origin: h.url });
    await page.goto('/');
    await card('Invoice 6006 overdue').waitFor();
    const cdp = await context.newCDPSession(page);
    const registrationId = await new Promise<string>((resolve) => {
      cdp.on('ServiceWorker.workerRegistrationUpdated' as never, ((e: { registrations: Array<{ registrationId: string; scopeURL: string; isDeleted: boolean }> }) => {
        const r = e.registrations.find((x) => x.scopeURL === `${h.url}/` && !x.isDeleted);
        if (r) resolve(r.registrationId);
      }) as never);
      void cdp.send('ServiceWorker.enable' as never);
    });
    // Headless Chromium on a machine without a notification daemon drops displayed notifications within
    // moments, so getNotifications() is a race: the worker's showNotification calls are recorded instead.
    const worker = context.serviceWorkers().find((w) => w.url() === `${h.url}/sw.js`)!;
    await worker.evaluate(() => {
      const g = self as unknown as { registration: ServiceWorkerRegistration; __shown: Array<{ title: string; options: NotificationOptions }> };
      g.__shown = [];
      const show = g.registration.showNotification.bind(g.registration);
      g.registration.showNotification = (title: string, options: NotificationOptions = {}) => {
        g.__shown.push({ title, options });
        return show(title, options);
      };
    });
    await cdp.send('ServiceWorker.deliverPushMessage' as never, { origin: h.url, registrationId, data: JSON.stringify(got.payload) } as never);
    type Shown = { title: string; options: { body: string; tag: string; data: Record<string, unknown>; actions: Array<{ action: string; title: string }> } };
    const shown = await labelled('the service worker shows the notification', () => h.eventually(async () =>
      (await worker.evaluate(() => (self as unknown as { __shown: Shown[] }).__shown)).find((n) => n.options.tag === `alert-${id}`)));
    expect(shown).toMatchObject({
      title: '[HIGH] Invoice 6006 overdue',
      options: { tag: `alert-${id}`, actions: [{ action: 'acknowledge', title: 'Acknowledge' }], data: { alertId: id, url: `/alerts/${id}`, ack_url: got.payload.ack_url } },
    });
    expect(shown!.options.body).toContain('Escalates to CEO at');
    await cdp.detach();

    // Tapping "Acknowledge" on the lock screen: no CDP command clicks a notification, so the worker's own
    // notificationclick listeners get the event the browser would dispatch (with the notification's data).
    await worker.evaluate((n) => {
      const ev = Object.assign(new Event('notificationclick'), {
        action: 'acknowledge',
        notification: { data: n.options.data, close() {} },
        waitUntil(p: Promise<unknown>) {
          (self as unknown as { __click: Promise<unknown> }).__click = p;
        },
      });
      self.dispatchEvent(ev);
      return (self as unknown as { __click: Promise<unknown> }).__click;
    }, shown!);
    const a = await labelled('the action acknowledges the alert', () => h.eventually(async () => {
      const x = await serverAlert(id);
      return x.status === 'acknowledged' && x;
    }));
    expect(a.acknowledged_by).toMatchObject({ kind: 'user', name: 'Admin', via: 'pwa' });
    await card('Invoice 6006 overdue').getByText('Acknowledged by Admin').waitFor({ timeout: 5000 });
  }, 60_000);

  it('the Analytics page shows the figures of real alerts, redraws for another range, drills down, and is accessible', async () => {
    const api = (await h.api('GET', `/v1/analytics/alerts?tz=UTC`)).body;
    expect(api.totals.created).toBeGreaterThan(0);
    await page.goto('/analytics');
    await page.getByRole('heading', { name: 'Analytics' }).waitFor();
    await page.getByText(`${api.totals.created} alerts created, ${api.totals.acknowledged} acknowledged`).waitFor();
    const tiles = page.getByRole('list', { name: 'Response figures' });
    expect(await tiles.getByRole('listitem').count()).toBe(4);
    expect(await tiles.getByRole('listitem').filter({ hasText: 'Acknowledged' }).innerText()).toContain(`${Math.round(api.totals.ack_rate * 100)} %`);
    expect(await tiles.getByRole('listitem').filter({ hasText: 'MTTA' }).innerText()).not.toContain('—');
    const chart = page.getByRole('img', { name: /^Line chart per day/ });
    await chart.waitFor();
    expect(await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href')).toMatch(/^\/v1\/alerts\/export\?from=.*format=csv/);
    expect(await axeViolations()).toEqual([]);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'analytics-390x844.png') });

    // Another range redraws: hourly points for the last 24 h.
    await page.getByText('Last 24 h').click();
    await page.getByRole('img', { name: /^Line chart per hour/ }).waitFor();

    // A category drills down to the alert list with the range and the category.
    await page.getByRole('link', { name: 'Finance' }).click();
    await page.waitForURL(/\/alerts\?from=.*category=finance/);
    await page.getByRole('heading', { name: 'Alerts' }).waitFor();
    await card('Invoice 1042 overdue 30d').waitFor();
    expect(await axeViolations()).toEqual([]);

    // An empty range says so instead of showing zeros that look like measurements.
    await page.goto('/analytics');
    await page.getByText('Custom').click();
    await page.getByLabel('From', { exact: true }).fill('2020-01-01');
    await page.getByLabel('To', { exact: true }).fill('2020-01-31');
    await page.getByText('No alerts in this range.').waitFor();
    expect(await page.getByRole('list', { name: 'Response figures' }).count()).toBe(0);
  }, 60_000);

  it('writes a 390×844 screenshot of the queue', async () => {
    await page.goto('/');
    await card('Invoice 5005 overdue').waitFor();
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = path.join(ARTIFACTS, 'queue-390x844.png');
    await page.screenshot({ path: file });
    const png = readFileSync(file);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([390, 844]);
  });

  it('made no request beyond 127.0.0.1 and threw no uncaught errors', () => {
    expect(outside).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('ran every page under its Content-Security-Policy without a violation', async () => {
    const res = await page.goto('/');
    expect(res!.headers()['content-security-policy']).toContain("script-src 'self'");
    expect(cspViolations).toEqual([]);
  });
});
