// What the PWA browser tests share: finding Debian's Chromium, and axe-core run inside the page.
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';

export const CHROMIUM = (process.env.HERALD_CHROMIUM ? [process.env.HERALD_CHROMIUM] : ['/usr/bin/chromium', '/usr/bin/chromium-browser']).find((p) => existsSync(p)) ?? null;

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** The serious and critical axe-core violations on the page as it is now. */
export async function seriousAxeOn(page: Page): Promise<Array<{ id: string; impact: string; nodes: string[] }>> {
  // Evaluated through DevTools rather than added as a <script>: the PWA's CSP (script-src 'self') blocks inline script.
  await page.evaluate(AXE_SOURCE);
  const found = await page.evaluate(async () => {
    const r = await (window as unknown as { axe: { run: (ctx: Document, o: object) => Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> }> } })
      .axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  });
  return found.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
