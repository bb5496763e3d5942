// The Integrations admin page in a real headless Chromium at 390×844: an admin adds an Alertmanager
// integration and sees the exact URL to paste (once), Alertmanager posts to that URL, and the page shows the
// event received and what became of it; a heartbeat shows its ping URL, a ping turns it Up; rotating asks
// first and shows the new key; deleting removes it. Chromium as in pwa.browser.test.ts (skipped without it
// unless HERALD_REQUIRE_BROWSER=1).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { browserSuite, launchPhone, seriousAxeOn, signInAs, type Phone } from './browser-kit';
import { startTestHerald, type TestHerald } from './harness';
import { ensurePwaBuilt, ROOT } from './pwa-build';

const suite = browserSuite('pwa.integrations.browser');

let h: TestHerald;
let phone: Phone | undefined;
let page: Page;
let pageErrors: string[] = [];

const seriousAxe = () => seriousAxeOn(page);

suite('the integrations page in Chromium', () => {
  beforeAll(async () => {
    await ensurePwaBuilt();
    h = await startTestHerald();
    expect((await h.api('POST', '/v1/rules', { name: 'Monitoring', match: { category: 'monitoring' }, targets: { roles: ['admin'] }, channels: ['in_app'] })).status).toBe(201);
    phone = await launchPhone(h.url);
    ({ page, pageErrors } = phone);
    page.on('dialog', (d) => { void d.accept(); });
    await signInAs(page, 'admin@example.com', 'correct horse battery');
  }, 180_000);

  afterAll(async () => {
    await phone?.close();
    await h?.stop();
  });

  it('adds an Alertmanager integration, shows the URL once, and lists what it received', async () => {
    await page.goto('/integrations');
    await page.getByRole('heading', { name: 'Integrations', level: 1 }).waitFor();
    await page.getByText('No integration yet: add one below.').waitFor();
    await page.getByLabel('Name', { exact: true }).first().fill('Prometheus prod');
    await page.getByLabel('Speaks').selectOption('alertmanager');
    await page.getByLabel('Category of its events').fill('monitoring');
    await page.getByRole('button', { name: 'Add tool' }).click();
    const url = (await page.getByTestId('endpoint-url').innerText()).trim();
    expect(url).toMatch(new RegExp(`^${h.url}/v1/integrations/alertmanager/[0-9a-f]{32}$`));
    expect(await page.getByText('send_resolved: true').count()).toBe(1);
    expect(await seriousAxe()).toEqual([]);
    mkdirSync(path.join(ROOT, 'test', 'artifacts'), { recursive: true });
    await page.screenshot({ path: path.join(ROOT, 'test', 'artifacts', 'integrations-390x844.png'), fullPage: true });

    // Alertmanager posts to the pasted URL.
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({
      version: '4', status: 'firing', receiver: 'herald', groupKey: '{}:{alertname="DiskFull"}', groupLabels: {}, commonLabels: {}, commonAnnotations: {},
      externalURL: 'http://am:9093', alerts: [{ status: 'firing', labels: { alertname: 'DiskFull', severity: 'critical' },
        annotations: { summary: 'Disk full on db1' }, startsAt: '2024-05-01T10:00:00Z', endsAt: '0001-01-01T00:00:00Z', generatorURL: 'http://prom/graph', fingerprint: 'f00d' }],
    }) });
    expect(res.status).toBe(202);
    await h.eventually(async () => (await h.sql`select 1 from events where dedup_key = 'f00d' and status = 'routed'`).length === 1);

    await page.getByRole('button', { name: 'Done' }).click();
    await page.reload();
    const row = page.getByRole('row', { name: /Prometheus prod/ });
    await row.getByText('just now').waitFor();
    await row.getByRole('button', { name: 'Events' }).click();
    const events = page.getByRole('table', { name: 'Last events received' });
    await events.getByText('Disk full on db1').waitFor();
    expect(await events.innerText()).toContain('routed');
    expect(await events.getByRole('link', { name: /Alert #\d+/ }).count()).toBe(1);

    // Rotate: asked first (accepted), a new URL shown; the old one is refused.
    await row.getByRole('button', { name: 'Rotate key' }).click();
    await page.getByTestId('endpoint-url').waitFor();
    const rotated = (await page.getByTestId('endpoint-url').innerText()).trim();
    expect(rotated).not.toBe(url);
    expect((await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(404);
  }, 60_000);

  it('adds a heartbeat: the ping URL is shown, a ping turns it Up, delete removes it', async () => {
    await page.goto('/integrations');
    await page.getByLabel('Name', { exact: true }).nth(1).fill('Nightly backup');
    await page.getByLabel('Expected every (minutes)').fill('1440');
    await page.getByLabel('Grace (minutes)').fill('30');
    await page.getByRole('button', { name: 'Add heartbeat' }).click();
    const pingUrl = (await page.getByTestId('endpoint-url').innerText()).trim();
    expect(pingUrl).toMatch(new RegExp(`^${h.url}/v1/ping/[0-9a-f]{32}$`));
    const row = page.getByRole('row', { name: /Nightly backup/ });
    await row.getByText('Waiting for first ping').waitFor();
    expect(await row.innerText()).toContain('24 h (30 min)');

    expect((await fetch(pingUrl)).status).toBe(200);
    await page.reload();
    await page.getByRole('row', { name: /Nightly backup/ }).getByText('Up', { exact: true }).waitFor();

    await page.getByRole('row', { name: /Nightly backup/ }).getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No heartbeat yet.').waitFor();
    expect((await fetch(pingUrl)).status).toBe(404);
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
