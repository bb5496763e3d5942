// The preset metrics and dashboards for sales, accounting, workshop and system, created on the first start
// (idempotent: the first starter marks metric_rollup_state.presets_at in the same transaction; keys that
// already exist are left as they are; a deleted preset stays deleted). They read the event vocabulary `npm run demo` sends (README "Dashboards").
import type { Pool } from '../platform/sql';
import { MetricInputSchema, type MetricInput } from './schema';
import { insertMetric } from './verbs';
import { DashboardInputSchema, insertDashboard } from './dashboards';
import { DEFAULT_ORG_ID } from '../model/org';

const M = (m: unknown): MetricInput => MetricInputSchema.parse(m);

export const PRESET_METRICS: MetricInput[] = [
  M({ key: 'sales_pipeline', name: 'Sales pipeline', aggregate: 'lifecycle', field: 'metadata.amount', unit: 'EUR', good: 'up',
    lifecycle: { open: { category: 'sales', type: 'deal_created' }, close: [{ category: 'sales', type: 'deal_won' }, { category: 'sales', type: 'deal_lost' }], by: 'entity' },
    description: 'Deals from creation to won or lost: open amount is the pipeline, the share closed as won is the win rate.' }),
  M({ key: 'sales_won_amount', name: 'Won deal value', source: { category: 'sales', type: 'deal_won' }, aggregate: 'sum', field: 'metadata.amount', unit: 'EUR', good: 'up' }),
  M({ key: 'sales_leads', name: 'New leads', source: { category: 'sales', type: 'lead_created' }, aggregate: 'count', group_by: 'metadata.source', good: 'up', anomaly: { sensitivity: 4 } }),
  M({ key: 'sales_lead_response', name: 'Lead response time', aggregate: 'lifecycle', unit: 's', good: 'down',
    lifecycle: { open: { category: 'sales', type: 'lead_created' }, close: [{ category: 'sales', type: 'lead_contacted' }], by: 'entity' },
    thresholds: { warn: 4 * 3600, crit: 24 * 3600, window: '7d', on: 'time_to_close_p50_s' } }),
  M({ key: 'ar_invoices', name: 'Accounts receivable', aggregate: 'lifecycle', field: 'metadata.amount', unit: 'EUR', good: 'down',
    lifecycle: { open: { category: 'finance', type: 'invoice_issued' }, close: [{ category: 'finance', type: 'invoice_paid' }, { category: 'finance', type: 'invoice_written_off' }], by: 'entity' },
    thresholds: { warn: 45, crit: 60, window: '30d', on: 'time_to_close_mean_days' },
    description: 'Invoices from issue to payment: open amount, AR aging, and DSO as the mean days to pay (thresholds on it).' }),
  M({ key: 'ar_invoiced', name: 'Invoiced', source: { category: 'finance', type: 'invoice_issued' }, aggregate: 'sum', field: 'metadata.amount', unit: 'EUR', good: 'up' }),
  M({ key: 'workshop_downtime', name: 'Machines down', aggregate: 'lifecycle', unit: 'machines', good: 'down',
    lifecycle: { open: { category: 'workshop', type: 'machine_down' }, close: [{ category: 'workshop', type: 'machine_up' }], by: 'entity' },
    thresholds: { warn: 2, crit: 4, window: '1d' } }),
  M({ key: 'workshop_failures', name: 'Machine failures', source: { category: 'workshop', type: 'machine_down' }, aggregate: 'count', group_by: 'metadata.reason', good: 'down' }),
  M({ key: 'system_job_failures', name: 'Job failures', source: { category: 'system', type: 'job_failed' }, aggregate: 'count', group_by: 'metadata.job', good: 'down',
    thresholds: { warn: 20, crit: 50, window: '1d' }, anomaly: { sensitivity: 4 } }),
  M({ key: 'system_error_rate', name: 'Error rate', source: { category: 'system', type: 'http_stats' }, aggregate: 'avg', field: 'metadata.error_rate_pct', unit: '%', good: 'down',
    thresholds: { warn: 2, crit: 5, window: '1h' } }),
  M({ key: 'system_response_time', name: 'Response time (p90 of p95s)', source: { category: 'system', type: 'http_stats' }, aggregate: 'p90', field: 'metadata.p95_ms', unit: 'ms', good: 'down',
    thresholds: { warn: 500, crit: 1000, window: '1h' } }),
];

