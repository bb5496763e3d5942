// What the PWA browser tests share: finding Debian's Chromium (skipping without it unless
// HERALD_REQUIRE_BROWSER=1), a phone-sized Chromium on a fresh profile, signing in, and axe-core run inside the page.
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = (process.env.HERALD_CHROMIUM ? [process.env.HERALD_CHROMIUM] : ['/usr/bin/chromium', '/usr/bin/chromium-browser']).find((p) => existsSync(p)) ?? null;
const REQUIRED = process.env.HERALD_REQUIRE_BROWSER === '1';

/** `describe` when Chromium is there (or required: then launchPhone fails), else `describe.skip` with a warning naming the file. */
export function browserSuite(tag: string): typeof describe | typeof describe.skip {
  if (!CHROMIUM && !REQUIRED) console.warn(`[${tag}] SKIPPED: Chromium not found (install Debian's \`chromium\` or set HERALD_CHROMIUM)`);
  return CHROMIUM || REQUIRED ? describe : describe.skip;
}

export interface Phone {
  context: BrowserContext;
  page: Page;
  /** Uncaught errors of the page, as stacks. */
  pageErrors: string[];
  /** Closes the browser and removes its profile. */
  close: () => Promise<void>;
}

/** Chromium at 390×844 with touch on a fresh persistent profile; nothing leaves 127.0.0.1 (every host name fails to resolve). */
export async function launchPhone(baseURL: string, opts: { timezoneId?: string } = {}): Promise<Phone> {
  if (!CHROMIUM) throw new Error('HERALD_REQUIRE_BROWSER=1 but Chromium was not found (apt-get install chromium, or set HERALD_CHROMIUM)');
  const profile = mkdtempSync(path.join(tmpdir(), 'herald-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, baseURL, viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, hasTouch: true, locale: 'en-US',
    ...(opts.timezoneId ? { timezoneId: opts.timezoneId } : {}),
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-default-browser-check', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
  }).catch((e) => { rmSync(profile, { recursive: true, force: true }); throw e; });
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.stack ?? e.message));
  return {
    context, page, pageErrors,
    close: async () => {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Signs in through the login page (clearing any session first) and waits for the queue. */
export async function signInAs(page: Page, email: string, password: string): Promise<void> {
  await page.context().clearCookies();
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'My queue' }).waitFor();
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** The serious and critical axe-core violations on the page as it is now. */
export async function seriousAxeOn(page: Page): Promise<Array<{ id: string; impact: string; help: string; nodes: string[] }>> {
  // Evaluated through DevTools rather than added as a <script>: the PWA's CSP (script-src 'self') blocks inline script.
  await page.evaluate(AXE_SOURCE);
  const found = await page.evaluate(async () => {
    const r = await (window as unknown as { axe: { run: (ctx: Document, o: object) => Promise<{ violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: string[] }> }> }> } })
      .axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  });
  return found.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** On a phone the bottom tab bar holds Queue, Notifications, Dashboards and More: opens the More page. */
export async function openMore(page: Page): Promise<void> {
  await page.getByRole('navigation', { name: 'Tabs' }).getByRole('link', { name: 'More' }).click();
  await page.getByRole('heading', { name: 'More', level: 1 }).waitFor();
}

/** Every other page is reached from the More page, as a person on a phone does. */
export async function openFromMore(page: Page, label: string): Promise<void> {
  await openMore(page);
  await page.getByRole('main').getByRole('link', { name: label, exact: true }).click();
}
