// Stories about looking back: how fast the team acknowledged and resolved a few January days in Berlin,
// which channels people answered on, who carried the load, and taking every alert away as CSV or XLSX.
// Alerts are created and acted on through the real API, PWA session, email link and escalation timer;
// only their timestamps are then moved to known instants in SQL, so every figure below is computed by hand.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseCsv } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { startTestHerald, type TestHerald } from './harness';
import { signIn, type PwaSession } from './pwa-session';
import { signEmailAction } from '../bot/email/links';
import { EXPORT_COLUMNS } from '../db/analytics/export';

let h: TestHerald;
let ann: PwaSession;
let carl: PwaSession;
let annId: number;
let carlId: number;
let salesRule: number;
let financeRule: number;
let opsKey: string;
const ids: Record<string, number> = {};

async function postEvent(body: Record<string, unknown>): Promise<number> {
  const ev = await h.api('POST', '/v1/events', { severity: 'error', ...body });
  expect(ev.status).toBe(202);
  return (await h.eventually(async () => {
    const e = await h.api('GET', `/v1/events/${ev.body.event_id}`);
    return e.body.alert_id && ['routed', 'deduplicated'].includes(e.body.status) && e.body;
  })).alert_id;
}

const emailLink = async (alertId: number, userId: number, action: 'ack' | 'resolve') => {
  const r = await fetch(`${h.url}/e/${signEmailAction(h.ctx.key, { alertId, userId, action })}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
  expect(r.status).toBe(200);
};

/** Moves an alert to known instants: created at `at`, first acknowledged `ack` s and resolved `res` s later. */
async function setTimes(id: number, at: string, ack: number | null, res: number | null) {
  await h.sql`
    update alerts set created_at = ${at}::timestamptz,
      first_acknowledged_at = case when ${ack}::int is null then null else ${at}::timestamptz + make_interval(secs => ${ack}::int) end,
      acknowledged_at = case when acknowledged_at is null then null else ${at}::timestamptz + make_interval(secs => ${ack}::int) end,
      resolved_at = case when ${res}::int is null then null else ${at}::timestamptz + make_interval(secs => ${res}::int) end
    where id = ${id}`;
}

const analytics = async (query: string, o: { key?: string | null } = {}) => h.api('GET', `/v1/analytics/alerts?${query}`, undefined, o);
const BERLIN_JAN = 'from=2026-01-12&to=2026-01-14&tz=Europe/Berlin';

beforeAll(async () => {
  h = await startTestHerald();
  annId = (await h.api('POST', '/v1/users', { name: 'Ann Sales', email: 'ann@example.com', roles: ['sales'], password: 'ann password 1' })).body.id;
  carlId = (await h.api('POST', '/v1/users', { name: 'Carl Books', email: 'carl@example.com', roles: ['accounting'], password: 'carl password 1' })).body.id;
  await h.api('POST', '/v1/users', { name: 'Cleo Chief', email: 'cleo@example.com', roles: ['ceo'] });
  salesRule = (await h.api('POST', '/v1/rules', {
    name: 'Sales leads', match: { category: 'sales' }, targets: { roles: ['sales'] }, channels: ['in_app'], priority: 'high',
  })).body.id;
  financeRule = (await h.api('POST', '/v1/rules', {
    name: 'Finance', match: { category: 'finance' }, targets: { roles: ['accounting'] }, channels: ['in_app'], priority: 'critical',
    escalation: { steps: [{ after_minutes: 10, roles: ['ceo'] }] },
  })).body.id;
  opsKey = (await h.api('POST', '/v1/api-keys', { name: 'Ops console', scopes: ['alerts:write', 'alerts:read'] })).body.key;
  ann = await signIn(h, 'ann@example.com', 'ann password 1');
  carl = await signIn(h, 'carl@example.com', 'carl password 1');

  // Monday 12 January 2026 to Wednesday 14 January, Berlin (+01:00).
  ids.s1 = await postEvent({ category: 'sales', type: 'lead', title: 'Lead from Acme', dedup_key: 'deal-1' });
  expect((await ann.call('POST', `/v1/alerts/${ids.s1}/acknowledge`)).status).toBe(200);
  expect((await ann.call('POST', `/v1/alerts/${ids.s1}/resolve`)).status).toBe(200);

  ids.s2 = await postEvent({ category: 'sales', type: 'lead', title: 'Lead from Bolt', dedup_key: 'deal-2' });
  expect((await h.api('POST', `/v1/alerts/${ids.s2}/acknowledge`, undefined, { key: opsKey })).status).toBe(200);

  ids.s3 = await postEvent({ category: 'sales', type: 'lead', title: 'Lead from Core', dedup_key: 'deal-3' });
  await emailLink(ids.s3, annId, 'ack');
  await emailLink(ids.s3, annId, 'resolve');

  ids.f1 = await postEvent({ category: 'finance', type: 'payment_failed', title: 'Payment 77 failed', dedup_key: 'pay-77' });
  await h.fastForward(ids.f1);
  await h.eventually(async () => (await h.api('GET', `/v1/alerts/${ids.f1}`)).body.escalation.level === 1);
  expect((await carl.call('POST', `/v1/alerts/${ids.f1}/acknowledge`)).status).toBe(200);
  expect((await h.api('POST', `/v1/alerts/${ids.f1}/resolve`, undefined, { key: opsKey })).status).toBe(200);

  ids.f2 = await postEvent({ category: 'finance', type: 'payment_failed', title: 'Payment 78 failed', dedup_key: 'pay-78' });

  // The same deal again after S1 was resolved: a new alert, which repeats once, is snoozed, and reopens.
  ids.s4 = await postEvent({ category: 'sales', type: 'lead', title: 'Lead from Acme again', dedup_key: 'deal-1' });
  expect(await postEvent({ category: 'sales', type: 'lead', title: 'Lead from Acme again', dedup_key: 'deal-1' })).toBe(ids.s4);
  expect((await ann.call('POST', `/v1/alerts/${ids.s4}/snooze`, { minutes: 30 })).status).toBe(200);
  await h.sql`update alerts set snoozed_until = now() - interval '1 second' where id = ${ids.s4}`;
  await h.sql`update graphile_worker._private_jobs set run_at = now() where key = ${`alert:${ids.s4}:escalation`}`;
  await h.eventually(async () => (await h.api('GET', `/v1/alerts/${ids.s4}`)).body.status === 'triggered');
  // The in-app messages are written with the alert; the ceo's with the escalation.
  await h.eventually(async () => (await h.sql`select count(*)::int as n from messages where alert_id = ${ids.f1} and level = 1`)[0].n === 1);

  await setTimes(ids.s1, '2026-01-12T08:00:00+01:00', 60, 600);
  await setTimes(ids.s2, '2026-01-13T00:30:00+01:00', 120, null); // 12 January in UTC, 13 January in Berlin
  await setTimes(ids.s3, '2026-01-13T10:00:00+01:00', 300, 900);
  await setTimes(ids.f1, '2026-01-13T12:00:00+01:00', 1800, 3600);
  await setTimes(ids.f2, '2026-01-14T09:00:00+01:00', null, null);
  await setTimes(ids.s4, '2026-01-14T10:00:00+01:00', 240, null);
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

describe('the analytics of three January days in Berlin', () => {
  it('totals: counts, rates, and MTTA / MTTR percentiles computed by hand', async () => {
    const r = await analytics(BERLIN_JAN);
    expect(r.status).toBe(200);
    expect(r.body.range).toEqual({ from: '2026-01-11T23:00:00.000Z', to: '2026-01-14T23:00:00.000Z', bucket: 'day', tz: 'Europe/Berlin' });
    // Acknowledged: S1, S2, S3, F1, and S4 whose snooze ended (it was acknowledged once, and stays counted).
    // TTA 60, 120, 240, 300, 1800 s: p50 240, p90 300 + 0.6 × 1500 = 1200, mean 2520 / 5 = 504.
    // TTR 600, 900, 3600 s: p50 900, p90 900 + 0.8 × 2700 = 3060, mean 5100 / 3 = 1700.
    expect(r.body.totals).toEqual({
      created: 6, acknowledged: 5, resolved: 3, escalated: 1, ack_rate: 5 / 6, escalation_rate: 1 / 6,
      mtta_s: { p50: 240, p90: 1200, mean: 504 }, mttr_s: { p50: 900, p90: 3060, mean: 1700 },
    });
  });

  it('series: one Berlin day per point, `t` with its +01:00 offset; an empty day has zeros and a null MTTA', async () => {
    const r = await analytics(BERLIN_JAN);
    expect(r.body.series).toEqual([
      { t: '2026-01-12T00:00:00+01:00', created: 1, acknowledged: 1, resolved: 1, escalated: 0, mtta_p50_s: 60 },
      { t: '2026-01-13T00:00:00+01:00', created: 3, acknowledged: 3, resolved: 2, escalated: 1, mtta_p50_s: 300 },
      { t: '2026-01-14T00:00:00+01:00', created: 2, acknowledged: 1, resolved: 0, escalated: 0, mtta_p50_s: 240 },
    ]);
    // In UTC, S2 (00:30 Berlin) belongs to the 12th; the 15th has nothing.
    const utc = await analytics('from=2026-01-12T00:00:00Z&to=2026-01-16T00:00:00Z');
    expect(utc.body.series.map((p: { t: string; created: number; mtta_p50_s: number | null }) => [p.t, p.created, p.mtta_p50_s])).toEqual([
      ['2026-01-12T00:00:00+00:00', 2, 90], ['2026-01-13T00:00:00+00:00', 2, 1050], ['2026-01-14T00:00:00+00:00', 2, 240], ['2026-01-15T00:00:00+00:00', 0, null],
    ]);
    const hours = await analytics(`${BERLIN_JAN}&bucket=hour`);
    expect(hours.body.series).toHaveLength(72);
    expect(hours.body.series[8]).toEqual({ t: '2026-01-12T08:00:00+01:00', created: 1, acknowledged: 1, resolved: 1, escalated: 0, mtta_p50_s: 60 });
    const weeks = await analytics(`${BERLIN_JAN}&bucket=week`);
    expect(weeks.body.series).toEqual([{ t: '2026-01-12T00:00:00+01:00', created: 6, acknowledged: 5, resolved: 3, escalated: 1, mtta_p50_s: 240 }]);
  });

  it('a day across the change to summer time is a Berlin day of 23 hours', async () => {
    const id = await postEvent({ category: 'sales', type: 'lead', title: 'Lead on the night of the clock change', dedup_key: 'dst-1' });
    await setTimes(id, '2026-03-29T23:30:00+02:00', null, null);
    const days = await analytics('from=2026-03-28&to=2026-03-30&tz=Europe/Berlin');
    expect(days.body.series.map((p: { t: string; created: number }) => [p.t, p.created])).toEqual([
      ['2026-03-28T00:00:00+01:00', 0], ['2026-03-29T00:00:00+01:00', 1], ['2026-03-30T00:00:00+02:00', 0],
    ]);
    const hours = await analytics('from=2026-03-29&to=2026-03-29&tz=Europe/Berlin&bucket=hour');
    expect(hours.body.series).toHaveLength(23);
    expect(hours.body.series[2].t).toBe('2026-03-29T03:00:00+02:00');
    expect(hours.body.series[22]).toMatchObject({ t: '2026-03-29T23:00:00+02:00', created: 1 });
  });

  it('by category, by channel (with the actions taken from each), by person, and the noisiest rules and keys', async () => {
    const r = await analytics(BERLIN_JAN);
    expect(r.body.by_category).toEqual([
      { category: 'sales', created: 4, acknowledged: 4, resolved: 2, escalated: 0, mtta_p50_s: 180, mttr_p50_s: 750 },
      { category: 'finance', created: 2, acknowledged: 1, resolved: 1, escalated: 1, mtta_p50_s: 1800, mttr_p50_s: 3600 },
    ]);
    // In-app: one message per alert to its team (4 to Ann, 2 to Carl) and F1's escalation to Cleo.
    // Actions: PWA (in-app) S1 ack + resolve, F1 ack, S4 snooze; API key S2 ack, F1 resolve; email S3 ack + resolve.
    expect(r.body.by_channel).toEqual([
      { channel: 'in_app', sent: 7, delivered: 7, failed: 0, acted: 4 },
      { channel: 'api', sent: 0, delivered: 0, failed: 0, acted: 2 },
      { channel: 'email', sent: 0, delivered: 0, failed: 0, acted: 2 },
    ]);
    expect(r.body.by_person).toEqual([
      { user_id: annId, name: 'Ann Sales', acknowledged: 3, mtta_p50_s: 240 },
      { user_id: carlId, name: 'Carl Books', acknowledged: 1, mtta_p50_s: 1800 },
    ]);
    expect(r.body.noisiest.slice(0, 3)).toEqual([
      { rule_id: salesRule, name: 'Sales leads', alerts: 4 },
      { rule_id: financeRule, name: 'Finance', alerts: 2 },
      { dedup_key: 'deal-1', alerts: 2, occurrences: 3 },
    ]);
    // Then the keys with one alert each, by name.
    expect(r.body.noisiest.slice(3)).toEqual(['deal-2', 'deal-3', 'pay-77', 'pay-78'].map((k) => ({ dedup_key: k, alerts: 1, occurrences: 1 })));
  });

  it('filters by category, priority, rule and role (a role reached by escalation counts)', async () => {
    const created = async (q: string) => (await analytics(`${BERLIN_JAN}&${q}`)).body.totals.created;
    expect(await created('category=finance')).toBe(2);
    expect(await created('priority=high')).toBe(4);
    expect(await created('priority=high,critical')).toBe(6);
    expect(await created(`rule_id=${financeRule}`)).toBe(2);
    expect(await created('role=sales')).toBe(4);
    expect(await created('role=ceo')).toBe(2);
    expect(await created('role=workshop')).toBe(0);
    const fin = await analytics(`${BERLIN_JAN}&category=finance`);
    expect(fin.body.totals).toMatchObject({ acknowledged: 1, escalated: 1, ack_rate: 0.5, escalation_rate: 0.5, mtta_s: { p50: 1800, p90: 1800, mean: 1800 } });
  });

  it('drills down: the alert list takes the same range (from, to) and filters', async () => {
    const list = await h.api('GET', '/v1/alerts?from=2026-01-13T00:00:00%2B01:00&to=2026-01-14T00:00:00%2B01:00&category=sales');
    expect(list.status).toBe(200);
    expect(list.body.items.map((a: { id: number }) => a.id)).toEqual([ids.s3, ids.s2]);
    expect((await h.api('GET', '/v1/alerts?from=yesterday')).status).toBe(400);
  });

  it('an empty range has zero counts and null figures, never a made-up number', async () => {
    const r = await analytics('from=2025-06-01&to=2025-06-02&tz=Europe/Berlin');
    expect(r.status).toBe(200);
    expect(r.body.totals).toEqual({
      created: 0, acknowledged: 0, resolved: 0, escalated: 0, ack_rate: null, escalation_rate: null,
      mtta_s: { p50: null, p90: null, mean: null }, mttr_s: { p50: null, p90: null, mean: null },
    });
    expect(r.body.series).toEqual([
      { t: '2025-06-01T00:00:00+02:00', created: 0, acknowledged: 0, resolved: 0, escalated: 0, mtta_p50_s: null },
      { t: '2025-06-02T00:00:00+02:00', created: 0, acknowledged: 0, resolved: 0, escalated: 0, mtta_p50_s: null },
    ]);
    expect(r.body).toMatchObject({ by_category: [], by_channel: [], by_person: [], noisiest: [] });
  });

  it('defaults to the last 7 days by day in UTC, and any signed-in person may look', async () => {
    const r = await ann.call('GET', '/v1/analytics/alerts');
    expect(r.status).toBe(200);
    expect(r.body.range.tz).toBe('UTC');
    expect(r.body.range.bucket).toBe('day');
    expect(Date.parse(r.body.range.to) - Date.parse(r.body.range.from)).toBe(7 * 86400_000);
    expect(r.body.series.length).toBe(8); // a partial day at each end
    expect(r.body.totals.created).toBe(0); // everything above was moved to January and March
    const ingestOnly = (await h.api('POST', '/v1/api-keys', { name: 'Shop', scopes: ['events:write'] })).body.key;
    expect((await analytics('', { key: ingestOnly })).status).toBe(403);
    expect((await analytics('', { key: null })).status).toBe(401);
  });

  it('refuses bad input with a problem naming the field', async () => {
    const bad: Array<[string, string]> = [
      ['tz=Mars/Olympus_Mons', 'tz'],
      ['from=2026-01-14&to=2026-01-12', 'from'],
      ['from=2024-01-01&to=2026-01-01&bucket=hour', 'bucket'],
      ['bucket=month', 'bucket'],
      ['from=yesterday', 'from'],
      ['from=2026-02-30', 'from'],
      ['from=0000-01-01T00:00:00Z&to=0000-01-02T00:00:00Z', 'from'],
      ['priority=urgent', 'priority'],
      ['rule_id=abc', 'rule_id'],
      ['role=Not A Role', 'role'],
      ['colour=blue', '(root)'],
    ];
    for (const [q, field] of bad) {
      const r = await analytics(q);
      expect(r.status, q).toBe(400);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
      expect(r.body.errors.map((e: { path: string }) => e.path), q).toContain(field);
    }
  });
});

describe('taking the alerts away', () => {
  const exportFile = async (query: string) => {
    const res = await fetch(`${h.url}/v1/alerts/export?${query}`, { headers: { authorization: `Bearer ${opsKey}` } });
    return { res, buf: Buffer.from(await res.arrayBuffer()) };
  };

  it('CSV: one row per alert with its times, RFC 4180 quoting and formula cells defused', async () => {
    const nasty = await postEvent({ category: 'sales', type: 'import', title: '=HYPERLINK("http://evil.example","Click")', dedup_key: '@import' });
    const quoted = await postEvent({ category: 'sales', type: 'import', title: 'Import "nightly", line 1\nline 2', dedup_key: 'imp-2' });
    const { res, buf } = await exportFile('format=csv');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="herald-alerts-all-to-\d{4}-\d{2}-\d{2}\.csv"$/);
    const text = buf.toString('utf8');
    expect(text.startsWith('\ufeffid,status,priority,')).toBe(true);
    expect(text).toContain('\r\n');
    expect(text).toContain('"Import ""nightly"", line 1\nline 2"');
    const rows: string[][] = parseCsv(buf, { bom: true });
    expect(rows[0]).toEqual(EXPORT_COLUMNS.map(([k]) => k));
    expect(rows[0][0]).toBe('id');
    const alerts = (await h.sql`select count(*)::int as n from alerts`)[0].n;
    expect(rows).toHaveLength(alerts + 1);
    const byId = new Map(rows.slice(1).map((r) => [Number(r[0]), Object.fromEntries(rows[0].map((k, i) => [k, r[i]]))]));
    expect(byId.get(nasty)).toMatchObject({ title: `'=HYPERLINK("http://evil.example","Click")`, dedup_key: "'@import" });
    expect(byId.get(quoted)!.title).toBe('Import "nightly", line 1\nline 2');
    expect(byId.get(ids.f1)).toMatchObject({
      status: 'resolved', priority: 'critical', category: 'finance', created_at: '2026-01-13T11:00:00.000Z',
      acknowledged_at: '2026-01-13T11:30:00.000Z', acknowledged_by: 'Carl Books', resolved_at: '2026-01-13T12:00:00.000Z',
      resolved_by: 'Ops console', mtta_s: '1800', mttr_s: '3600', escalation_level: '1', rule_ids: String(financeRule),
    });
    // S4 reopened after its snooze: its first acknowledgement is what the export shows.
    expect(byId.get(ids.s4)).toMatchObject({ status: 'triggered', acknowledged_at: '2026-01-14T09:04:00.000Z', acknowledged_by: 'Ann Sales', mtta_s: '240', occurrences: '2' });
  });

  it('CSV with the list filters and a Berlin date range', async () => {
    const { res, buf } = await exportFile('format=csv&from=2026-01-12&to=2026-01-14&tz=Europe/Berlin&status=open&category=sales');
    expect(res.headers.get('content-disposition')).toContain('filename="herald-alerts-2026-01-12-to-2026-01-14.csv"');
    const rows: string[][] = parseCsv(buf, { bom: true, columns: true });
    expect(rows.map((r: any) => Number(r.id))).toEqual([ids.s2, ids.s4]);
  });

  it('XLSX: typed cells read back by exceljs (dates are dates, numbers are numbers)', async () => {
    const { res, buf } = await exportFile('format=xlsx&from=2026-01-12&to=2026-01-14&tz=Europe/Berlin');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(res.headers.get('content-disposition')).toContain('.xlsx"');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(buf as unknown as ArrayBuffer);
    const ws = wb.getWorksheet('Alerts')!;
    expect(ws.getRow(1).values).toEqual([undefined, ...EXPORT_COLUMNS.map(([k]) => k)]);
    expect(ws.rowCount).toBe(1 + 6);
    const col = (k: string) => EXPORT_COLUMNS.findIndex(([c]) => c === k) + 1;
    const f1 = ws.getRows(2, 6)!.find((r) => r.getCell(1).value === ids.f1)!;
    expect(typeof f1.getCell(col('id')).value).toBe('number');
    expect(f1.getCell(col('created_at')).value).toBeInstanceOf(Date);
    expect((f1.getCell(col('created_at')).value as Date).toISOString()).toBe('2026-01-13T11:00:00.000Z');
    expect(f1.getCell(col('mttr_s')).value).toBe(3600);
    expect(f1.getCell(col('escalation_level')).value).toBe(1);
    expect(f1.getCell(col('title')).value).toBe('Payment 77 failed');
    const f2 = ws.getRows(2, 6)!.find((r) => r.getCell(1).value === ids.f2)!;
    expect(f2.getCell(col('acknowledged_at')).value).toBeNull();
  });

  it('the export path is not an alert id, and bad input is a 400', async () => {
    expect((await h.api('GET', '/v1/alerts/export?format=pdf')).status).toBe(400);
    expect((await h.api('GET', '/v1/alerts/export?status=lost')).status).toBe(400);
    expect((await h.api('GET', '/v1/alerts/export?from=2026-02-01&to=2026-01-01')).status).toBe(400);
    expect((await h.api('GET', '/v1/alerts/export', undefined, { key: null })).status).toBe(401);
  });

  it('streams 20,000 alerts, every one of them', async () => {
    await h.sql`
      insert into alerts (org_id, status, priority, severity, category, type, title, dedup_key, rule_ids, route, created_at, resolved_at)
      select 1, 'resolved', 'normal', 'info', 'bulk', 'import', 'Bulk alert ' || g, 'bulk-' || g, '{}', '{"rules": [], "escalation": {"steps": []}}',
        '2025-02-01T00:00:00Z'::timestamptz + g * interval '1 minute', '2025-02-01T00:00:00Z'::timestamptz + g * interval '1 minute' + interval '90 seconds'
      from generate_series(1, 20000) g`;
    const csv = await exportFile('format=csv&category=bulk');
    expect(csv.res.status).toBe(200);
    const rows: string[][] = parseCsv(csv.buf, { bom: true });
    expect(rows).toHaveLength(20_001);
    expect(rows[20_000][6]).toBe('Bulk alert 20000');
    expect(rows[1][15]).toBe('90');
    // The workbook of the first 5,000 (created a minute apart from 00:01 on 1 February 2025).
    const xlsx = await exportFile('format=xlsx&category=bulk&from=2025-02-01T00:00:00Z&to=2025-02-04T11:21:00Z');
    expect(xlsx.res.status).toBe(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(xlsx.buf as unknown as ArrayBuffer);
    expect(wb.getWorksheet('Alerts')!.rowCount).toBe(5_001);
  }, 180_000);

  it('pages never skip nor repeat an alert: 12,000 sharing three microsecond instants, across page ends', async () => {
    await h.sql`
      insert into alerts (org_id, status, priority, severity, category, type, title, dedup_key, rule_ids, route, created_at)
      select 1, 'triggered', 'normal', 'info', 'ties', 'import', 'Tie ' || g, 'tie-' || g, '{}', '{"rules": [], "escalation": {"steps": []}}',
        (array['2025-04-01T10:00:00.000001Z', '2025-04-01T10:00:00.000002Z', '2025-04-01T10:00:00.999999Z'])[1 + g % 3]::timestamptz
      from generate_series(1, 12000) g`;
    const expected = (await h.sql<{ id: number }[]>`select id::int from alerts where category = 'ties' order by created_at, id`).map((x) => x.id);
    const csv = await exportFile('format=csv&category=ties');
    const rows: string[][] = parseCsv(csv.buf, { bom: true, from_line: 2 });
    expect(rows.map((r) => Number(r[0]))).toEqual(expected);
    const xlsx = await exportFile('format=xlsx&category=ties');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(xlsx.buf as unknown as ArrayBuffer);
    const ids: number[] = [];
    wb.getWorksheet('Alerts')!.eachRow((row, n) => { if (n > 1) ids.push(row.getCell(1).value as number); });
    expect(ids).toEqual(expected);
  }, 120_000);

  it('a cell holding a page separator (ASCII 30 or 31) comes out whole, and its page in order', async () => {
    // Pages come from Postgres as one text split on these two characters; a page with one inside a cell is read
    // again cell by cell. 11,000 alerts in three pages: a unit separator mid-page (found as the page is formatted),
    // one in the last record of the second page (found before the next page is asked for), and a record separator
    // with both in the third.
    await h.sql`
      insert into alerts (org_id, status, priority, severity, category, type, title, dedup_key, rule_ids, route, created_at, first_acknowledged_by)
      select 1, 'triggered', 'normal', 'info', 'seps', 'import',
        case g when 2500 then 'Unit' || chr(31) || 'mid-page' when 10000 then 'Unit' || chr(31) || 'last' when 10500 then 'Record' || chr(30) || 'separator'
          else 'Seps ' || g end,
        case g when 10502 then 'key' || chr(30) || chr(31) else 'seps-' || g end, '{}', '{"rules": [], "escalation": {"steps": []}}',
        '2025-05-01T00:00:00Z'::timestamptz + g * interval '1 second', case when g % 2 = 0 then '{"name": ""}'::jsonb end
      from generate_series(1, 11000) g`;
    const expected = await h.sql<{ id: number; title: string; dedup_key: string }[]>`
      select id::int, title, dedup_key from alerts where category = 'seps' order by created_at, id`;
    const csv = await exportFile('format=csv&category=seps');
    const rows: Array<Record<string, string>> = parseCsv(csv.buf, { bom: true, columns: true });
    expect(rows.map((r) => [Number(r.id), r.title, r.dedup_key])).toEqual(expected.map((x) => [x.id, x.title, x.dedup_key]));
    expect([rows[2499].title, rows[9999].title, rows[10499].title, rows[10501].dedup_key])
      .toEqual(['Unit\x1fmid-page', 'Unit\x1flast', 'Record\x1eseparator', 'key\x1e\x1f']);
    // A null and an empty name are both an empty cell; no acknowledgement is an empty instant, not 1970.
    expect(new Set(rows.map((r) => `${r.acknowledged_by}|${r.acknowledged_at}|${r.mtta_s}`))).toEqual(new Set(['||']));
  }, 120_000);

  it('CSV instants are ISO 8601 in UTC to the millisecond (truncated, as a Date holds them), the workbook\'s the same instants', async () => {
    await h.sql`
      insert into alerts (org_id, status, priority, severity, category, type, title, dedup_key, rule_ids, route, created_at, resolved_at)
      values (1, 'resolved', 'normal', 'info', 'micro', 'import', 'Microseconds', 'micro-1', '{}', '{"rules": [], "escalation": {"steps": []}}',
          '2025-03-01T10:00:00.123987Z', '2025-03-01T10:00:01.6245Z'),
        (1, 'triggered', 'normal', 'info', 'micro', 'import', 'Half a second', 'micro-2', '{}', '{"rules": [], "escalation": {"steps": []}}',
          '2025-03-01T10:00:02.5Z', null)`;
    const csv = await exportFile('format=csv&category=micro');
    const rows: Array<Record<string, string>> = parseCsv(csv.buf, { bom: true, columns: true });
    expect(rows.map((r) => [r.created_at, r.resolved_at, r.mttr_s])).toEqual([
      ['2025-03-01T10:00:00.123Z', '2025-03-01T10:00:01.624Z', '1.501'],
      ['2025-03-01T10:00:02.500Z', '', ''],
    ]);
    const xlsx = await exportFile('format=xlsx&category=micro');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(xlsx.buf as unknown as ArrayBuffer);
    const col = (k: string) => EXPORT_COLUMNS.findIndex(([c]) => c === k) + 1;
    // A workbook holds a date as a fraction of a day: read back, it is the same instant within a millisecond.
    const dates = wb.getWorksheet('Alerts')!.getRows(2, 2)!.map((r) => (r.getCell(col('created_at')).value as Date).getTime());
    dates.forEach((ms, i) => expect(Math.abs(ms - Date.parse(rows[i].created_at))).toBeLessThanOrEqual(1));
  });

  it('a client that hangs up mid-export leaves Herald serving', async () => {
    for (const format of ['csv', 'xlsx']) {
      const ctl = new AbortController();
      const res = await fetch(`${h.url}/v1/alerts/export?format=${format}&category=bulk`, { headers: { authorization: `Bearer ${opsKey}` }, signal: ctl.signal });
      const reader = res.body!.getReader();
      await reader.read();
      ctl.abort();
      await reader.cancel().catch(() => {});
    }
    await new Promise((r) => setTimeout(r, 500));
    expect((await h.api('GET', `/v1/analytics/alerts?${BERLIN_JAN}`)).body.totals.created).toBe(6);
    const { res, buf } = await exportFile('format=csv&category=bulk&from=2025-02-01T00:00:00Z&to=2025-02-01T01:00:00Z');
    expect(res.status).toBe(200);
    expect(parseCsv(buf, { bom: true })).toHaveLength(1 + 59);
  });
});
