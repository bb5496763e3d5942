// Safe actions and working together in a real headless Chromium at 390×844 (issue 16, "Must fix first" 2
// and "Work together"): after Acknowledge the card stays where it is with Undo, so the next card's button
// does not move under the finger; Undo puts the alert back to triggered (both timeline rows kept); the card
// settles after a few seconds; "Acknowledge all" asks first, naming the count; on the alert page a note and
// an assignment appear on the timeline with who and when, and the queue card says "Wes is on it".
// Chromium is found as in pwa.browser.test.ts (/usr/bin/chromium or HERALD_CHROMIUM; skipped without it
// unless HERALD_REQUIRE_BROWSER=1).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { browserSuite, launchPhone, seriousAxeOn, signInAs, type Phone } from './browser-kit';
import { startTestHerald, type TestHerald } from './harness';
import { ensurePwaBuilt, ROOT } from './pwa-build';

const suite = browserSuite('pwa.undo.browser');
const ARTIFACTS = path.join(ROOT, 'test', 'artifacts');

let h: TestHerald;
let phone: Phone | undefined;
let page: Page;
let pageErrors: string[] = [];
let wes = 0;

const rule = {
  name: 'Overdue invoices', position: 10,
  match: { category: 'finance', type: 'invoice_overdue' },
  targets: { roles: ['admin'] }, channels: ['in_app'], priority: 'high',
  escalation: { steps: [{ after_minutes: 60, roles: ['ceo'] }], repeat: 0 },
};

async function postEvent(title: string, id: string): Promise<number> {
  const ev = await h.api('POST', '/v1/events', { category: 'finance', type: 'invoice_overdue', title, severity: 'error', entity: { kind: 'invoice', id } });
  expect(ev.status).toBe(202);
  return (await h.eventually(async () => {
    const e = await h.api('GET', `/v1/events/${ev.body.event_id}`);
    return e.body.status === 'routed' && e.body;
  })).alert_id;
}

const card = (title: string): Locator => page.getByRole('article', { name: title });
const serverAlert = async (id: number) => (await h.api('GET', `/v1/alerts/${id}`)).body;
const cardTitles = async () => page.locator('ol.cards article h2').allInnerTexts();

const seriousAxe = () => seriousAxeOn(page);

