// Report kind `alerts`: the alert analytics (db/analytics) for the run's period: headline figures, the
// response time series, the channel and category splits, people, the noisiest rules, and the alerts
// themselves. CSV/XLSX are the alert export (one row per alert), written by db/analytics/export.ts.
import { z } from 'zod';
import type { Herald } from '../../herald';
import { systemActor } from '../../actor';
import { invalid } from '../../errors';
import { text } from '../../platform/input';
import { PRIORITIES } from '../../model/levels';
import { duration, percent, responseDatasets, SERIES_COLORS } from '../../model/charts';
import { alertAnalytics, alertFilter } from '../../analytics/alerts';
import { exportAlerts } from '../../analytics/export';
import { BUCKETS, MAX_BUCKETS, type Filters } from '../../analytics/filters';
import type { ReportDoc, ReportKind, TableSpec } from '../doc';
import { autoBucket, checkPeriod, PeriodFields, periodText } from '../period';

/** A PDF lists at most this many alerts; the CSV/XLSX formats carry every one. */
export const PDF_ALERT_ROWS = 2000;

const BUCKET_SECONDS = { hour: 3600, day: 86400, week: 604800 } as const;

export const AlertsParams = z
  .object({
    ...PeriodFields,
    bucket: z.enum(BUCKETS).optional(),
    category: text().trim().min(1).max(64).optional(),
    priority: z.array(z.enum(PRIORITIES)).min(1).max(PRIORITIES.length).optional(),
    rule_id: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
    role: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'a role key is lowercase letters, digits and _').optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    checkPeriod(p, ctx);
    if (p.bucket && p.from && p.to) {
      const points = Math.ceil((Date.parse(p.to) - Date.parse(p.from)) / 1000 / BUCKET_SECONDS[p.bucket]) + 1;
      if (points > MAX_BUCKETS) ctx.addIssue({ code: 'custom', path: ['bucket'], message: `${p.bucket} buckets over this period would be ${points} points (at most ${MAX_BUCKETS})` });
    }
  });
export type AlertsParams = z.output<typeof AlertsParams>;

