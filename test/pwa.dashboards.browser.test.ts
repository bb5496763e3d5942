// The KPI dashboards in a real headless Chromium at 390×844, after `npm run demo` (bench/demo.ts, run as a
// child process against the test Herald through its public API): each preset dashboard shows every widget
// that has data (no empty state where the API has numbers), the tiles carry their threshold colour, axe finds
// nothing serious, and a screenshot of each is kept in test/artifacts. A workshop user reaches their own
// dashboard from the queue with one tap. Chromium as in pwa.browser.test.ts (skipped without it unless
// HERALD_REQUIRE_BROWSER=1).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { browserSuite, launchPhone, seriousAxeOn, signInAs, type Phone } from './browser-kit';
import { ADMIN_KEY, startTestHerald, type TestHerald } from './harness';
import { ensurePwaBuilt, ROOT } from './pwa-build';

const suite = browserSuite('pwa.dashboards.browser');

let h: TestHerald;
let phone: Phone | undefined;
let page: Page;
let pageErrors: string[] = [];
let demoOutput = '';

const seriousAxe = () => seriousAxeOn(page);

/** Does a widget's API answer hold numbers worth drawing? */
function hasData(w: { type: string; data: any }): boolean {
  const d = w.data;
  const some = (pts?: Array<{ value: number | null }>) => !!pts?.some((p) => p.value !== null && p.value !== 0);
  switch (w.type) {
    case 'line': case 'bar': return some(d.series) || !!d.groups?.some((g: any) => some(g.series));
    case 'forecast': return d.forecast?.length > 0;
    case 'table': return d.rows?.length > 0;
    case 'status_grid': return d.items?.length > 0;
    default: return true;
  }
}