suite('undo, notes and assignment in the PWA (Chromium, 390×844)', () => {
  beforeAll(async () => {
    await ensurePwaBuilt();
    h = await startTestHerald();
    expect((await h.api('POST', '/v1/rules', rule)).status).toBe(201);
    await h.api('POST', '/v1/users', { name: 'Carl CEO', email: 'carl@example.com', roles: ['ceo'] });
    wes = (await h.api('POST', '/v1/users', { name: 'Wes', email: 'wes@example.com', roles: ['workshop'] })).body.id;
    phone = await launchPhone(h.url);
    ({ page, pageErrors } = phone);
    await postEvent('Invoice 101 overdue', '101');
    await postEvent('Invoice 102 overdue', '102');
    await signInAs(page, 'admin@example.com', 'correct horse battery');
  }, 120_000);

  afterAll(async () => {
    await phone?.close();
    await h?.stop();
  });

  it('Acknowledge keeps the card in place with Undo; the next card\'s button does not move; Undo makes it triggered again', async () => {
    await card('Invoice 102 overdue').getByRole('button', { name: 'Acknowledge' }).waitFor();
    expect(await cardTitles()).toEqual(['Invoice 101 overdue', 'Invoice 102 overdue']);
    const first = card('Invoice 101 overdue');
    const id = Number(await first.getAttribute('data-alert-id'));
    const nextButton = card('Invoice 102 overdue').getByRole('button', { name: 'Acknowledge' });
    const before = (await nextButton.boundingBox())!;

    const t0 = Date.now();
    await first.getByRole('button', { name: 'Acknowledge' }).click();
    await first.getByText('Acknowledged by Admin').waitFor();
    const undo = first.getByRole('button', { name: 'Undo' });
    await undo.waitFor();
    expect((await serverAlert(id)).status).toBe('acknowledged');
    // The next card's Acknowledge stays exactly under the same point while the first card is held. The hold
    // lasts HOLD_MS (5 s) from the click, so sampling stops at 2.5 s and Undo is clicked right after: a slow
    // machine gets fewer samples, never a vanished Undo. (The held card's accessibility is checked in the
    // next test, where nothing races the hold.)
    const boxes: Array<{ x: number; y: number }> = [];
    do {
      const b = (await nextButton.boundingBox())!;
      boxes.push({ x: b.x, y: b.y });
      await page.waitForTimeout(200);
    } while (Date.now() - t0 < 2500);
    expect(boxes.length).toBeGreaterThanOrEqual(2);
    for (const b of boxes) expect(b).toEqual({ x: before.x, y: before.y });
    expect(await cardTitles()).toEqual(['Invoice 101 overdue', 'Invoice 102 overdue']);

    await undo.click();
    await first.getByRole('button', { name: 'Acknowledge' }).waitFor();
    const a = await serverAlert(id);
    expect(a.status).toBe('triggered');
    expect(a.acknowledged_by).toBeNull();
    expect(a.escalation.next_at).not.toBeNull();
    const tail = a.timeline.filter((e: { kind: string }) => ['acknowledged', 'undone'].includes(e.kind)).map((e: { kind: string; actor: { name: string } }) => [e.kind, e.actor.name]);
    expect(tail).toEqual([['acknowledged', 'Admin'], ['undone', 'Admin']]);
    expect(await cardTitles()).toEqual(['Invoice 101 overdue', 'Invoice 102 overdue']);
  }, 60_000);

  it('after a few seconds an acknowledged card settles below the ones that still need someone', async () => {
    const first = card('Invoice 101 overdue');
    await first.getByRole('button', { name: 'Acknowledge' }).click();
    await first.getByRole('button', { name: 'Undo' }).waitFor();
    expect(await cardTitles()).toEqual(['Invoice 101 overdue', 'Invoice 102 overdue']);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'queue-undo-390.png') });
    expect(await seriousAxe()).toEqual([]);
    await first.getByRole('button', { name: 'Undo' }).waitFor({ state: 'detached', timeout: 8000 });
    await h.eventually(async () => (await cardTitles())[0] === 'Invoice 102 overdue', 3000);
    await first.getByText('Acknowledged by Admin').waitFor();
  }, 30_000);

  it('"Acknowledge all" asks first, naming how many', async () => {
    const ids = [await postEvent('Invoice 201 overdue', '201'), await postEvent('Invoice 202 overdue', '202')];
    await page.goto('/notifications?category=finance');
    await page.getByRole('button', { name: 'Acknowledge all Finance' }).click();
    // Invoice 102, 201 and 202 are triggered (101 was acknowledged above).
    const dialog = page.getByRole('alertdialog', { name: 'Acknowledge 3 alerts?' });
    await dialog.waitFor();
    expect((await serverAlert(ids[0])).status).toBe('triggered');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect((await serverAlert(ids[0])).status).toBe('triggered');
    await page.getByRole('button', { name: 'Acknowledge all Finance' }).click();
    await page.getByRole('button', { name: 'Acknowledge 3' }).click();
    await page.locator('.bulk p[role="status"]', { hasText: 'Acknowledged 3 Finance alerts.' }).waitFor();
    for (const id of ids) expect((await serverAlert(id)).status).toBe('acknowledged');
  }, 30_000);

  it('on the alert page a note and an assignment show on the timeline with who; the queue card says who is on it', async () => {
    const id = await postEvent('Invoice 301 overdue', '301');
    await page.goto(`/alerts/${id}`);
    await page.getByRole('heading', { name: 'Invoice 301 overdue' }).waitFor();
    await page.getByLabel('Add a note').fill('Called the customer: paying Friday');
    await page.getByRole('button', { name: 'Add note' }).click();
    await page.getByRole('status').filter({ hasText: 'Note added' }).waitFor();
    const timeline = page.locator('ol.timeline');
    await timeline.getByText('Called the customer: paying Friday').waitFor();
    await page.getByLabel('Assigned to').selectOption({ label: 'Wes' });
    await timeline.locator('li', { hasText: 'Assigned to Wes' }).getByText('by Admin').waitFor();
    await page.getByText('Wes is on it').waitFor();
    const a = await serverAlert(id);
    expect(a.assigned_to).toEqual({ id: wes, name: 'Wes' });
    expect(a.timeline.filter((e: { kind: string }) => e.kind === 'noted' || e.kind === 'assigned').map((e: { kind: string; actor: { name: string } }) => [e.kind, e.actor.name]))
      .toEqual([['noted', 'Admin'], ['assigned', 'Admin']]);
    await page.screenshot({ path: path.join(ARTIFACTS, 'alert-detail-together-390.png'), fullPage: true });
    expect(await seriousAxe()).toEqual([]);

    await page.getByRole('link', { name: '← My queue' }).click();
    await card('Invoice 301 overdue').getByText('Wes is on it').waitFor();
    expect(pageErrors).toEqual([]);
  }, 30_000);
});
