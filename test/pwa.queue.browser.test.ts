// Issue 16, "what a user can do", in a real headless Chromium at 390×844: the queue grouped Needs you / In
// progress / Snoozed with one state per card, "Escalated to you from Accounting", the SOP's progress and the top
// card's steps open, a category filter and search, three cards on one phone screen; All alerts with search,
// a date range and filters; unrouted events with "Make a rule from this event" pre-filling the editor; the rule
// editor building conditions and escalation without JSON, with errors in plain words next to their field, once,
// and a one-line preview that never covers the field being typed; the tester's form and its skip reasons; the
// bottom tab bar with everything reachable; the Users page's channels and push status as cards; the queue
// saying when I cannot be reached. axe finds nothing serious or critical on any page.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { browserSuite, launchPhone, seriousAxeOn, signInAs, type Phone } from './browser-kit';
import { startTestHerald, type TestHerald } from './harness';
import { ensurePwaBuilt, ROOT } from './pwa-build';

const suite = browserSuite('pwa.queue.browser');
const ARTIFACTS = path.join(ROOT, 'test', 'artifacts');

let h: TestHerald;
let phone: Phone | undefined;
let page: Page;
let wes = 0;
let invoice = 0;

const SOP = { title: 'Chase the invoice', steps: ['Call the customer', 'Send a reminder', 'Log the promise', 'Tell sales', 'Close'], url: null };

async function postEvent(ev: Record<string, unknown>): Promise<{ event_id: number; alert_id: number | null; status: string }> {
  const r = await h.api('POST', '/v1/events', { severity: 'error', ...ev });
  expect(r.status).toBe(202);
  return h.eventually(async () => {
    const e = (await h.api('GET', `/v1/events/${r.body.event_id}`)).body;
    return e.status !== 'accepted' && { event_id: r.body.event_id, alert_id: e.alert_id, status: e.status };
  });
}

const card = (title: string): Locator => page.getByRole('article', { name: title });
const tabs = () => page.getByRole('navigation', { name: 'Tabs' });
const noSerious = async () => expect(await seriousAxeOn(page)).toEqual([]);
const shot = async (name: string, fullPage = false) => {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, name), fullPage });
};

