// The System page in a real headless Chromium at 390×844: an admin sees uptime from the kept readiness
// checks, the running process and the history of checks; a not-ready check shows what failed.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { browserSuite, launchPhone, seriousAxeOn, signInAs, type Phone } from './browser-kit';
import { startTestHerald, type TestHerald } from './harness';
import { ensurePwaBuilt } from './pwa-build';

const suite = browserSuite('pwa.system.browser');

let h: TestHerald;
let phone: Phone | undefined;
let page: Page;
let pageErrors: string[] = [];

suite('the System page in Chromium', () => {
  beforeAll(async () => {
    await ensurePwaBuilt();
    h = await startTestHerald({ HERALD_WATCH_INTERVAL_S: '1' });
    await h.watcher.tick();
    // A failed check kept from earlier (the database was unreachable then).
    await h.sql`insert into readiness_checks (process_id, at, ready, checks) values (${h.watcher.process.id}, now() - interval '2 hours', false,
      ${h.sql.json({ database: { status: 'error', detail: 'connection refused' }, worker: { status: 'ok' }, channels: {} })})`;
    phone = await launchPhone(h.url);
    ({ page, pageErrors } = phone);
    await signInAs(page, 'admin@example.com', 'correct horse battery');
  }, 180_000);

  afterAll(async () => {
    await phone?.close();
    await h?.stop();
  });

  it('shows uptime, the processes and the history of checks', async () => {
    await page.goto('/system');
    await page.getByRole('heading', { name: 'System', level: 1 }).waitFor();
    const uptime = await page.getByTestId('uptime').innerText();
    expect(uptime).toMatch(/Last 24 hours: \d+\.\d\d %/);
    expect(uptime).toMatch(/Job queue: \d+ waiting/);
    await page.getByRole('table', { name: 'Processes' }).getByText('api + worker').waitFor();
    expect(await page.getByRole('table', { name: 'Recent readiness checks' }).getByText('ready', { exact: true }).count()).toBeGreaterThan(0);
    await page.getByRole('cell', { name: 'not ready: database' }).waitFor();
    await page.getByRole('listitem').filter({ hasText: /: database$/ }).waitFor();
    expect(await seriousAxeOn(page)).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
