// The Audit page in a real headless Chromium at 390×844: a person whose role grants audit:read (the CEO, not
// an admin) finds it in the navigation, filters to one rule, opens an entry's diff (priority normal → high,
// field by field) and exports the same selection as CSV. axe finds nothing serious.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { parse as parseCsv } from 'csv-parse/sync';
import { browserSuite, launchPhone, seriousAxeOn, signInAs, type Phone, openFromMore, openMore } from './browser-kit';
import { startTestHerald, type TestHerald } from './harness';
import { ensurePwaBuilt, ROOT } from './pwa-build';

const suite = browserSuite('pwa.audit.browser');

let h: TestHerald;
let phone: Phone | undefined;
let page: Page;
let pageErrors: string[] = [];
let rule = 0;

suite('the Audit page in Chromium', () => {
  beforeAll(async () => {
    await ensurePwaBuilt();
    h = await startTestHerald();
    await h.api('POST', '/v1/users', { name: 'Carla Chief', email: 'carla@example.com', roles: ['ceo'], password: 'carla password 1' });
    rule = (await h.api('POST', '/v1/rules', { name: 'Cash low', match: { category: 'finance', type: 'cash_low' }, targets: { roles: ['admin'] }, channels: ['in_app'] })).body.id;
    expect((await h.api('PATCH', `/v1/rules/${rule}`, { priority: 'high', channels: ['in_app', 'email'] })).status).toBe(200);
    phone = await launchPhone(h.url);
    ({ page, pageErrors } = phone);
    await signInAs(page, 'carla@example.com', 'carla password 1');
  }, 180_000);

  afterAll(async () => {
    await phone?.close();
    await h?.stop();
  });

  it('filters to one rule, shows its change as a diff, and exports the selection', async () => {
    await openFromMore(page, 'Audit');
    await page.getByRole('heading', { name: 'Audit', level: 1 }).waitFor();
    const list = page.getByRole('list', { name: 'Audit entries, newest first' });
    // Carla's own sign-in is there, with her address.
    await list.getByText('auth.signed_in').first().waitFor();

    await page.getByLabel('Entity').fill(`rule:${rule}`);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(`**/audit?entity=rule%3A${rule}`);
    await list.getByText('rule.created').waitFor();
    expect(await list.locator('> li').count()).toBe(2);
    expect(await seriousAxeOn(page)).toEqual([]);

    const updated = list.locator('> li').filter({ hasText: 'rule.updated' });
    expect(await updated.innerText()).toContain('Cash low');
    await updated.getByRole('button', { name: 'Show changes' }).click();
    const diff = updated.getByRole('region', { name: /Changes in entry/ });
    await diff.waitFor();
    const priority = diff.getByRole('row').filter({ hasText: 'priority' });
    expect(await priority.getByRole('cell').allInnerTexts()).toEqual(['normal', 'high']);
    const added = diff.getByRole('row').filter({ hasText: 'channels.1' });
    expect(await added.innerText()).toContain('Added');
    expect(await added.getByRole('cell').allInnerTexts()).toEqual(['—', 'email']);
    // Only what changed is listed (the name stayed).
    expect(await diff.getByRole('row').filter({ hasText: /^name/ }).count()).toBe(0);
    await expect(updated.getByRole('button', { name: 'Hide changes' }).getAttribute('aria-expanded')).resolves.toBe('true');
    expect(await seriousAxeOn(page)).toEqual([]);
    // Nothing wider than the phone (no sideways scrolling), the filters and the diff included.
    const wide = await page.evaluate(() => [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > 391).slice(0, 8).map((e) => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`));
    expect(wide).toEqual([]);
    // A creation lists each field of the new rule as added.
    const created = list.locator('> li').filter({ hasText: 'rule.created' });
    await created.getByRole('button', { name: 'Show changes' }).click();
    const name = created.getByRole('region', { name: /Changes in entry/ }).getByRole('row').filter({ hasText: /^name/ });
    expect(await name.innerText()).toContain('Added');
    expect(await name.getByRole('cell').allInnerTexts()).toEqual(['—', 'Cash low']);
    await created.getByRole('button', { name: 'Hide changes' }).click();
    mkdirSync(path.join(ROOT, 'test', 'artifacts'), { recursive: true });
    await page.screenshot({ path: path.join(ROOT, 'test', 'artifacts', 'audit-390x844.png'), fullPage: true });

    const href = await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
    expect(href).toBe(`/v1/audit/export?entity=rule%3A${rule}&format=csv`);
    const res = await page.request.get(href!);
    expect(res.status()).toBe(200);
    const rows = parseCsv(await res.text(), { columns: true, bom: true }) as Array<Record<string, string>>;
    expect(rows.map((r) => r.action)).toEqual(['rule.created', 'rule.updated']);
    const exportRow = await h.sql`select actor_name from audit where action = 'audit.exported'`;
    expect(exportRow.map((r) => r.actor_name)).toEqual(['Carla Chief']);
    expect(pageErrors).toEqual([]);
  }, 90_000);

  it('is not offered to people without audit:read', async () => {
    await h.api('POST', '/v1/users', { name: 'Wes Workshop', email: 'wes@example.com', roles: ['workshop'], password: 'wes password 1' });
    await signInAs(page, 'wes@example.com', 'wes password 1');
    await openMore(page);
    await page.getByRole('main').getByRole('link', { name: 'Settings', exact: true }).waitFor();
    expect(await page.getByRole('main').getByRole('link', { name: 'Audit' }).count()).toBe(0);
    await page.goto('/audit');
    await page.getByRole('heading', { level: 1 }).waitFor();
    expect(await page.getByRole('heading', { name: 'Audit', level: 1 }).count()).toBe(0);
  }, 60_000);
});