suite('the queue, All alerts, the rule editor and the tab bar on a phone (Chromium, 390×844)', () => {
  beforeAll(async () => {
    await ensurePwaBuilt();
    h = await startTestHerald();
    await h.api('POST', '/v1/users', { name: 'Ana', email: 'ana@example.com', roles: ['accounting'], password: 'ana password 1' });
    wes = (await h.api('POST', '/v1/users', { name: 'Wes', email: 'wes@example.com', roles: ['workshop'] })).body.id;
    expect((await h.api('POST', '/v1/rules', {
      name: 'Overdue invoices', position: 10, match: { category: 'finance', type: 'invoice_overdue' }, priority: 'high',
      targets: { roles: ['accounting'] }, channels: ['in_app', 'email', 'push'],
      escalation: { steps: [{ after_minutes: 30, roles: ['admin'] }], repeat: 0 }, sop: SOP,
    })).status).toBe(201);
    expect((await h.api('POST', '/v1/rules', {
      name: 'Machines', position: 20, match: { category: 'production', type: null }, priority: 'normal',
      targets: { roles: ['admin'] }, channels: ['in_app'],
    })).status).toBe(201);
    invoice = (await postEvent({ category: 'finance', type: 'invoice_overdue', title: 'Invoice 1042 overdue', metadata: { amount: 12500 } })).alert_id!;
    await h.fastForward(invoice);
    await h.eventually(async () => (await h.api('GET', `/v1/alerts/${invoice}`)).body.escalation.level === 1);
    const ids: number[] = [];
    for (const t of ['Press 1 down', 'Press 2 down', 'Saw 3 down', 'Lathe 4 down', 'Drill 5 down']) {
      ids.push((await postEvent({ category: 'production', type: 'machine_down', title: t, severity: 'warning', metadata: { machine: t } })).alert_id!);
    }
    expect((await h.api('POST', `/v1/alerts/${ids[3]}/acknowledge`, {})).status).toBe(200);
    expect((await h.api('POST', `/v1/alerts/${ids[4]}/snooze`, { minutes: 90 })).status).toBe(200);
    // An event no rule matches.
    expect((await postEvent({ category: 'sales', type: 'lead_lost', title: 'Lead ACME lost', severity: 'warning', metadata: { amount: 5000, region: 'north' } })).status).toBe('unrouted');
    phone = await launchPhone(h.url);
    page = phone.page;
    await signInAs(page, 'admin@example.com', 'correct horse battery');
  }, 120_000);

  afterAll(async () => {
    await phone?.close();
    await h?.stop();
  });

  it('groups the queue, says one state per card and who escalated it to me, shows SOP progress, and fits three cards on the screen', async () => {
    await card('Drill 5 down').waitFor();
    const groups = page.locator('section.q-group > h2');
    expect(await groups.allInnerTexts()).toEqual(['NEEDS YOU (4)', 'IN PROGRESS (1)', 'SNOOZED (1)']);
    const needs = page.getByRole('list', { name: 'Needs you, most urgent first' });
    expect(await needs.locator('article h2').allInnerTexts()).toEqual(['Invoice 1042 overdue', 'Press 1 down', 'Press 2 down', 'Saw 3 down']);
    // One state per card.
    for (const a of await page.locator('article.card').all()) expect(await a.locator('.state').count()).toBe(1);
    const top = card('Invoice 1042 overdue');
    expect(await top.locator('.state').innerText()).toBe('Needs you');
    await top.getByText('Escalated to you from Accounting').waitFor();
    expect(await card('Press 1 down').getByText(/Escalated/).count()).toBe(0);
    expect(await card('Lathe 4 down').locator('.state').innerText()).toBe('Acknowledged by HERALD_ADMIN_API_KEY'); // acknowledged with the API key
    // The time alone today; with the date when the snooze ends on another day (a run near midnight).
    expect(await card('Drill 5 down').locator('.state').innerText()).toMatch(/^Snoozed until ([A-Z][a-z]{2} \d{1,2}, )?\d\d:\d\d/);
    // The SOP's progress, and the top card's steps open.
    await top.getByText('0/5 done').waitFor();
    await top.getByRole('checkbox', { name: 'Call the customer' }).check();
    await top.getByText('1/5 done').waitFor();
    await h.eventually(async () => (await h.api('GET', `/v1/alerts/${invoice}`)).body.sop_progress.checked.includes(0));

    await shot('queue-grouped-390x844.png');
    // Three whole cards above the tab bar, without scrolling.
    const barTop = (await tabs().boundingBox())!.y;
    const boxes = await Promise.all((await page.locator('article.card').all()).slice(0, 3).map((a) => a.boundingBox()));
    console.log('[pwa.queue] first three cards (y, bottom):', boxes.map((b) => [Math.round(b!.y), Math.round(b!.y + b!.height)]), 'tab bar at', Math.round(barTop));
    for (const b of boxes) {
      expect(b!.y).toBeGreaterThanOrEqual(0);
      expect(b!.y + b!.height).toBeLessThanOrEqual(barTop);
    }
    expect(await page.evaluate(() => scrollY)).toBe(0);
    // Push is off on this (fresh) browser: the queue says so.
    await page.getByText('Push is off on this device.').waitFor();
    await noSerious();

    // Category filter and search.
    await page.getByLabel('Category').selectOption('finance');
    await page.waitForURL(/category=finance/);
    expect(await page.locator('article.card h2').allInnerTexts()).toEqual(['Invoice 1042 overdue']);
    await page.getByLabel('Category').selectOption('');
    await page.getByLabel('Search the queue').fill('saw');
    await h.eventually(async () => (await page.locator('article.card h2').allInnerTexts()).join() === 'Saw 3 down', 3000);
    await page.getByLabel('Search the queue').fill('');
  }, 60_000);

  it('the alert page at 390 wide, for the record', async () => {
    await card('Invoice 1042 overdue').getByRole('link', { name: 'Invoice 1042 overdue' }).click();
    await page.getByRole('heading', { name: 'Invoice 1042 overdue', level: 1 }).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    // An alert page belongs to the Queue tab.
    expect(await tabs().getByRole('link', { name: 'Queue' }).getAttribute('aria-current')).toBe('page');
    await shot('alert-page-390x844.png');
    await noSerious();
  }, 30_000);

  it('the tab bar keeps every page reachable; the selected tab is in view; tables become cards', async () => {
    await page.goto('/');
    await card('Press 1 down').waitFor();
    const names = await tabs().getByRole('link').allInnerTexts();
    expect(names.map((n) => n.replace(/\s*\d+\s*unread/, '').trim())).toEqual(['Queue', 'Notifications', 'Dashboards', 'More']);
    expect(await tabs().getByRole('link', { name: 'Queue' }).getAttribute('aria-current')).toBe('page');
    await tabs().getByRole('link', { name: 'More' }).click();
    await page.getByRole('heading', { name: 'More', level: 1 }).waitFor();
    for (const name of ['All alerts', 'Users', 'Roles', 'Settings', 'Rules', 'On call']) {
      const b = (await page.getByRole('link', { name, exact: true }).boundingBox())!;
      expect(b.x).toBeGreaterThanOrEqual(0);
      expect(b.x + b.width).toBeLessThanOrEqual(390);
    }
    const out = (await page.getByRole('button', { name: 'Sign out' }).boundingBox())!;
    expect(out.y + out.height).toBeLessThanOrEqual((await tabs().boundingBox())!.y);
    await noSerious();

    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    // The selected tab (More) is marked and on screen.
    const more = tabs().getByRole('link', { name: 'More' });
    expect(await more.getAttribute('aria-current')).toBe('page');
    const mb = (await more.boundingBox())!;
    expect(mb.y + mb.height).toBeLessThanOrEqual(844);
    expect(mb.x + mb.width).toBeLessThanOrEqual(390);
    // Each person a card: nothing wider than the phone; channels and push status per person.
    const ana = page.getByRole('row', { name: /^Ana/ });
    await ana.getByText('Off (no device)').waitFor();
    expect(await ana.innerText()).toContain('Email: not configured');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect((await page.locator('table.table').boundingBox())!.width).toBeLessThanOrEqual(390);
    await noSerious();
    // The roles matrix too: one card per permission, the roles' checkboxes side by side.
    await tabs().getByRole('link', { name: 'More' }).click();
    await page.getByRole('link', { name: 'Roles', exact: true }).click();
    await page.getByRole('checkbox', { name: 'CEO: See alerts' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect((await page.locator('table.table').boundingBox())!.width).toBeLessThanOrEqual(390);
    await shot('roles-390x844.png');
    await noSerious();
  }, 30_000);

  it('All alerts: search, a date range and filters', async () => {
    await page.goto('/more');
    await page.getByRole('link', { name: 'All alerts' }).click();
    await page.getByRole('heading', { name: 'All alerts' }).waitFor();
    await card('Invoice 1042 overdue').waitFor();
    await page.getByLabel('Search').fill('press 2');
    await h.eventually(async () => (await page.locator('article.card h2').allInnerTexts()).join() === 'Press 2 down', 5000);
    await page.getByLabel('Search').fill('');
    await h.eventually(async () => (await page.locator('article.card h2').count()) === 6, 5000).catch(async (e) => { await shot('debug-alerts.png', true); console.log(page.url(), await page.locator('article.card h2').allInnerTexts()); throw e; });
    await page.getByLabel('Status').selectOption('acknowledged');
    await h.eventually(async () => (await page.locator('article.card h2').allInnerTexts()).sort().join() === 'Drill 5 down,Lathe 4 down', 5000);
    await page.getByLabel('Status').selectOption('');
    await page.getByLabel('Category').selectOption('finance');
    await h.eventually(async () => (await page.locator('article.card h2').allInnerTexts()).join() === 'Invoice 1042 overdue', 5000);
    // A range that ends before the alert's day finds nothing; one that is that day finds it again. The day is the
    // alert's own, in the browser's zone: fastForward moved its creation 30 minutes back, so just after midnight
    // it is yesterday (the test once hung there, looking for it in a range of today).
    await page.getByLabel('To', { exact: true }).fill('2020-01-31');
    await page.getByText('No alerts match.').waitFor();
    expect(new URL(page.url()).searchParams.get('to')).toMatch(/^2020-0[12]-/);
    const createdAt: string = (await h.api('GET', `/v1/alerts/${invoice}`)).body.created_at;
    const day = await page.evaluate((iso) => { const d = new Date(iso); return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`; }, createdAt);
    await page.getByLabel('To', { exact: true }).fill(day);
    await page.getByLabel('From', { exact: true }).fill(day);
    await card('Invoice 1042 overdue').waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await noSerious();
  }, 30_000);

  it('an unrouted event becomes a rule in one tap; the editor builds conditions and escalation without JSON', async () => {
    await page.goto('/alerts');
    await page.getByRole('link', { name: 'Unrouted events' }).click();
    const ev = page.getByRole('article', { name: 'Lead ACME lost' });
    await ev.waitFor();
    await noSerious();
    await ev.getByRole('link', { name: 'Make a rule from this event' }).click();
    await page.getByRole('heading', { name: 'New rule' }).waitFor();
    expect(await page.getByLabel('Category').inputValue()).toBe('sales');
    expect(await page.getByLabel('Type', { exact: true }).inputValue()).toBe('lead_lost');
    expect(await page.getByLabel('Min severity').inputValue()).toBe('warning');
    // The fields seen in events are offered.
    await page.getByRole('button', { name: 'Add condition' }).click();
    const offered = await page.locator('#r-fields option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(offered).toEqual(expect.arrayContaining(['metadata.amount', 'metadata.region']));
    const cond = page.getByRole('group', { name: 'Condition 1' });
    await cond.getByLabel('Field').fill('metadata.amount');
    await cond.getByLabel('Operator').selectOption({ label: 'is at least' });
    // A word where a number belongs: said once, in plain words, next to the field.
    await cond.getByLabel('Value').fill('lots');
    const err = cond.getByText('Enter a number.');
    await err.waitFor();
    expect(await page.getByText('Enter a number.').count()).toBe(1);
    expect(await cond.getByLabel('Value').getAttribute('aria-invalid')).toBe('true');
    await cond.getByLabel('Value').fill('1000');
    await err.waitFor({ state: 'detached' });
    await page.getByRole('group', { name: 'Roles' }).getByLabel('Accounting').check();
    // Escalation: in hours after the alert opened, people by name.
    await page.getByRole('button', { name: 'Add escalation step' }).click();
    await page.getByLabel('Step 1: after').fill('2');
    expect(await page.getByLabel('Step 1: unit').inputValue()).toBe('hours');
    await page.getByRole('group', { name: 'Step 1: people' }).getByLabel('Wes').check();
    // Channels not configured say so.
    await page.locator('label[for="r-ch-email"]', { hasText: 'not configured' }).waitFor();
    // The server's check, in plain words, next to the field: a second step earlier than the first.
    await page.getByRole('button', { name: 'Add escalation step' }).click();
    await page.getByLabel('Step 2: after').fill('30');
    await page.getByLabel('Step 2: unit').selectOption('minutes');
    await page.getByRole('group', { name: 'Step 2: people' }).getByLabel('Wes').check();
    const order = page.getByText('Each step must come later than the one before.');
    await order.waitFor();
    expect(await order.count()).toBe(1);
    expect(await page.locator('#r-step-1-after-err').innerText()).toBe('Each step must come later than the one before.');
    expect(await page.locator('body').innerText()).not.toMatch(/escalation\.steps|match\.conditions|after_minutes/);
    await page.getByRole('button', { name: 'Remove step 2' }).click();
    await order.waitFor({ state: 'detached' });

    // On a phone the preview is one line, and never covers the field being typed.
    const preview = page.locator('.preview-box');
    await preview.locator('.preview-one', { hasText: /amount ≥ 1000/ }).waitFor();
    expect((await preview.boundingBox())!.height).toBeLessThan(50);
    for (const label of ['SOP title', 'Name', 'Step 1: after']) {
      const field = page.getByLabel(label, { exact: true });
      await field.focus();
      await field.pressSequentially(label === 'Step 1: after' ? '' : 'x');
      const f = (await field.boundingBox())!;
      const p = (await preview.boundingBox())!;
      const overlap = f.y < p.y + p.height && p.y < f.y + f.height;
      expect(overlap, `the preview covers ${label}`).toBe(false);
    }
    await page.getByLabel('SOP title').fill('');
    await page.getByLabel('Name').fill('Lost leads');
    await page.evaluate(() => scrollTo(0, 0));
    await shot('rule-editor-390x844.png');
    await shot('rule-editor-full-390.png', true);
    await noSerious();
    await page.getByRole('button', { name: 'Create rule' }).click();
    await page.waitForURL(/\/rules\/\d+$/);
    const id = Number(new URL(page.url()).pathname.split('/').pop());
    const rule = (await h.api('GET', `/v1/rules/${id}`)).body;
    expect(rule.match).toMatchObject({ category: 'sales', type: 'lead_lost', min_severity: 'warning', conditions: [{ field: 'metadata.amount', op: 'gte', value: 1000 }] });
    expect(rule.targets.roles).toEqual(['accounting']);
    expect(rule.escalation.steps).toEqual([expect.objectContaining({ after_minutes: 120, users: [wes] })]);
  }, 60_000);

  it('the tester takes a form and says why a channel was skipped', async () => {
    await page.goto('/rules/test');
    await page.getByRole('heading', { name: 'Test an event' }).waitFor();
    await page.getByLabel('Category').fill('finance');
    await page.getByLabel('Type').fill('invoice_overdue');
    await page.getByRole('button', { name: 'Run dry run' }).click();
    const result = page.getByRole('region', { name: 'Dry-run result' });
    await result.getByRole('link', { name: 'Overdue invoices' }).waitFor();
    const reasons = result.getByRole('list', { name: 'Why channels were skipped' });
    await reasons.getByText('Ana has no push subscription').waitFor();
    await reasons.getByText('Email is not configured').waitFor();
    await noSerious();
    // The same event as JSON.
    await page.getByRole('button', { name: 'JSON' }).click();
    expect(JSON.parse(await page.getByLabel('Event JSON').inputValue())).toMatchObject({ category: 'finance', type: 'invoice_overdue' });
  }, 30_000);

  it('tells a person with no working channel so on the queue', async () => {
    await signInAs(page, 'ana@example.com', 'ana password 1');
    await page.getByText(/No channel reaches you outside the app/).waitFor();
    await card('Invoice 1042 overdue').waitFor();
    await noSerious();
  }, 30_000);
});
