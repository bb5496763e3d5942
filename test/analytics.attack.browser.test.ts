// A month-sized range of 12,000 alerts (more than HERALD_ANALYTICS_EXACT_ALERTS: answered from the rollups) whose
// titles hold CR, LF, commas and quotes: hostile query values on the analytics and export endpoints, and the
// Analytics page on a phone with five-digit figures (its tables scroll inside themselves, never the page).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, startTestHerald, type TestHerald } from './harness';
import { browserSuite, launchPhone, seriousAxeOn, signInAs } from './browser-kit';
import { rollupAnalyticsAll } from '../db/analytics/rollup';

let h: TestHerald;
beforeAll(async () => {
  h = await startTestHerald();
  await h.sql`
    insert into alerts (org_id, status, priority, severity, category, type, title, dedup_key, rule_ids, route, created_at, first_acknowledged_at, resolved_at)
    select 1, 'resolved', 'normal', 'info', 'atk', 'x', E'Title ' || g || E'\\r\\nline, "q"', 'k-' || (g % 300), '{}', '{"rules": [], "escalation": {"steps": []}}',
      now() - g * interval '30 seconds', now() - g * interval '30 seconds' + interval '40 seconds', now() - g * interval '30 seconds' + interval '900 seconds'
    from generate_series(1, 12000) g`;
  // The hours stored, as the worker's job would have them (the rollups answer once most of a range's hours are).
  await rollupAnalyticsAll(h.sql);
}, 120_000);
afterAll(async () => { await h?.stop(); });

const nasty = ['%00', 'a%00b', '%ED%A0%80', '%F0%9F', '1e400', '-1e400', '99999999999999999999999', 'x'.repeat(5000), '%7B%22a%22%3A'.repeat(200), '-0', 'NaN', '2024-02-30'];
const get = async (path: string) => {
  const res = await fetch(h.url + path, { headers: { authorization: `Bearer ${ADMIN_KEY}` }, signal: AbortSignal.timeout(60_000) });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, type: res.headers.get('content-type') ?? '', body };
};

describe('attack: the analytics and export endpoints', () => {
  it('hostile query values are a 4xx problem or an answer, never a 5xx; good requests beside them answer', async () => {
    const paths: string[] = [];
    for (const v of nasty) {
      for (const k of ['from', 'to', 'tz', 'bucket', 'category', 'priority', 'rule_id', 'role', 'status', 'format']) {
        paths.push(`/v1/analytics/alerts?${k}=${v}`, `/v1/alerts/export?${k}=${v}`);
      }
      paths.push(`/v1/audit/export?format=csv&actor=${v}`, `/v1/audit/export?format=csv&from=${v}`, `/v1/users/export?format=${v}`, `/v1/imports/${v}/errors.csv`);
    }
    const bad: string[] = [];
    const statuses = new Map<number, number>();
    for (let i = 0; i < paths.length; i += 8) {
      const batch = paths.slice(i, i + 8);
      const [res, good] = await Promise.all([Promise.all(batch.map(get)), get('/v1/analytics/alerts?category=atk&bucket=hour&from=' + new Date(Date.now() - 86400_000).toISOString())]);
      res.forEach((r, j) => {
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.status >= 500) bad.push(`${batch[j].slice(0, 120)} → ${r.status} ${r.body.toString().slice(0, 200)}`);
        if (r.status >= 400 && r.status !== 431 && !r.type.includes('problem+json')) bad.push(`not a problem: ${batch[j].slice(0, 120)} → ${r.status}`);
      });
      if (good.status !== 200) bad.push(`good → ${good.status}`);
    }
    expect(statuses.get(400) ?? 0).toBeGreaterThan(200);
    expect(bad).toEqual([]);
    // The big ones answer: from rollups (12,000 > 5,000) and the exports with CR/LF/quotes in titles.
    const a = await get('/v1/analytics/alerts?category=atk&bucket=hour&from=' + new Date(Date.now() - 5 * 86400_000).toISOString());
    expect(JSON.parse(a.body.toString()).approximate).toBe(true);
    const csv = await get('/v1/alerts/export?format=csv&category=atk');
    expect(csv.status).toBe(200);
    expect(csv.body.toString().split('"Title 1\r\nline, ""q"""').length).toBe(2);
  }, 300_000);
});

browserSuite('analytics attack')('the Analytics page on a phone, approximate and wide', () => {
  it('the Analytics page at 390 px on an approximate answer: ≈ on the times, no sideways scroll, no serious axe issue', async () => {
    const phone = await launchPhone(h.url);
    try {
      const { page } = phone;
      await signInAs(page, 'admin@example.com', 'correct horse battery');
      await page.goto('/analytics');
      await page.getByRole('heading', { name: 'Analytics' }).waitFor();
      await page.getByText('Times (≈) are within 1 %.').waitFor({ timeout: 15_000 });
      const tiles = page.getByRole('list', { name: 'Response figures' });
      expect(await tiles.getByRole('listitem').filter({ hasText: 'MTTA' }).innerText()).toContain('≈');
      // The channel table is wider than the screen here: it scrolls inside its region, the page does not (its
      // screen-reader-only header text, absolutely positioned, once widened the page to 443 px).
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      expect(await seriousAxeOn(page)).toEqual([]);
      expect(phone.pageErrors).toEqual([]);
    } finally { await phone.close(); }
  }, 120_000);
});