suite('KPI dashboards in Chromium after npm run demo', () => {
  beforeAll(async () => {
    await ensurePwaBuilt();
    h = await startTestHerald();
    const t0 = Date.now();
    const r = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', 'demo.ts')], {
      cwd: ROOT, env: { ...process.env, HERALD_URL: h.url, HERALD_API_KEY: ADMIN_KEY }, timeout: 120_000,
    });
    demoOutput = r.stdout;
    expect(Date.now() - t0).toBeLessThan(120_000);
    phone = await launchPhone(h.url);
    ({ page, pageErrors } = phone);
  }, 240_000);

  afterAll(async () => {
    await phone?.close();
    await h?.stop();
  });

  it('the demo filled every preset dashboard through the public API', () => {
    expect(demoOutput).toMatch(/sent \d{4,} events/);
    for (const key of ['sales', 'accounting', 'workshop', 'system']) expect(demoOutput).toContain(`  ${key}: `);
  });

  it('each preset shows every widget that has data, tiles coloured by threshold, axe clean', async () => {
    await signInAs(page, 'admin@example.com', 'correct horse battery');
    mkdirSync(path.join(ROOT, 'test', 'artifacts'), { recursive: true });
    for (const key of ['sales', 'accounting', 'workshop', 'system']) {
      const answer = (await h.api('GET', `/v1/dashboards/${key}`)).body;
      await page.goto(`/dashboards/${key}`);
      await page.getByRole('heading', { level: 1, name: answer.name }).waitFor();
      await page.locator('.kpi').first().waitFor();
      const tiles = answer.widgets.filter((w: any) => w.type === 'kpi');
      expect(await page.locator('.kpi').count()).toBe(tiles.length);
      for (const [i, w] of tiles.entries()) {
        const tile = page.locator('.kpi').nth(i);
        expect(await tile.locator('.kpi-title').innerText()).toBe(w.title);
        if (w.data.status) expect(await tile.getAttribute('class')).toContain(`kpi-${w.data.status}`);
        expect(await tile.locator('.kpi-value').innerText()).not.toBe('—');
      }
      for (const w of answer.widgets.filter((x: any) => x.type !== 'kpi')) {
        const panel = page.getByRole('region', { name: w.title, exact: true });
        await panel.waitFor();
        expect(hasData(w), `${key}/${w.title} has data after the demo`).toBe(true);
        expect(await panel.locator('.empty').count(), `${key}/${w.title} shows an empty state`).toBe(0);
        if (['line', 'bar', 'forecast'].includes(w.type)) await panel.locator('canvas').first().waitFor();
      }
      await page.waitForTimeout(300); // charts drawn
      expect(await seriousAxe(), key).toEqual([]);
      await page.screenshot({ path: path.join(ROOT, 'test', 'artifacts', `dashboard-${key}-390x844.png`), fullPage: true });
    }
    // The workshop tiles: two machines are down right now in the demo, past the warn threshold of 2.
    const ws = (await h.api('GET', '/v1/dashboards/workshop')).body;
    expect(ws.widgets[0].data.value).toBe(2);
    expect(ws.widgets[0].data.status).toBe('warn');
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('an admin edits a dashboard as JSON with a live preview, and a widget naming a missing metric is refused', async () => {
    await signInAs(page, 'admin@example.com', 'correct horse battery');
    await page.goto('/dashboards/workshop/edit');
    const editor = page.getByLabel(/Dashboard \(JSON\)/);
    await editor.waitFor();
    const doc = JSON.parse(await editor.inputValue());
    doc.widgets = [{ type: 'kpi', metric: 'workshop_downtime', title: 'Down right now', options: {} }, ...doc.widgets.slice(2, 3)];
    await editor.fill(JSON.stringify(doc, null, 2));
    await page.locator('.kpi-title', { hasText: 'Down right now' }).waitFor(); // the preview answered
    expect(await page.locator('.kpi-value').first().innerText()).toMatch(/^2/);
    doc.widgets.push({ type: 'line', metric: 'no_such_metric', title: 'Broken' });
    await editor.fill(JSON.stringify(doc, null, 2));
    await page.getByText('widgets.2.metric: metric no_such_metric does not exist').first().waitFor();
    doc.widgets.pop();
    await editor.fill(JSON.stringify(doc, null, 2));
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/\/dashboards\/workshop$/);
    const saved = (await h.api('GET', '/v1/dashboards/workshop')).body;
    expect(saved.widgets.map((w: any) => w.title)).toEqual(['Down right now', 'Machines']);
  }, 60_000);

  it('a workshop user lands on the workshop dashboard with one tap from the queue', async () => {
    const u = await h.api('POST', '/v1/users', { name: 'Wendy Workshop', email: 'wendy@example.com', roles: ['workshop'], password: 'wendy password 1' });
    expect(u.status).toBe(201);
    await signInAs(page, 'wendy@example.com', 'wendy password 1');
    await page.getByRole('link', { name: 'Dashboards' }).click();
    await page.getByRole('heading', { level: 1, name: 'Workshop' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/dashboards/workshop');
    await page.getByRole('link', { name: '7 days' }).click();
    await page.waitForURL(/range=7d/);
    await page.getByRole('region', { name: 'Machines', exact: true }).locator('.cell-open').first().waitFor();
    expect(await page.getByRole('link', { name: 'Edit' }).count()).toBe(0); // not an admin
  }, 60_000);

  it('a tile opens the items behind it, and a machine going down moves the tile live, without a reload', async () => {
    // Still Wendy, on the workshop dashboard the admin reshaped above (first tile: "Down right now").
    await page.goto('/dashboards/workshop');
    const tile = page.locator('.kpi-button', { hasText: 'Down right now' });
    await tile.waitFor();
    const before = Number((await tile.locator('.kpi-value').innerText()).match(/^\d+/)![0]);
    await tile.click();
    const behind = page.getByRole('list', { name: 'Items behind Down right now' });
    await behind.waitFor();
    expect(await behind.getByText('still open', { exact: false }).count()).toBe(before);
    expect(await seriousAxe()).toEqual([]);
    await page.screenshot({ path: path.join(ROOT, 'test', 'artifacts', 'dashboard-drilldown-390x844.png'), fullPage: true });

    let navigations = 0;
    page.on('framenavigated', () => { navigations++; });
    const r = await h.api('POST', '/v1/events', { category: 'workshop', type: 'machine_down', title: 'Saw 9 down', entity: { kind: 'machine', id: 'saw-9', name: 'SAW-9' } });
    expect(r.status).toBe(202);
    await tile.locator('.kpi-value', { hasText: new RegExp(`^${before + 1}\\b`) }).waitFor({ timeout: 15_000 });
    expect(navigations).toBe(0);
    await behind.getByText('SAW-9').waitFor();
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
