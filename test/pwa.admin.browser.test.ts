// The PWA's admin pages for webhooks and users in a real headless Chromium at 390×844 (issue 14, "The PWA admin is
// complete"): a webhook is created with its secret shown once, sent a test that the receiver gets signed with that
// secret, retried from the delivery log (same webhook-id) and disabled; users are imported from a file with their
// progress and failed rows shown, the errors file downloaded and its corrected version imported, a user edited and
// deactivated, and the list exported. axe finds nothing serious on either page.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { parse as parseCsv } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { browserSuite, launchPhone, seriousAxeOn, signInAs, type Phone } from './browser-kit';
import { startReceiver, startTestHerald, type Receiver, type TestHerald } from './harness';
import { ensurePwaBuilt } from './pwa-build';

const suite = browserSuite('pwa.admin.browser');

let h: TestHerald;
let phone: Phone | undefined;
let page: Page;
let pageErrors: string[] = [];
let receiver: Receiver;

suite('the webhooks and users admin pages in Chromium', () => {
  beforeAll(async () => {
    await ensurePwaBuilt();
    h = await startTestHerald();
    receiver = await startReceiver();
    phone = await launchPhone(h.url);
    ({ page, pageErrors } = phone);
    page.on('dialog', (d) => d.accept());
    await signInAs(page, 'admin@example.com', 'correct horse battery');
  }, 180_000);

  afterAll(async () => {
    await phone?.close();
    await receiver?.close();
    await h?.stop();
  });

  it('webhooks: create (secret once), send a test, see it delivered and signed, retry it, disable', async () => {
    await page.goto('/webhooks');
    await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
    await page.getByText('No webhook yet.').waitFor();
    await page.getByLabel('URL').fill(receiver.url);
    await page.getByLabel('Description').fill('Ops receiver');
    await page.getByRole('checkbox', { name: 'alert.triggered' }).check();
    await page.getByRole('button', { name: 'Add webhook' }).click();
    const secret = (await page.getByTestId('webhook-secret').innerText()).trim();
    expect(secret).toMatch(/^whsec_/);
    expect(await seriousAxeOn(page)).toEqual([]);
    const [row] = await h.sql`select id, url, events, enabled from webhooks`;
    expect(row).toMatchObject({ url: receiver.url, events: ['alert.triggered'], enabled: true });
    await page.getByRole('button', { name: 'Done' }).click();
    expect(await page.getByTestId('webhook-secret').count()).toBe(0); // shown once

    await page.getByRole('button', { name: 'Send test' }).click();
    await page.getByRole('region', { name: 'Delivery log' }).getByText('delivered').waitFor({ timeout: 15_000 });
    expect(receiver.hits).toHaveLength(1);
    const hit = receiver.hits[0];
    const verified = new Webhook(secret).verify(hit.body, hit.headers) as { type: string };
    expect(verified.type).toBe('webhook.test');
    expect(await seriousAxeOn(page)).toEqual([]);

    await page.getByRole('button', { name: /^Retry delivery / }).click();
    await page.getByText(/goes out again now/).waitFor();
    await h.eventually(async () => receiver.hits.length === 2, 15_000);
    expect(receiver.hits[1].headers['webhook-id']).toBe(hit.headers['webhook-id']);

    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByText(`${receiver.url} is disabled.`).waitFor();
    await page.getByRole('button', { name: 'Enable' }).waitFor();
    expect((await h.sql`select enabled from webhooks where id = ${row.id}`)[0].enabled).toBe(false);
    expect(pageErrors).toEqual([]);
  }, 90_000);

  it('users: import with progress and failed rows, download errors.csv, import the corrected rows, edit, deactivate, export', async () => {
    const header = ['name', 'email', 'phone', 'roles', 'timezone'];
    const rows = Array.from({ length: 40 }, (_, i) => [`Mechanic ${i}`, `mech${i}@example.com`, '', 'workshop', 'Europe/Berlin']);
    rows[6] = ['Bad Role', 'badrole@example.com', '', 'astronaut', 'UTC'];
    rows[20] = ['Bad Zone', 'badzone@example.com', '', 'workshop', 'Mars/Olympus'];
    await page.goto('/users');
    await page.getByRole('heading', { name: 'Users', exact: true }).waitFor();
    await page.getByLabel('File to import (CSV or JSON)').setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(stringify([header, ...rows])) });
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByText('Done: 40 rows, 38 imported, 2 failed, 0 already imported').first().waitFor({ timeout: 30_000 });
    expect(await page.getByRole('progressbar').first().getAttribute('value')).toBe('1');
    // The list shows the imported people without a reload.
    await page.getByRole('rowheader', { name: 'Mechanic 39' }).waitFor();
    expect(await seriousAxeOn(page)).toEqual([]);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download the failed rows (errors.csv)' }).click()]);
    const errors = parseCsv(readFileSync((await download.path())!, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(errors.map((e) => [e.row, e.email, e.error.split(':')[0]])).toEqual([['7', 'badrole@example.com', 'roles'], ['21', 'badzone@example.com', 'timezone']]);
    const fixed = errors.map((e) => ({ ...e, roles: 'workshop', timezone: 'UTC' }));
    await page.getByLabel('Corrected errors file').setInputFiles({ name: 'fixed.csv', mimeType: 'text/csv', buffer: Buffer.from(stringify(fixed, { header: true })) });
    await page.getByRole('button', { name: 'Import corrected rows' }).click();
    await page.getByText('Done: 2 rows, 2 imported, 0 failed, 0 already imported').first().waitFor({ timeout: 30_000 });
    const imported = await h.sql`select email from users where email like 'mech%' or email like 'bad%'`;
    expect(imported).toHaveLength(40);
    await page.getByRole('region', { name: 'Recent users imports' }).getByText('(retry of').waitFor();

    // Edit one person.
    await page.getByRole('button', { name: 'Edit Mechanic 3', exact: true }).click();
    const form = page.getByRole('form', { name: 'Edit Mechanic 3', exact: true });
    await form.getByLabel('Name').fill('Head Mechanic');
    await form.getByLabel('Phone').fill('+49 30 901820');
    await form.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Head Mechanic was saved.').waitFor();
    expect((await h.sql`select name, phone from users where email = 'mech3@example.com'`)[0]).toEqual({ name: 'Head Mechanic', phone: '+4930901820' });
    expect(await seriousAxeOn(page)).toEqual([]);

    // Deactivate another.
    await page.getByRole('button', { name: 'Deactivate Mechanic 4', exact: true }).click();
    await page.getByText('Mechanic 4 was deactivated.').waitFor();
    expect(await page.getByRole('rowheader', { name: 'Mechanic 4', exact: true }).count()).toBe(0);
    expect((await h.sql`select deleted_at from users where email = 'mech4@example.com'`)[0].deleted_at).not.toBeNull();

    // Export: the live users, in columns an import reads.
    const [exp] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
    const exported = parseCsv(readFileSync((await exp.path())!, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(exported.find((u) => u.email === 'mech3@example.com')).toMatchObject({ name: 'Head Mechanic', roles: 'workshop', phone: '+4930901820' });
    expect(exported.some((u) => u.email === 'mech4@example.com')).toBe(false);
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
