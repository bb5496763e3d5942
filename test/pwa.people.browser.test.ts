// The people pages in a real headless Chromium at 390×844 (issue 13): a person sees who is on call now and
// next in a week view and covers tonight in two taps; Settings edits their preferences with a live
// plain-language preview. axe finds nothing serious on either page.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { browserSuite, launchPhone, seriousAxeOn, signInAs, type Phone } from './browser-kit';
import { startTestHerald, type TestHerald } from './harness';
import { ensurePwaBuilt, ROOT } from './pwa-build';

const suite = browserSuite('pwa.people.browser');

let h: TestHerald;
let phone: Phone | undefined;
let page: Page;
let ana = 0; let sched = 0;
let pageErrors: string[] = [];

const seriousAxe = () => seriousAxeOn(page);

suite('people pages in Chromium', () => {
  beforeAll(async () => {
    await ensurePwaBuilt();
    h = await startTestHerald();
    ana = (await h.api('POST', '/v1/users', { name: 'Ana Accounts', email: 'ana@example.com', roles: ['accounting'], password: 'ana password 1', timezone: 'Europe/Berlin' })).body.id;
    const ben = (await h.api('POST', '/v1/users', { name: 'Ben Books', email: 'ben@example.com', roles: ['accounting'] })).body.id;
    sched = (await h.api('POST', '/v1/schedules', {
      name: 'Finance on-call', timezone: 'Europe/Berlin',
      rotations: [{ users: [ben, ana], shift: 'daily', handoff: '09:00', starts_on: new Date(Date.now() - 10 * 86_400_000).toISOString().slice(0, 10) }],
    })).body.id;
    phone = await launchPhone(h.url, { timezoneId: 'Europe/Berlin' });
    ({ page, pageErrors } = phone);
    await signInAs(page, 'ana@example.com', 'ana password 1');
  }, 180_000);

  afterAll(async () => {
    await phone?.close();
    await h?.stop();
  });

  it('shows who is on now and next in a week view, and covers tonight in two taps', async () => {
    // On a phone, On call and Settings sit under the tab bar's More.
    await page.getByRole('navigation', { name: 'Tabs' }).getByRole('link', { name: 'More' }).click();
    await page.getByRole('link', { name: 'On call' }).click();
    const card = page.getByRole('region', { name: 'Finance on-call' });
    await card.getByText('On call now').waitFor();
    const expected = (await h.api('GET', `/v1/schedules/${sched}/oncall`)).body.users[0].name;
    await card.locator('dd').first().getByText(expected).waitFor();
    const week = card.getByRole('region', { name: 'Finance on-call: this week' });
    expect(await week.locator('tbody tr').count()).toBe(7);
    expect(await week.innerText()).toMatch(/Ana Accounts (from|until) \d\d:\d\d/);
    expect(await seriousAxe()).toEqual([]);

    await card.getByRole('button', { name: "I'll cover tonight" }).click(); // tap 1
    await card.getByRole('button', { name: 'Confirm cover' }).click(); // tap 2
    await card.getByText(/^You cover Finance on-call until /).waitFor();
    const rows = await h.sql`select user_id, starts_at, ends_at from schedule_overrides where schedule_id = ${sched}`;
    expect(rows.map((r) => Number(r.user_id))).toEqual([ana]);
    const end = rows[0].ends_at as Date;
    expect(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit' }).format(end)).toBe('09:00');
    const at = new Date(Math.max(Date.now(), (rows[0].starts_at as Date).getTime()) + 60_000).toISOString();
    expect((await h.api('GET', `/v1/schedules/${sched}/oncall?at=${at}`)).body.users).toEqual([{ id: ana, name: 'Ana Accounts' }]);
    mkdirSync(path.join(ROOT, 'test', 'artifacts'), { recursive: true });
    await page.screenshot({ path: path.join(ROOT, 'test', 'artifacts', 'oncall-390x844.png'), fullPage: true });
  }, 60_000);

  it('edits preferences with a plain-language preview', async () => {
    await page.getByRole('navigation', { name: 'Tabs' }).getByRole('link', { name: 'More' }).click();
    await page.getByRole('link', { name: 'Settings' }).click();
    const prefs = page.getByRole('region', { name: 'Notifications' });
    const critical = prefs.getByRole('group', { name: 'Critical alerts by' });
    await critical.getByLabel('SMS').check();
    await critical.getByLabel('Push').check();
    await prefs.getByLabel('How often').selectOption('daily');
    const preview = prefs.getByTestId('prefs-preview');
    expect(await preview.innerText()).toBe('Critical alerts reach you by SMS and Push at any hour; high and normal ones reach you by every channel the rule names at any hour; low ones wait for your 08:00 digest (in-app right away).');
    await prefs.getByLabel('Hold notifications at night').check();
    expect(await preview.innerText()).toContain('high and normal ones reach you by every channel the rule names, except 22:00–07:00, when they wait until 07:00');
    expect(await seriousAxe()).toEqual([]);
    await prefs.getByRole('button', { name: 'Save notification settings' }).click();
    await prefs.getByText('Saved.').waitFor();
    const saved = await h.api('GET', `/v1/users/${ana}/preferences`);
    expect(saved.body).toMatchObject({
      channels: { critical: ['sms', 'push'] }, quiet_hours: { start: '22:00', end: '07:00', except: ['critical'] }, digest: { frequency: 'daily', at: '08:00' }, timezone: 'Europe/Berlin',
    });
    await page.screenshot({ path: path.join(ROOT, 'test', 'artifacts', 'preferences-390x844.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
