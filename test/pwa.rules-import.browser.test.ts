// The rules import page in a real headless Chromium at 390×844 (issue 16, "Must fix first" 1): an admin with
// five rules picks a YAML file with one changed and one new rule, sees what it changes before anything is
// saved, applies a merge and keeps all five; "Replace all rules" asks first, naming the rules it deletes.
// Chromium is found as in pwa.browser.test.ts (/usr/bin/chromium or HERALD_CHROMIUM; skipped without it
// unless HERALD_REQUIRE_BROWSER=1).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { browserSuite, launchPhone, seriousAxeOn, signInAs, type Phone } from './browser-kit';
import { startTestHerald, type TestHerald } from './harness';
import { ensurePwaBuilt, ROOT } from './pwa-build';

const suite = browserSuite('pwa.rules-import.browser');

let h: TestHerald;
let phone: Phone | undefined;
let page: Page;
let pageErrors: string[] = [];

const FIVE = [
  ['Overdue invoices', 'finance', 10], ['Machine down', 'production', 20], ['Big orders', 'sales', 30],
  ['Stock low', 'warehouse', 40], ['Security', 'security', 50],
].map(([name, category, position]) => ({ name, position, match: { category }, targets: { roles: ['admin'] }, channels: ['in_app'] }));

const FILE = `version: 1
rules:
  - name: Machine down
    position: 20
    match:
      category: production
      min_severity: error
    targets:
      roles: [admin]
    priority: critical
  - name: Payroll failed
    position: 60
    match:
      category: hr
    targets:
      roles: [admin]
`;

const ruleRows = async () => h.sql<{ id: number; name: string; priority: string; updated_at: Date }[]>`select id, name, priority, updated_at from rules order by position, id`;

const seriousAxe = () => seriousAxeOn(page);

suite('the rules import page in Chromium', () => {
  beforeAll(async () => {
    await ensurePwaBuilt();
    h = await startTestHerald();
    // The story is an organisation with exactly these five rules: the preset ones (security events to admins)
    // are deleted first, as an admin may.
    for (const r of (await h.api('GET', '/v1/rules')).body.items) expect((await h.api('DELETE', `/v1/rules/${r.id}`)).status).toBe(204);
    for (const r of FIVE) expect((await h.api('POST', '/v1/rules', r)).status).toBe(201);
    phone = await launchPhone(h.url);
    ({ page, pageErrors } = phone);
    await signInAs(page, 'admin@example.com', 'correct horse battery');
  }, 180_000);

  afterAll(async () => {
    await phone?.close();
    await h?.stop();
  });

  it('a picked file is checked first (nothing saved), then a merge adds one, updates one and keeps all five', async () => {
    const before = await ruleRows();
    await page.goto('/rules/import');
    await page.getByLabel('Rules file').setInputFiles({ name: 'rules.yaml', mimeType: 'application/yaml', buffer: Buffer.from(FILE) });

    const plan = page.getByRole('region', { name: 'What this file changes' });
    await plan.getByText('1 to add, 1 to update, 0 unchanged; 4 rules not in the file.').waitFor();
    const added = plan.getByRole('region', { name: 'Added (1)' });
    expect(await added.innerText()).toContain('Payroll failed');
    const changed = plan.getByRole('region', { name: 'Changed (1)' });
    expect(await changed.innerText()).toMatch(/Machine down — changes minimum severity, priority/);
    expect(await changed.innerText()).toContain('Was: All Production alerts go to Admin via In-app.');
    const kept = plan.getByRole('region', { name: /^Not in the file \(kept; Replace all rules would delete them\) \(4\)$/ });
    for (const name of ['Overdue invoices', 'Big orders', 'Stock low', 'Security']) expect(await kept.innerText()).toContain(name);
    expect(await plan.getByRole('radio', { name: /^Merge/ }).isChecked()).toBe(true);
    expect(await seriousAxe()).toEqual([]);
    mkdirSync(path.join(ROOT, 'test', 'artifacts'), { recursive: true });
    await page.screenshot({ path: path.join(ROOT, 'test', 'artifacts', 'rules-import-390x844.png'), fullPage: true });
    expect(await ruleRows()).toEqual(before); // the check saved nothing

    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('Added 1 rule, updated 1, 0 unchanged.').waitFor();
    const after = await ruleRows();
    expect(after.map((r) => r.name)).toEqual(['Overdue invoices', 'Machine down', 'Big orders', 'Stock low', 'Security', 'Payroll failed']);
    for (const r of before.filter((x) => x.name !== 'Machine down')) expect(after).toContainEqual(r);
    expect(after.find((r) => r.name === 'Machine down')).toMatchObject({ id: before[1].id, priority: 'critical' });
  }, 60_000);

  it('Replace all rules asks first, naming the count and the rules it deletes; Cancel deletes nothing', async () => {
    const before = await ruleRows();
    await page.goto('/rules/import');
    await page.getByLabel('Rules (JSON or YAML)').fill(FILE);
    const plan = page.getByRole('region', { name: 'What this file changes' });
    await plan.getByText('0 to add, 0 to update, 2 unchanged; 4 rules not in the file.').waitFor();
    await plan.getByRole('radio', { name: /^Replace all rules/ }).check();
    await plan.getByRole('region', { name: 'Will be deleted (4)' }).waitFor();
    await page.getByRole('button', { name: 'Apply' }).click();
    const confirm = page.getByRole('alert');
    await confirm.getByText('This deletes 4 rules not in the file: Overdue invoices, Big orders, Stock low and Security.').waitFor();
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    expect(await ruleRows()).toEqual(before);

    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByRole('button', { name: 'Delete 4 rules and import' }).click();
    await page.getByText('Added 0 rules, updated 0, 2 unchanged, deleted 4.').waitFor();
    expect((await ruleRows()).map((r) => r.name)).toEqual(['Machine down', 'Payroll failed']);
  }, 60_000);

  it('an invalid file is named and changes nothing', async () => {
    const before = await ruleRows();
    await page.goto('/rules/import');
    await page.getByLabel('Rules (JSON or YAML)').fill('rules:\n  - name: Broken\n    match:\n      category: Not A Slug\n');
    const problem = page.getByRole('alert').filter({ hasText: 'Nothing was imported' });
    await problem.getByText('rules.0.match.category', { exact: true }).waitFor();
    expect(await page.getByRole('region', { name: 'What this file changes' }).count()).toBe(0);
    expect(await ruleRows()).toEqual(before);
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
