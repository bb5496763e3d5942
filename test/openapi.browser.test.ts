// /docs in a real headless Chromium: Scalar renders the API reference from /openapi.json under the PWA's
// content security policy, without a single CSP violation or page error (no inline script, no CDN).
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { browserSuite, launchPhone, type Phone } from './browser-kit';
import { startTestHerald, type TestHerald } from './harness';

const suite = browserSuite('openapi.browser');

let h: TestHerald;
let phone: Phone | undefined;
let page: Page;
const console: string[] = [];

suite('the API documentation in Chromium', () => {
  beforeAll(async () => {
    h = await startTestHerald();
    phone = await launchPhone(h.url);
    page = phone.page;
    page.on('console', (m) => { if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) console.push(m.text()); });
    page.on('response', (r) => { if (r.status() >= 400) console.push(`${r.status()} ${r.url()}`); });
  }, 180_000);
  afterAll(async () => { await phone?.close(); await h?.stop(); });

  it('renders the document from /openapi.json', async () => {
    await page.goto('/docs');
    await page.getByText('Herald API').first().waitFor({ timeout: 30_000 });
    await page.getByText('Liveness: the process answers').first().waitFor({ timeout: 30_000 });
    // The sidebar lists the document's tags (sections render lazily as one scrolls).
    for (const tag of ['Events', 'Alerts', 'Rules', 'Schedules']) expect(await page.getByText(tag, { exact: true }).count(), tag).toBeGreaterThan(0);
    await page.waitForTimeout(2000); // any late fetch would be refused by the CSP and logged
    expect(console.filter((l) => /Content Security Policy|^[45]\d\d /i.test(l))).toEqual([]);
    expect(phone!.pageErrors).toEqual([]);
  }, 90_000);
});
