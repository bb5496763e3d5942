// The Expectations and maintenance admin page in a real headless Chromium at 390×844: an admin adds an
// expectation without writing JSON, pauses it, adds a repeating maintenance window that pauses escalation,
// sees an event it suppressed named with the window, and deletes the window. Axe has no serious issue.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { browserSuite, launchPhone, seriousAxeOn, signInAs, type Phone } from './browser-kit';
import { startTestHerald, type TestHerald } from './harness';
import { ensurePwaBuilt, ROOT } from './pwa-build';

const suite = browserSuite('pwa.expectations.browser');

let h: TestHerald;
let phone: Phone | undefined;
let page: Page;
let pageErrors: string[] = [];

suite('the expectations and maintenance page in Chromium', () => {
  beforeAll(async () => {
    await ensurePwaBuilt();
    h = await startTestHerald();
    phone = await launchPhone(h.url);
    ({ page, pageErrors } = phone);
    page.on('dialog', (d) => { void d.accept(); });
    await signInAs(page, 'admin@example.com', 'correct horse battery');
  }, 180_000);

  afterAll(async () => {
    await phone?.close();
    await h?.stop();
  });

  it('adds an expectation from a form, says it in words, and pauses it', async () => {
    await page.goto('/expectations');
    await page.getByRole('heading', { name: 'Expectations and maintenance', level: 1 }).waitFor();
    await page.getByText('No expectation yet.', { exact: false }).waitFor();
    await page.getByLabel('Name', { exact: true }).first().fill('Call new leads within the hour');
    await page.getByLabel('After (category/type)').fill('sales/lead_created');
    await page.getByLabel('Expect one of (category/type, comma-separated)').fill('sales/lead_contacted, sales/lead_disqualified');
    await page.getByLabel('Within (minutes)').fill('90');
    await page.getByLabel('Else post (category/type)').fill('sales/lead_not_contacted');
    await page.getByLabel('Severity').selectOption('error');
    await page.getByLabel('Title of the alert').fill('Lead not contacted in time');
    await page.getByRole('button', { name: 'Add expectation' }).click();
    const card = page.getByRole('list', { name: 'Expectations' }).getByRole('listitem').filter({ hasText: 'Call new leads within the hour' });
    await card.waitFor();
    expect(await card.innerText()).toContain('within 1 h 30 min; else post sales/lead_not_contacted “Lead not contacted in time” (error)');
    const [saved] = await h.sql`select after, expect, within_minutes, same, "then", enabled from expectations`;
    expect(saved).toMatchObject({ after: { category: 'sales', type: 'lead_created' }, within_minutes: 90, same: 'entity', enabled: true,
      expect: [{ category: 'sales', type: 'lead_contacted' }, { category: 'sales', type: 'lead_disqualified' }] });
    await card.getByRole('button', { name: 'Pause' }).click();
    await card.getByText('Paused', { exact: true }).waitFor();
    expect((await h.sql`select enabled from expectations`)[0].enabled).toBe(false);

    // A malformed kind is named in words, and nothing is saved.
    await page.getByLabel('Name', { exact: true }).first().fill('Broken');
    await page.getByLabel('After (category/type)').fill('just-a-category');
    await page.getByLabel('Title of the alert').fill('Never saved');
    await page.getByRole('button', { name: 'Add expectation' }).click();
    await page.getByText('“After” is one category/type, e.g. sales/lead_created.').waitFor();
    expect(await h.sql`select 1 from expectations`).toHaveLength(1);
  }, 60_000);

  it('adds a repeating window that pauses escalation, shows what it suppressed, and deletes it', async () => {
    await page.goto('/expectations');
    await page.getByLabel('Name', { exact: true }).nth(1).fill('Line 2 service');
    await page.getByLabel('Repeating').check();
    await page.getByLabel('Starts (cron, UTC)').fill('* * * * *');
    await page.getByLabel('Lasts (minutes)').fill('5');
    await page.getByLabel('Category (empty: any)').fill('production');
    await page.getByLabel('Also pause the escalation of matching alerts already open').check();
    await page.getByRole('button', { name: 'Add window' }).click();
    const card = page.getByRole('list', { name: 'Maintenance windows' }).getByRole('listitem').filter({ hasText: 'Line 2 service' });
    await card.getByText('Open now').waitFor();
    expect(await card.innerText()).toContain('Every "* * * * *" (UTC) for 5 min');
    expect(await card.innerText()).toContain('Open alerts it matches stop escalating until it closes.');
    expect((await h.sql`select pause_escalation from maintenance_windows`)[0].pause_escalation).toBe(true);

    const ev = await h.api('POST', '/v1/events', { category: 'production', type: 'machine_down', title: 'Press 4 down' });
    await h.eventually(async () => (await h.sql`select status from events where id = ${ev.body.event_id}`)[0]?.status === 'suppressed');
    await page.reload();
    const list = page.getByRole('list', { name: 'Suppressed events' });
    await list.getByText('Press 4 down', { exact: false }).waitFor();
    expect(await list.innerText()).toContain('by Line 2 service');
    expect(await seriousAxeOn(page)).toEqual([]);
    mkdirSync(path.join(ROOT, 'test', 'artifacts'), { recursive: true });
    await page.screenshot({ path: path.join(ROOT, 'test', 'artifacts', 'expectations-390x844.png'), fullPage: true });

    await page.getByRole('list', { name: 'Maintenance windows' }).getByRole('listitem').filter({ hasText: 'Line 2 service' }).getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No maintenance window.', { exact: false }).waitFor();
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
