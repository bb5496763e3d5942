// Scoring in a real headless Chromium at 390×844: from the main navigation to a score page (top and bottom, the
// distribution chart, who crossed lately, a recompute with live progress) and to an entity page (attributes,
// the explanation as a bar list with a missing attribute shown as missing, the history line), axe clean on
// each. Chromium as in pwa.browser.test.ts (skipped without it unless HERALD_REQUIRE_BROWSER=1).
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { browserSuite, launchPhone, seriousAxeOn, signInAs, type Phone, openFromMore } from './browser-kit';
import { startTestHerald, type TestHerald } from './harness';
import { ensurePwaBuilt } from './pwa-build';

const suite = browserSuite('pwa.scoring.browser');
let h: TestHerald;
let phone: Phone | undefined;
let page: Page;
let pageErrors: string[] = [];

async function send(events: Array<Record<string, unknown>>) {
  const r = await h.api('POST', '/v1/events/batch', { events: events.map((e) => ({ title: `${e.category}/${e.type}`, severity: 'info', ...e })) });
  expect(r.status).toBe(202);
  await h.eventually(async () => {
    const [{ max }] = await h.sql<{ max: number }[]>`select coalesce(max(id), 0)::bigint as max from events`;
    const [{ hwm }] = await h.sql<{ hwm: number }[]>`select hwm from score_state`;
    return Number(hwm) >= Number(max);
  }, 20_000);
}

suite('scores and entities in Chromium', () => {
  beforeAll(async () => {
    await ensurePwaBuilt();
    h = await startTestHerald();
    const c = await h.api('POST', '/v1/scores', {
      key: 'trust', name: 'Trust score', entity_kind: 'customer', base: 100, range: [0, 100],
      factors: [
        { count: { category: 'finance', type: 'invoice_paid_late', days: 90 }, points: -25, name: 'late payments' },
        { field: 'metadata.days_since_contact', op: 'gte', value: 30, points: -15, name: 'no contact in 30 days' },
        { field: 'metadata.revenue', weight: 20, scale: { min: 0, max: 100000 }, name: 'revenue' },
      ],
      thresholds: [{ below: 40, severity: 'error', title: 'At risk' }],
    });
    expect(c.status, JSON.stringify(c.body)).toBe(201);
    const cust = (id: string, name: string, metadata: Record<string, unknown>) => ({ category: 'crm', type: 'customer_updated', entity: { kind: 'customer', id, name }, metadata });
    const late = (id: string) => ({ category: 'finance', type: 'invoice_paid_late', entity: { kind: 'customer', id } });
    await send([cust('acme', 'Acme', { revenue: 15000, days_since_contact: 45 }), cust('globex', 'Globex', { revenue: 100000 }), cust('initech', 'Initech', { revenue: 50000, days_since_contact: 5 })]);
    await send([late('acme'), late('initech')]);
    await send([late('acme')]);
    phone = await launchPhone(h.url);
    ({ page, pageErrors } = phone);
    await signInAs(page, 'admin@example.com', 'correct horse battery');
  }, 240_000);

  afterAll(async () => {
    await phone?.close();
    await h?.stop();
  });

  it('the score page: top and bottom, distribution, crossed lately, recompute with live progress; axe clean', async () => {
    await openFromMore(page, 'Scores');
    await page.getByRole('heading', { level: 1, name: 'Scores' }).waitFor();
    await page.getByRole('link', { name: 'Trust score' }).click();
    await page.getByRole('heading', { level: 1, name: 'Trust score' }).waitFor();
    const bottom = page.getByRole('table', { name: 'Bottom 10' });
    await bottom.waitFor();
    // Acme 100 − 50 − 15 + 3 = 38; Initech 100 − 25 + 10 = 85; Globex 100 − 0 + 20 → 100 (missing contact: nothing)
    expect(await bottom.locator('tbody tr').allInnerTexts()).toEqual(['Acme\t38', 'Initech\t85', 'Globex\t100']);
    expect(await page.getByRole('table', { name: 'Top 10' }).locator('tbody tr').first().innerText()).toBe('Globex\t100');
    await page.locator('#dist-title ~ .chart-box canvas').waitFor();
    expect(await page.locator('#dist-title ~ .chart-box canvas').getAttribute('aria-label')).toContain('Entities:');
    expect(await page.locator('#crossed-title ~ ul li').allInnerTexts()).toEqual([expect.stringContaining('Acme')]);
    expect(await seriousAxeOn(page)).toEqual([]);

    await page.getByRole('button', { name: 'Recompute all' }).click();
    const status = page.locator('.run');
    await status.getByText(/Recomputing: succeeded, 100% \(3 of 3 entities\)/).waitFor({ timeout: 20_000 });
    expect(await status.innerText()).toContain('0 values changed, 0 crossings');
    expect(await seriousAxeOn(page)).toEqual([]);
  });

  it('the entity page: attributes, the explanation as a bar list, the history line; axe clean', async () => {
    await page.getByRole('table', { name: 'Bottom 10' }).getByRole('link', { name: 'Acme' }).click();
    await page.getByRole('heading', { level: 1, name: 'Acme' }).waitFor();
    const expl = page.getByRole('table', { name: 'Why Trust score is 38' });
    await expl.waitFor();
    const rows = await expl.locator('tbody tr').allInnerTexts();
    expect(rows.map((r) => r.replace(/\s+/g, ' ').trim())).toEqual([
      'base +100', 'late payments · 2 −50', 'no contact in 30 days · 45 −15', 'revenue · 15000 +3',
    ]);
    expect(await expl.locator('.expl-bar.neg').count()).toBe(2);
    expect(await expl.locator('.expl-bar.pos').count()).toBe(2);
    // the history: 88 → 63 → 38, drawn as a line
    await page.locator('canvas[aria-label^="Trust score history"]').waitFor();
    expect(await page.locator('canvas[aria-label^="Trust score history"]').getAttribute('aria-label')).toMatch(/88.*63.*38/);
    expect(await page.getByRole('heading', { name: 'Open alerts' }).isVisible()).toBe(true);
    expect(await seriousAxeOn(page)).toEqual([]);

    await page.goto('/entities/customer/globex');
    const g = page.getByRole('table', { name: 'Why Trust score is 100' });
    await g.waitFor();
    expect((await g.locator('tbody tr').nth(2).innerText()).replace(/\s+/g, ' ')).toContain('no contact in 30 days (missing)');
    await page.goto('/entities?kind=customer');
    await page.getByRole('heading', { level: 1, name: 'Entities: customer' }).waitFor();
    await page.getByLabel('Search by name or id').fill('glo');
    await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 1);
    expect(await seriousAxeOn(page)).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
