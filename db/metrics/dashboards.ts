// Dashboards: lists of widgets over metrics, for roles (docs/design.md "KPI metrics and role dashboards").
// GET answers every widget with its data in one response; each widget reads rollups only.
import { z } from 'zod';
import { text } from '../platform/input';
import type { Actor } from '../actor';
import { can, require } from '../actor';
import { conflict, invalid, notFound, parse } from '../errors';
import type { Herald } from '../herald';
import type { Sql } from '../platform/sql';
import { LIFECYCLE_MEASURE, metricKey, type MetricRow } from './schema';
import { needsP50, lifecycleGrid, lifecycleMeasure, lifecycleSeries, lifecycleTable, lifecycleValue, rangeValue, type LifecycleAnswer } from './query';
import { autoBucket, changePct, forecastFor, RangeQuery, rangeOf, seriesFor, valueFor } from './read';
import { parseKey } from './verbs';
import { levelOf, thresholdValue } from './check';
import { recordAudit } from '../audit/record';

export const WIDGET_TYPES = ['kpi', 'line', 'bar', 'table', 'status_grid', 'aging', 'forecast'] as const;
const roleKey = z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'a role key is lowercase letters, digits and _');

const WidgetOptions = z.object({
  bucket: z.enum(['hour', 'day', 'week']).optional(),
  group_by: z.boolean().optional(),
  measure: LIFECYCLE_MEASURE.optional(),
  horizon: z.number().int().min(1).max(52).optional(),
  span: z.enum(['full', 'half', 'third']).optional(),
}).strict();

const WidgetSchema = z.object({
  type: z.enum(WIDGET_TYPES),
  metric: metricKey,
  title: text().trim().min(1).max(200),
  options: WidgetOptions.default({}),
}).strict();

export const DashboardInputSchema = z.object({
  key: metricKey,
  name: text().trim().min(1).max(200),
  roles: z.array(roleKey).max(20).default([]),
  widgets: z.array(WidgetSchema).max(40).default([]),
}).strict();
export type DashboardInput = z.output<typeof DashboardInputSchema>;
type Widget = z.output<typeof WidgetSchema>;

interface DashboardRow { id: number; key: string; name: string; roles: string[]; widgets: Widget[]; preset: boolean; created_at: Date; updated_at: Date }

const view = (d: DashboardRow) => ({ key: d.key, name: d.name, roles: d.roles, widgets: d.widgets, preset: d.preset, created_at: d.created_at, updated_at: d.updated_at });

