// Report kind `dashboard`: a KPI dashboard (db/metrics) over the run's period, every widget with its data
// as GET /v1/dashboards/:key answers it: KPI tiles become headline figures, lines and bars charts, tables,
// status grids and aging tables. PDF only (a dashboard has no one-row-per-thing shape for a spreadsheet).
import { z } from 'zod';
import { systemActor } from '../../actor';
import { invalid } from '../../errors';
import { getDashboardVerb } from '../../metrics/dashboards';
import { SERIES_COLORS } from '../../model/charts';
import type { ChartSpec, ReportDoc, ReportKind, TableSpec } from '../doc';
import { checkPeriod, PeriodFields, periodText } from '../period';

export const DashboardParams = z
  .object({
    dashboard: z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, 'a dashboard key'),
    ...PeriodFields,
  })
  .strict()
  .superRefine((p, ctx) => checkPeriod(p, ctx));
export type DashboardParams = z.output<typeof DashboardParams>;

const num = (v: unknown, unit?: string | null) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '—';
  const s = Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : String(Math.round(v * 100) / 100);
  return unit ? `${s} ${unit}` : s;
};
const cell = (v: unknown) => (v === null || v === undefined ? '—' : typeof v === 'number' ? num(v) : typeof v === 'object' ? JSON.stringify(v) : String(v));
const day = (t: string, tz: string) => new Intl.DateTimeFormat('en-GB', { timeZone: tz, day: 'numeric', month: 'short' }).format(new Date(t));

export const dashboardKind: ReportKind<DashboardParams> = {
  label: 'KPI dashboard',
  formats: ['pdf'],
  params: DashboardParams,
  tzOf: (p) => p.tz,
  async check(h, orgId, p) {
    const [d] = await h.sql`select 1 from dashboards where org_id = ${orgId} and key = ${p.dashboard}`;
    if (!d) throw invalid(`params.dashboard: dashboard ${p.dashboard} does not exist`, [{ path: 'params.dashboard', message: 'no such dashboard' }]);
  },
  async document(h, orgId, p, period, progress) {
    const d = await getDashboardVerb(h, systemActor(orgId, 'report'), p.dashboard, { from: period.from.toISOString(), to: period.to.toISOString() });
    await progress(0.4);
    const doc: ReportDoc = { title: d.name, details: [['Period', periodText(period)], ['Dashboard', `${d.name} (${d.key})`]], figures: [], charts: [], tables: [], rows: 0 };
    for (const w of d.widgets) {
      const data = w.data as Record<string, any>;
      const unit = (data.unit as string | null) ?? null;
      if (data.error) { doc.figures.push({ label: w.title, value: '—', note: String(data.error) }); continue; }
      switch (w.type) {
        case 'kpi':
          doc.rows++;
          doc.figures.push({ label: w.title, value: num(data.value, unit),
            note: data.previous === null || data.previous === undefined ? 'no earlier value' : `previous ${num(data.previous, unit)}${typeof data.change_pct === 'number' ? ` (${data.change_pct > 0 ? '+' : ''}${Math.round(data.change_pct)} %)` : ''}` });
          break;
        case 'line':
        case 'bar': {
          const series = (data.series ?? []) as Array<{ t: string; value: number | null }>;
          doc.rows += series.length;
          if (series.length) {
            const c: ChartSpec = { title: w.title, type: w.type, labels: series.map((s) => day(s.t, period.tz)), unit: unit ?? undefined,
              datasets: [{ label: w.title, data: series.map((s) => s.value), color: SERIES_COLORS.created }] };
            doc.charts.push(c);
          }
          break;
        }
        case 'forecast': {
          const hist = (data.history ?? []) as Array<{ t: string; value: number | null }>;
          const fc = (data.forecast ?? []) as Array<{ t: string; value: number | null }>;
          doc.rows += hist.length + fc.length;
          if (hist.length) {
            doc.charts.push({ title: w.title, type: 'line', labels: [...hist, ...fc].map((s) => day(s.t, period.tz)), unit: unit ?? undefined,
              datasets: [
                { label: 'History', data: [...hist.map((s) => s.value), ...fc.map(() => null)], color: SERIES_COLORS.created },
                { label: 'Forecast', data: [...hist.map(() => null), ...fc.map((s) => s.value)], color: SERIES_COLORS.failed },
              ] });
          }
          break;
        }
        case 'aging': {
          const rows = (data.aging ?? []) as Array<{ bucket: string; count: number; amount: number }>;
          doc.rows += rows.length;
          doc.tables.push({ title: w.title, columns: [{ label: 'Age (days)' }, { label: 'Open', align: 'right' }, { label: 'Amount', align: 'right' }],
            rows: rows.map((r) => [r.bucket, num(r.count), num(r.amount, unit)]) });
          break;
        }
        case 'status_grid': {
          const items = (data.items ?? []) as Array<{ name: string; value: number | null; status: string }>;
          doc.rows += items.length;
          doc.tables.push({ title: w.title, columns: [{ label: 'Name' }, { label: 'Value', align: 'right' }, { label: 'Status' }],
            rows: items.map((i) => [String(i.name), num(i.value, unit), i.status]) });
          break;
        }
        case 'table': {
          const rows = (data.rows ?? []) as Array<Record<string, unknown>>;
          doc.rows += rows.length;
          const cols = rows.length ? Object.keys(rows[0]) : ['value'];
          const t: TableSpec = { title: w.title, columns: cols.map((c) => ({ label: c })), rows: rows.map((r) => cols.map((c) => cell(r[c]))) };
          doc.tables.push(t);
          break;
        }
      }
    }
    if (!d.widgets.length) doc.empty = 'This dashboard has no widgets.';
    return doc;
  },
};