const whenFormat = (tz: string) => new Intl.DateTimeFormat('en-GB', { timeZone: tz, day: '2-digit', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const n = (x: number) => x.toLocaleString('en-US');

function filtersOf(p: AlertsParams): Filters {
  return { category: p.category, priority: p.priority, rule_id: p.rule_id, role: p.role };
}

function bucketLabel(t: string, bucket: string, tz: string): string {
  const d = new Date(t);
  const o: Intl.DateTimeFormatOptions = bucket === 'hour' ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', day: 'numeric' } : { day: 'numeric', month: 'short' };
  return new Intl.DateTimeFormat('en-GB', { timeZone: tz, ...o }).format(d);
}

export const alertsKind: ReportKind<AlertsParams> = {
  label: 'Alert analytics',
  formats: ['pdf', 'csv', 'xlsx'],
  params: AlertsParams,
  tzOf: (p) => p.tz,
  async check(h, orgId, p) {
    if (p.rule_id) {
      const [r] = await h.sql`select 1 from rules where org_id = ${orgId} and id = ${p.rule_id}`;
      if (!r) throw invalid(`params.rule_id: rule ${p.rule_id} does not exist`, [{ path: 'params.rule_id', message: 'no such rule' }]);
    }
    if (p.role) {
      const [r] = await h.sql`select 1 from roles where org_id = ${orgId} and key = ${p.role}`;
      if (!r) throw invalid(`params.role: role ${p.role} does not exist`, [{ path: 'params.role', message: 'no such role' }]);
    }
  },

  async document(h, orgId, p, period, progress) {
    const bucket = p.bucket ?? autoBucket(period);
    const a = await alertAnalytics(h, systemActor(orgId, 'report'), {
      from: period.from.toISOString(), to: period.to.toISOString(), tz: period.tz, bucket,
      ...(p.category ? { category: p.category } : {}), ...(p.priority ? { priority: p.priority.join(',') } : {}),
      ...(p.rule_id ? { rule_id: String(p.rule_id) } : {}), ...(p.role ? { role: p.role } : {}),
    });
    await progress(0.3);
    const t = a.totals;
    const details: Array<[string, string]> = [
      ['Period', periodText(period)],
      ['Category', p.category ?? 'all'],
      ['Priority', p.priority?.join(', ') ?? 'all'],
      ['Rule', p.rule_id ? `#${p.rule_id}` : 'all'],
      ['Role', p.role ?? 'all'],
    ];
    const doc: ReportDoc = {
      title: 'Alert analytics', details, rows: t.created, charts: [], tables: [],
      figures: [
        { label: 'Alerts created', value: n(t.created) },
        { label: 'Acknowledged', value: n(t.acknowledged), note: `acknowledgement rate ${percent(t.ack_rate)}` },
        { label: 'Resolved', value: n(t.resolved) },
        { label: 'Escalated', value: n(t.escalated), note: `escalation rate ${percent(t.escalation_rate)}` },
        { label: 'MTTA p50', value: duration(t.mtta_s.p50), note: `p90 ${duration(t.mtta_s.p90)}, mean ${duration(t.mtta_s.mean)}` },
        { label: 'MTTR p50', value: duration(t.mttr_s.p50), note: `p90 ${duration(t.mttr_s.p90)}, mean ${duration(t.mttr_s.mean)}` },
      ],
    };
    if (!t.created) {
      doc.empty = 'No alerts were created in this period: there is nothing to measure.';
      return doc;
    }
    doc.charts.push({
      title: 'Created, acknowledged and escalated', type: 'line',
      labels: a.series.map((s) => bucketLabel(s.t, bucket, period.tz)),
      datasets: responseDatasets(a.series).map((d) => ({ label: d.label, data: d.data, color: d.borderColor })),
    });
    if (a.by_channel.length) {
      doc.charts.push({
        title: 'Messages by channel', type: 'bar', labels: a.by_channel.map((c) => c.channel),
        datasets: [
          { label: 'Sent', data: a.by_channel.map((c) => c.sent), color: SERIES_COLORS.created },
          { label: 'Delivered', data: a.by_channel.map((c) => c.delivered), color: SERIES_COLORS.acknowledged },
          { label: 'Failed', data: a.by_channel.map((c) => c.failed), color: SERIES_COLORS.escalated },
          { label: 'Actions taken', data: a.by_channel.map((c) => c.acted), color: SERIES_COLORS.resolved },
        ],
      });
    }
    const right = (label: string) => ({ label, align: 'right' as const });
    const tables: TableSpec[] = [
      { title: 'By category', columns: [{ label: 'Category' }, right('Created'), right('Acknowledged'), right('Resolved'), right('Escalated'), right('MTTA p50'), right('MTTR p50')],
        rows: a.by_category.map((c) => [c.category, n(c.created), n(c.acknowledged), n(c.resolved), n(c.escalated), duration(c.mtta_p50_s), duration(c.mttr_p50_s)]) },
      { title: 'By channel', columns: [{ label: 'Channel' }, right('Sent'), right('Delivered'), right('Failed'), right('Actions taken')],
        rows: a.by_channel.map((c) => [c.channel, n(c.sent), n(c.delivered), n(c.failed), n(c.acted)]) },
      { title: 'By person', columns: [{ label: 'Person' }, right('Acknowledged'), right('MTTA p50')],
        rows: a.by_person.map((x) => [x.name, n(x.acknowledged), duration(x.mtta_p50_s)]) },
      { title: 'Noisiest rules and dedup keys', columns: [{ label: 'Rule or dedup key' }, right('Alerts')],
        rows: a.noisiest.map((x) => ('rule_id' in x ? [`Rule: ${x.name ?? `#${x.rule_id}`}`, n(x.alerts)] : [`Key: ${x.dedup_key}`, n(x.alerts)])) },
    ];
    doc.tables.push(...tables.filter((x) => x.rows.length));

    const sql = h.sql;
    const list = await sql<Array<{ id: number; created_at: Date; title: string; category: string; priority: string; status: string; mtta_s: number | null; mttr_s: number | null; escalation_level: number }>>`
      select a.id, a.created_at, a.title, a.category, a.priority, a.status, a.escalation_level,
        extract(epoch from a.first_acknowledged_at - a.created_at)::float8 as mtta_s,
        extract(epoch from a.resolved_at - a.created_at)::float8 as mttr_s
      from alerts a where ${alertFilter(sql, orgId, { from: period.from, to: period.to, tz: period.tz }, filtersOf(p))}
      order by a.created_at, a.id limit ${PDF_ALERT_ROWS}`;
    await progress(0.5);
    const fmt = whenFormat(period.tz);
    doc.tables.push({
      title: 'Alerts',
      columns: [{ label: 'Id', align: 'right', width: 45 }, { label: 'Created', width: 70 }, { label: 'Title', width: 170 }, { label: 'Category', width: 60 },
        { label: 'Priority', width: 48 }, { label: 'Status', width: 62 }, { label: 'MTTA', align: 'right', width: 50 }, { label: 'MTTR', align: 'right', width: 50 }],
      rows: list.map((x) => [String(x.id), fmt.format(x.created_at), x.title, x.category, x.priority, x.status, duration(x.mtta_s), duration(x.mttr_s)]),
      note: t.created > list.length ? `The first ${n(list.length)} of ${n(t.created)} alerts; a CSV or XLSX report carries every one.` : undefined,
    });
    return doc;
  },

  async file(h, orgId, p, period, format) {
    const query: Record<string, string> = { format, from: period.from.toISOString(), to: period.to.toISOString(), tz: period.tz };
    if (p.category) query.category = p.category;
    if (p.priority) query.priority = p.priority.join(',');
    if (p.rule_id) query.rule_id = String(p.rule_id);
    if (p.role) query.role = p.role;
    const out = await exportAlerts(h, systemActor(orgId, 'report'), query);
    const chunks: Uint8Array[] = [];
    for await (const c of out.stream as unknown as AsyncIterable<Uint8Array>) chunks.push(c);
    const sql = h.sql;
    const [c] = await sql<{ n: number }[]>`select count(*)::int as n from alerts a
      where ${alertFilter(sql, orgId, { from: period.from, to: period.to, tz: period.tz }, filtersOf(p))}`;
    return { filename: out.filename, contentType: out.contentType, data: Buffer.concat(chunks), rows: c.n };
  },
};