const D = (d: unknown) => DashboardInputSchema.parse(d);
export const PRESET_DASHBOARDS = [
  D({ key: 'sales', name: 'Sales', roles: ['sales', 'ceo'], widgets: [
    { type: 'kpi', metric: 'sales_pipeline', title: 'Pipeline', options: { measure: 'open_amount' } },
    { type: 'kpi', metric: 'sales_pipeline', title: 'Win rate', options: { measure: 'closed_share:deal_won' } },
    { type: 'kpi', metric: 'sales_lead_response', title: 'Lead response (median)', options: { measure: 'time_to_close_p50_s' } },
    { type: 'kpi', metric: 'sales_won_amount', title: 'Won' },
    { type: 'line', metric: 'sales_pipeline', title: 'Pipeline value', options: { measure: 'open_amount' } },
    { type: 'bar', metric: 'sales_leads', title: 'Leads by source', options: { group_by: true, bucket: 'week' } },
    { type: 'forecast', metric: 'sales_won_amount', title: 'Won value, next 8 weeks', options: { bucket: 'week', horizon: 8 } },
    { type: 'table', metric: 'sales_pipeline', title: 'Open deals' },
  ] }),
  D({ key: 'accounting', name: 'Accounting', roles: ['accounting', 'office', 'ceo'], widgets: [
    { type: 'kpi', metric: 'ar_invoices', title: 'Open receivables', options: { measure: 'open_amount' } },
    { type: 'kpi', metric: 'ar_invoices', title: 'DSO (days)', options: { measure: 'time_to_close_mean_days' } },
    { type: 'kpi', metric: 'ar_invoices', title: 'Overdue (> 30 days)', options: { measure: 'open_amount_over_30d' } },
    { type: 'kpi', metric: 'ar_invoiced', title: 'Invoiced' },
    { type: 'aging', metric: 'ar_invoices', title: 'AR aging' },
    { type: 'line', metric: 'ar_invoices', title: 'Open receivables', options: { measure: 'open_amount' } },
    { type: 'bar', metric: 'ar_invoiced', title: 'Invoiced per week', options: { bucket: 'week' } },
    { type: 'forecast', metric: 'ar_invoiced', title: 'Invoicing, next 8 weeks', options: { bucket: 'week', horizon: 8 } },
  ] }),
  D({ key: 'workshop', name: 'Workshop', roles: ['workshop', 'shop_supervisor', 'field'], widgets: [
    { type: 'kpi', metric: 'workshop_downtime', title: 'Machines down now' },
    { type: 'kpi', metric: 'workshop_downtime', title: 'MTTR', options: { measure: 'time_to_close_mean_s' } },
    { type: 'status_grid', metric: 'workshop_downtime', title: 'Machines' },
    { type: 'table', metric: 'workshop_downtime', title: 'Downtime and MTTR per machine' },
    { type: 'bar', metric: 'workshop_failures', title: 'Failures by reason', options: { group_by: true, bucket: 'week' } },
    { type: 'line', metric: 'workshop_downtime', title: 'Machines down' },
    { type: 'forecast', metric: 'workshop_failures', title: 'Failures, next 8 weeks', options: { bucket: 'week', horizon: 8 } },
  ] }),
  D({ key: 'system', name: 'System', roles: ['admin'], widgets: [
    { type: 'kpi', metric: 'system_job_failures', title: 'Job failures' },
    { type: 'kpi', metric: 'system_error_rate', title: 'Error rate' },
    { type: 'kpi', metric: 'system_response_time', title: 'Response time p90' },
    { type: 'bar', metric: 'system_job_failures', title: 'Failures by job', options: { group_by: true } },
    { type: 'line', metric: 'system_error_rate', title: 'Error rate' },
    { type: 'line', metric: 'system_response_time', title: 'Response time' },
    { type: 'table', metric: 'system_job_failures', title: 'Failures per job' },
    { type: 'forecast', metric: 'system_job_failures', title: 'Job failures, next 8 weeks', options: { bucket: 'week', horizon: 8 } },
  ] }),
];

/** Creates the preset metrics and dashboards on the first start (one transaction; concurrent starters wait on the row). */
export async function ensurePresets(sql: Pool, orgId = DEFAULT_ORG_ID) {
  await sql.begin(async (tx) => {
    const first = await tx`update metric_rollup_state set presets_at = now() where id = 1 and presets_at is null returning id`;
    if (!first.length) return;
    for (const m of PRESET_METRICS) await insertMetric(tx, orgId, m, { ifMissing: true });
    for (const d of PRESET_DASHBOARDS) await insertDashboard(tx, orgId, d, { preset: true, ifMissing: true });
  });
}
