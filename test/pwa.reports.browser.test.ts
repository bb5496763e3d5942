// The Reports page in a real headless Chromium at 390×844: an admin reaches it from the navigation, is told
// what is wrong with a bad schedule, creates a weekly report, runs it and watches it finish, downloads the
// PDF from the history, edits and deletes it; a reader sees the history but no editing. axe finds nothing
// serious; a screenshot is kept in test/artifacts. A scores report is made by picking the score by name.
// Skipped without Chromium unless HERALD_REQUIRE_BROWSER=1.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { browserSuite, launchPhone, seriousAxeOn, signInAs, type Phone, openFromMore } from './browser-kit';
import { startTestHerald, type TestHerald } from './harness';
import { ensurePwaBuilt, ROOT } from './pwa-build';

const suite = browserSuite('pwa.reports.browser');

let h: TestHerald;
let phone: Phone | undefined;
let page: Page;
let pageErrors: string[] = [];

suite('Reports in Chromium', () => {
  beforeAll(async () => {
    await ensurePwaBuilt();
    h = await startTestHerald();
    await h.api('POST', '/v1/rules', { name: 'Finance', match: { category: 'finance' }, targets: { roles: ['accounting'] }, channels: ['in_app'] });
    await h.api('POST', '/v1/users', { name: 'Rita Reader', email: 'rita@example.com', roles: ['sales'], password: 'rita password 1' });
    for (let i = 0; i < 3; i++) await h.api('POST', '/v1/events', { category: 'finance', type: 'payment_failed', severity: 'error', title: `Payment ${i} failed`, dedup_key: `p${i}` });
    const score = await h.api('POST', '/v1/scores', {
      key: 'health', name: 'Account health', entity_kind: 'account', range: [0, 100],
      factors: [{ field: 'metadata.health', weight: 100, scale: { min: 0, max: 100 }, name: 'health' }],
      thresholds: [{ below: 50, severity: 'warning', title: 'Watch' }],
    });
    expect(score.status, JSON.stringify(score.body)).toBe(201);
    await h.api('POST', '/v1/events/batch', { events: [['acme', 'Acme', 80], ['bolt', 'Bolt', 30]].map(([id, name, health]) =>
      ({ category: 'crm', type: 'account_updated', title: `${name} updated`, severity: 'info', entity: { kind: 'account', id, name }, metadata: { health } })) });
    phone = await launchPhone(h.url, { timezoneId: 'Europe/Berlin' });
    ({ page, pageErrors } = phone);
    await signInAs(page, 'admin@example.com', 'correct horse battery');
  }, 240_000);

  afterAll(async () => {
    await phone?.close();
    await h?.stop();
  });

  it('an admin creates, runs, downloads, edits and deletes a report', async () => {
    await openFromMore(page, 'Reports');
    await page.getByRole('heading', { name: 'Reports', level: 1 }).waitFor();
    await page.getByText('No reports yet.').waitFor();

    await page.getByRole('button', { name: 'New report' }).click();
    const form = page.getByRole('form', { name: 'New report' });
    await form.getByLabel('Name').fill('Weekly alerts');
    await form.getByLabel('Cron (minute hour day month weekday)').fill('every monday');
    await form.getByRole('button', { name: 'Save' }).click();
    // The 400 names the field; nothing was saved.
    await form.getByText(/schedule\.cron/).first().waitFor();
    expect((await h.api('GET', '/v1/reports')).body.items).toHaveLength(0);

    await form.getByLabel('Cron (minute hour day month weekday)').fill('0 8 * * 1');
    expect(await form.getByLabel('Time zone').inputValue()).toBe('Europe/Berlin');
    await form.getByRole('button', { name: 'Save' }).click();
    const card = page.getByRole('region', { name: 'Weekly alerts', exact: true });
    await card.waitFor();
    await card.getByText('No runs yet.').waitFor();
    const saved = (await h.api('GET', '/v1/reports')).body.items[0];
    expect(saved.schedule).toEqual({ cron: '0 8 * * 1', timezone: 'Europe/Berlin' });
    expect(saved.next_run_at).not.toBeNull();

    await card.getByRole('button', { name: 'Run now Weekly alerts' }).click();
    await card.getByText('Weekly alerts is queued.').waitFor();
    const download = card.getByRole('link', { name: /^Download/ });
    await download.waitFor({ timeout: 30_000 });
    await card.getByText('Ready').waitFor();
    const href = await download.getAttribute('href');
    expect(href).toMatch(/^\/v1\/report-runs\/\d+\/file$/);
    const file = await page.request.get(href!);
    expect(file.status()).toBe(200);
    expect(file.headers()['content-type']).toBe('application/pdf');
    expect((await file.body()).subarray(0, 5).toString()).toBe('%PDF-');

    expect(await seriousAxeOn(page)).toEqual([]);
    mkdirSync(path.join(ROOT, 'test', 'artifacts'), { recursive: true });
    await page.screenshot({ path: path.join(ROOT, 'test', 'artifacts', 'reports-390x844.png'), fullPage: true });

    await card.getByRole('button', { name: 'Edit Weekly alerts' }).click();
    const edit = page.getByRole('form', { name: 'Edit Weekly alerts' });
    await edit.getByLabel('Name').fill('Weekly finance alerts');
    await edit.getByLabel('Category (empty: all)').fill('finance');
    expect(await seriousAxeOn(page)).toEqual([]);
    await edit.getByRole('button', { name: 'Save' }).click();
    const renamed = page.getByRole('region', { name: 'Weekly finance alerts', exact: true });
    await renamed.waitFor();
    // The history stayed with the report.
    await renamed.getByRole('link', { name: /^Download/ }).waitFor();
    expect((await h.api('GET', `/v1/reports/${saved.id}`)).body.params).toMatchObject({ category: 'finance', period: 'last_7d' });

    await renamed.getByRole('button', { name: 'Delete Weekly finance alerts' }).click();
    await renamed.getByRole('button', { name: /Confirm delete/ }).click();
    await page.getByText('No reports yet.').waitFor();
    expect((await h.api('GET', `/v1/reports/${saved.id}`)).status).toBe(404);
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('an admin creates a scores report by picking the score by name, runs it and edits its filters', async () => {
    await page.goto('/reports');
    await page.getByRole('button', { name: 'New report' }).click();
    const form = page.getByRole('form', { name: 'New report' });
    await form.getByLabel('Name').fill('Weekly health');
    await form.getByLabel('What').selectOption('scores');
    const picker = form.getByLabel('Score', { exact: true });
    await picker.locator('option', { hasText: 'Account health (account)' }).waitFor({ state: 'attached' });
    await picker.selectOption({ label: 'Account health (account)' });
    await form.getByLabel('Rank').selectOption({ label: 'Lowest first' });
    await form.getByLabel('Only values below (empty: any)').fill('fifty');
    expect(await seriousAxeOn(page)).toEqual([]);
    await form.getByRole('button', { name: 'Save' }).click();
    // The 400 names the field; nothing was saved.
    await form.getByText(/params\.below/).first().waitFor();
    expect((await h.api('GET', '/v1/reports')).body.items.filter((r: any) => r.kind === 'scores')).toHaveLength(0);

    await form.getByLabel('Only values below (empty: any)').fill('50');
    await form.getByLabel('Format').selectOption('xlsx');
    await form.getByRole('button', { name: 'Save' }).click();
    const card = page.getByRole('region', { name: 'Weekly health', exact: true });
    await card.waitFor();
    await card.getByText('Scores (health), XLSX').waitFor();
    const saved = (await h.api('GET', '/v1/reports')).body.items.find((r: any) => r.name === 'Weekly health');
    expect(saved).toMatchObject({ kind: 'scores', format: 'xlsx', params: { score: 'health', order: 'asc', below: 50, period: 'last_7d' } });

    await card.getByRole('button', { name: 'Run now Weekly health' }).click();
    const download = card.getByRole('link', { name: /^Download/ });
    await download.waitFor({ timeout: 30_000 });
    const file = await page.request.get((await download.getAttribute('href'))!);
    expect(file.status()).toBe(200);
    expect(file.headers()['content-type']).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');

    await card.getByRole('button', { name: 'Edit Weekly health' }).click();
    const edit = page.getByRole('form', { name: 'Edit Weekly health' });
    expect(await edit.getByLabel('Score', { exact: true }).inputValue()).toBe('health');
    expect(await edit.getByLabel('Only values below (empty: any)').inputValue()).toBe('50');
    await edit.getByLabel('Only the first (empty: all)').fill('10');
    await edit.getByLabel('Only those past a threshold').check();
    await edit.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('region', { name: 'Weekly health', exact: true }).getByRole('button', { name: 'Edit Weekly health' }).waitFor();
    expect((await h.api('GET', `/v1/reports/${saved.id}`)).body.params).toEqual({ score: 'health', order: 'asc', below: 50, top: 10, crossed: true, period: 'last_7d' });
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('a reader sees reports and their history, without editing', async () => {
    const r = await h.api('POST', '/v1/reports', { name: 'Team CSV', kind: 'alerts', format: 'csv' });
    const run = await h.api('POST', `/v1/reports/${r.body.id}/run`);
    await h.eventually(async () => (await h.api('GET', `/v1/report-runs/${run.body.run_id}`)).body.status === 'succeeded', 30_000);
    await signInAs(page, 'rita@example.com', 'rita password 1');
    await page.goto('/reports');
    const card = page.getByRole('region', { name: 'Team CSV', exact: true });
    await card.getByRole('link', { name: /^Download/ }).waitFor();
    expect(await page.getByRole('button', { name: 'New report' }).count()).toBe(0);
    expect(await card.getByRole('button').count()).toBe(0);
    expect(await seriousAxeOn(page)).toEqual([]);
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