/** Every widget names an existing metric of a shape its type can show; else a 400 naming the widget. */
async function checkWidgets(sql: Sql, orgId: number, widgets: Widget[]) {
  const keys = [...new Set(widgets.map((w) => w.metric))];
  const rows = keys.length ? await sql<{ key: string; definition: MetricRow['definition'] }[]>`
    select key, definition from metric_definitions where org_id = ${orgId} and key = any(${keys}::text[])` : [];
  const defs = new Map(rows.map((r) => [r.key, r.definition]));
  const errors: Array<{ path: string; message: string }> = [];
  widgets.forEach((w, i) => {
    const d = defs.get(w.metric);
    if (!d) { errors.push({ path: `widgets.${i}.metric`, message: `metric ${w.metric} does not exist` }); return; }
    const lifecycle = d.aggregate === 'lifecycle';
    if (w.type === 'aging' && !lifecycle) errors.push({ path: `widgets.${i}.type`, message: 'an aging widget needs a lifecycle metric' });
    if (w.type === 'status_grid' && d.aggregate !== 'lifecycle' && !d.group_by)
      errors.push({ path: `widgets.${i}.type`, message: 'a status grid needs a lifecycle metric or a grouped one' });
    if (w.options.measure && !lifecycle && w.options.measure !== 'value') errors.push({ path: `widgets.${i}.options.measure`, message: 'only lifecycle metrics have measures' });
    if (w.options.group_by && (lifecycle || !d.group_by)) errors.push({ path: `widgets.${i}.options.group_by`, message: `metric ${w.metric} is not grouped` });
  });
  if (errors.length) throw invalid(`The body is invalid: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors);
}

export async function insertDashboard(sql: Sql, orgId: number, d: DashboardInput, opts: { preset?: boolean; ifMissing?: boolean } = {}) {
  await checkWidgets(sql, orgId, d.widgets);
  const rows = await sql<DashboardRow[]>`
    insert into dashboards (org_id, key, name, roles, widgets, preset)
    values (${orgId}, ${d.key}, ${d.name}, ${d.roles}, ${sql.json(d.widgets as never)}, ${opts.preset ?? false})
    on conflict (org_id, key) do nothing returning *`;
  if (!rows.length && !opts.ifMissing) throw conflict(`A dashboard with key ${d.key} already exists`);
  return rows[0] ?? null;
}

export async function createDashboardVerb(h: Herald, actor: Actor, body: unknown) {
  require(actor, 'dashboards:write');
  const d = parse(DashboardInputSchema, body);
  return h.sql.begin(async (tx) => {
    const after = view((await insertDashboard(tx, actor.orgId, d))!);
    await recordAudit(tx, actor, 'dashboard.created', { kind: 'dashboard', id: after.key, label: after.name }, { after });
    return after;
  });
}

/** Dashboards the actor may see: all for admins and keys, else those for one of the user's roles (or for everyone). */
export async function listDashboardsVerb(h: Herald, actor: Actor) {
  require(actor, 'dashboards:read');
  const rows = await h.sql<DashboardRow[]>`select * from dashboards where org_id = ${actor.orgId} order by preset desc, key`;
  const mine = actor.kind === 'user' ? actor.roles : [];
  return rows.map((d) => ({ ...view(d), mine: d.roles.some((r) => mine.includes(r)) }));
}

export async function patchDashboardVerb(h: Herald, actor: Actor, key: string, body: unknown) {
  require(actor, 'dashboards:write');
  const k = parseKey(key, 'dashboard');
  const patch = parse(DashboardInputSchema.partial(), body);
  if (patch.key !== undefined && patch.key !== k) throw invalid('key: a dashboard key cannot change', [{ path: 'key', message: 'a dashboard key cannot change' }]);
  return h.sql.begin(async (tx) => {
    const [cur] = await tx<DashboardRow[]>`select * from dashboards where org_id = ${actor.orgId} and key = ${k} for update`;
    if (!cur) throw notFound(`Dashboard ${k}`);
    const d = parse(DashboardInputSchema, { key: k, name: patch.name ?? cur.name, roles: patch.roles ?? cur.roles, widgets: patch.widgets ?? cur.widgets });
    await checkWidgets(tx, actor.orgId, d.widgets);
    const [row] = await tx<DashboardRow[]>`
      update dashboards set name = ${d.name}, roles = ${d.roles}, widgets = ${tx.json(d.widgets as never)}, updated_at = now()
      where id = ${cur.id} returning *`;
    await recordAudit(tx, actor, 'dashboard.updated', { kind: 'dashboard', id: k, label: row.name }, { before: view(cur), after: view(row) });
    return view(row);
  });
}

export async function deleteDashboardVerb(h: Herald, actor: Actor, key: string) {
  require(actor, 'dashboards:write');
  const k = parseKey(key, 'dashboard');
  await h.sql.begin(async (tx) => {
    const [row] = await tx<DashboardRow[]>`delete from dashboards where org_id = ${actor.orgId} and key = ${k} returning *`;
    if (!row) throw notFound(`Dashboard ${key}`);
    await recordAudit(tx, actor, 'dashboard.deleted', { kind: 'dashboard', id: k, label: row.name }, { before: view(row) });
  });
}

/** One widget's data over [from, to). A widget whose metric has since gone shows an error, not a 500. */
export async function widgetData(sql: Sql, m: MetricRow | undefined, w: Widget, from: number, to: number): Promise<Record<string, unknown>> {
  if (!m) return { error: `metric ${w.metric} does not exist` };
  const def = m.definition;
  const lifecycle = def.aggregate === 'lifecycle';
  const bucket = w.options.bucket ?? autoBucket(from, to);
  const meta = { unit: def.unit ?? null, good: def.good, thresholds: def.thresholds ?? null, rollup: m.caught_up ? 'ready' : 'rebuilding', skipped: m.skipped };
  switch (w.type) {
    case 'kpi': {
      const trend = lifecycle
        ? await lifecycleSeries(sql, m, { from, to, bucket, byGroup: false }, w.options.measure === 'open_amount' ? 'open_amount' : 'open_count')
        : await seriesFor(sql, m, from, to, bucket);
      let value: number | null; let previous: number | null; let extra: Record<string, unknown> = {};
      if (lifecycle) {
        const measure = w.options.measure ?? 'value';
        const span = to - from;
        const a: LifecycleAnswer = await lifecycleValue(sql, m, from, to, { aging: false, p50: needsP50(measure) });
        value = await lifecycleMeasure(sql, m, measure, from, to, a);
        // The open count before the range is in the answer already; other measures need the earlier window.
        previous = measure === 'value' || measure === 'open_count' ? a.previous : await lifecycleMeasure(sql, m, measure, from - span, from);
        extra = { measure, open_count: a.open_count, open_amount: a.open_amount };
      } else {
        const v = await valueFor(sql, m, from, to) as { value: number | null; previous: number | null; sampled?: boolean };
        value = v.value; previous = v.previous;
        if (v.sampled) extra.sampled = true;
      }
      const t = def.thresholds;
      const measureMatches = !lifecycle || (t?.on ?? 'value') === (w.options.measure ?? 'value');
      // The colour is the thresholds' verdict over their own window ending now (what the minute check
      // compares), not the dashboard range: "20 failures a day" must not turn red over 30 days.
      const status = t && measureMatches ? levelOf(await thresholdValue(sql, m), t, def.good) : null;
      return { ...meta, value, previous, change_pct: changePct(value, previous), status, status_window: t && measureMatches ? t.window : null, trend: trend.series, ...extra };
    }
    case 'line':
    case 'bar':
      if (lifecycle) return { ...meta, bucket, ...(await lifecycleSeries(sql, m, { from, to, bucket, byGroup: false }, w.options.measure === 'open_amount' ? 'open_amount' : 'open_count')) };
      return { ...meta, bucket, ...(await seriesFor(sql, m, from, to, bucket, w.options.group_by ? def.group_by : undefined)) };
    case 'table':
      if (lifecycle) return { ...meta, rows: await lifecycleTable(sql, m, from, to) };
      if (def.group_by) return { ...meta, rows: (await rangeValue(sql, m, from, to, true)).groups };
      return { ...meta, bucket, rows: (await seriesFor(sql, m, from, to, bucket)).series };
    case 'status_grid':
      if (lifecycle) return { ...meta, items: await lifecycleGrid(sql, m, to) };
      return {
        ...meta,
        items: (await rangeValue(sql, m, from, to, true)).groups.map((g) => ({ entity: g.group, name: g.group, value: g.value, status: def.thresholds ? levelOf(g.value, def.thresholds, def.good) : 'ok' })),
      };
    case 'aging': {
      if (!lifecycle) return { error: 'an aging widget needs a lifecycle metric' };
      const a = await lifecycleValue(sql, m, from, to);
      return { ...meta, open_count: a.open_count, open_amount: a.open_amount, aging: a.aging, time_to_close_s: a.time_to_close_s, closed_by: a.closed_by };
    }
    case 'forecast':
      return { ...meta, ...(await forecastFor(sql, m, w.options.bucket ?? 'week', w.options.horizon ?? 8)) };
  }
}

export async function getDashboardVerb(h: Herald, actor: Actor, key: string, query: Record<string, string>) {
  require(actor, 'dashboards:read');
  const k = parseKey(key, 'dashboard');
  const q = parse(RangeQuery, query, 'query');
  const [d] = await h.sql<DashboardRow[]>`select * from dashboards where org_id = ${actor.orgId} and key = ${k}`;
  if (!d) throw notFound(`Dashboard ${k}`);
  return withData(h, actor, d, q);
}

/** The editor's live preview: an unsaved dashboard answered as GET would answer it once saved. */
export async function previewDashboardVerb(h: Herald, actor: Actor, body: unknown, query: Record<string, string>) {
  require(actor, 'dashboards:write');
  const d = parse(DashboardInputSchema, body);
  const q = parse(RangeQuery, query, 'query');
  await checkWidgets(h.sql, actor.orgId, d.widgets);
  const now = new Date();
  return withData(h, actor, { id: 0, ...d, preset: false, created_at: now, updated_at: now }, q);
}

async function withData(h: Herald, actor: Actor, d: DashboardRow, q: { from?: number; to?: number }) {
  const { from, to } = rangeOf(q);
  const keys = [...new Set(d.widgets.map((w) => w.metric))];
  const metrics = keys.length ? await h.sql<MetricRow[]>`select * from metric_definitions where org_id = ${actor.orgId} and key = any(${keys}::text[])` : [];
  const byKey = new Map(metrics.map((m) => [m.key, m]));
  const widgets = await Promise.all(d.widgets.map(async (w) => ({ ...w, data: await widgetData(h.sql, byKey.get(w.metric), w, from, to) })));
  return { ...view(d), from: new Date(from).toISOString(), to: new Date(to).toISOString(), editable: can(actor, 'dashboards:write'), widgets };
}
