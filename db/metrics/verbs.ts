// Metric definitions: create, read, change, delete (docs/design.md "KPI metrics and role dashboards").
// A definition change that alters what the rollups hold clears them and enqueues metric__rebuild in the same
// transaction: without that, a redefined metric would show numbers computed under its old definition.
import type { Actor } from '../actor';
import { require } from '../actor';
import { conflict, invalid, notFound, parse } from '../errors';
import type { Herald } from '../herald';
import type { Sql } from '../platform/sql';
import { addJobs, job } from '../jobs/enqueue';
import { recordAudit } from '../audit/record';
import { MetricInputSchema, MetricPatchSchema, metricKey, type MetricInput, type MetricRow } from './schema';

/**
 * Taken first by every change that clears a metric's rollups: the incremental run holds this row while it
 * writes, so a run that loaded the old definition cannot add its batch after the clear (the rebuild would
 * then count those events twice).
 */
const lockRollups = (tx: Sql) => tx`select 1 from metric_rollup_state where id = 1 for update`;

/** The SET items (each followed by a comma) that start a metric's rollups over under a new version. */
const resetColumns = (tx: Sql) => tx`version = version + 1, hwm = 0, caught_up = false, rebuild_progress = 0, skipped = '{}',`;

/** After resetColumns: drops the metric's rollups and enqueues the rebuild of its new version. */
async function clearRollups(tx: Sql, m: MetricRow) {
  await tx`delete from metric_buckets where metric_id = ${m.id}`;
  await tx`delete from metric_episodes where metric_id = ${m.id}`;
  await tx`delete from metric_lifecycle_buckets where metric_id = ${m.id}`;
  await tx`delete from metric_sketches where metric_id = ${m.id}`;
  await tx`delete from metric_open_hours where metric_id = ${m.id}`;
  await tx`delete from metric_entities where metric_id = ${m.id}`;
  await tx`delete from metric_entity_days where metric_id = ${m.id}`;
  await addJobs(tx, [job('metric__rebuild', { metric_id: m.id, version: m.version })]);
}

/** Fields whose change invalidates the rollups. */
const ROLLUP_FIELDS = ['source', 'aggregate', 'field', 'group_by', 'conditions', 'lifecycle'] as const;

export function metricView(m: MetricRow) {
  return {
    ...m.definition,
    rollup: {
      state: m.caught_up ? 'ready' : 'rebuilding',
      progress: m.caught_up ? 1 : m.rebuild_progress,
      skipped: m.skipped,
    },
    threshold_state: m.threshold_state,
    created_at: m.created_at,
    updated_at: m.updated_at,
  };
}

/** A metric's (or, with `what`, a dashboard's) key from the path, or a 400. */
export function parseKey(raw: string, what: 'metric' | 'dashboard' = 'metric'): string {
  const r = metricKey.safeParse(raw);
  if (!r.success) throw invalid(`key: "${raw.slice(0, 80)}" is not a ${what} key`, [{ path: 'key', message: r.error.issues[0].message }]);
  return r.data;
}

export async function loadMetric(sql: Sql, orgId: number, key: string): Promise<MetricRow> {
  const [m] = await sql<MetricRow[]>`select * from metric_definitions where org_id = ${orgId} and key = ${key}`;
  if (!m) throw notFound(`Metric ${key}`);
  return m;
}

/** Inserts a metric (no permission check: verbs and the preset seeding call it) and enqueues its build. */
export async function insertMetric(sql: Sql, orgId: number, def: MetricInput, opts: { ifMissing?: boolean } = {}): Promise<MetricRow | null> {
  const rows = await sql<MetricRow[]>`
    insert into metric_definitions (org_id, key, name, definition)
    values (${orgId}, ${def.key}, ${def.name}, ${sql.json(def as never)})
    on conflict (org_id, key) do nothing returning *`;
  if (!rows.length) {
    if (opts.ifMissing) return null;
    throw conflict(`A metric with key ${def.key} already exists`);
  }
  await addJobs(sql, [job('metric__rebuild', { metric_id: rows[0].id, version: rows[0].version })]);
  return rows[0];
}

export async function createMetricVerb(h: Herald, actor: Actor, body: unknown) {
  require(actor, 'dashboards:write');
  const def = parse(MetricInputSchema, body);
  return h.sql.begin(async (tx) => {
    const after = metricView((await insertMetric(tx, actor.orgId, def))!);
    await recordAudit(tx, actor, 'metric.created', { kind: 'metric', id: def.key, label: def.name }, { after });
    return after;
  });
}

export async function listMetricsVerb(h: Herald, actor: Actor) {
  require(actor, 'dashboards:read');
  const rows = await h.sql<MetricRow[]>`select * from metric_definitions where org_id = ${actor.orgId} order by key`;
  return rows.map(metricView);
}

export async function getMetricVerb(h: Herald, actor: Actor, key: string) {
  require(actor, 'dashboards:read');
  return metricView(await loadMetric(h.sql, actor.orgId, parseKey(key)));
}

export async function patchMetricVerb(h: Herald, actor: Actor, key: string, body: unknown) {
  require(actor, 'dashboards:write');
  const k = parseKey(key);
  const patch = parse(MetricPatchSchema, body);
  if ('key' in patch && patch.key !== k) throw invalid('key: a metric key cannot change', [{ path: 'key', message: 'a metric key cannot change' }]);
  return h.sql.begin(async (tx) => {
    await lockRollups(tx);
    const [cur] = await tx<MetricRow[]>`select * from metric_definitions where org_id = ${actor.orgId} and key = ${k} for update`;
    if (!cur) throw notFound(`Metric ${k}`);
    const merged: Record<string, unknown> = { ...cur.definition, ...patch, key: k };
    for (const [f, v] of Object.entries(patch)) if (v === null) delete merged[f];
    // A lifecycle metric turned into a bucketed one (or back) drops the other shape's fields.
    if (merged.aggregate === 'lifecycle') { delete merged.source; delete merged.group_by; delete merged.conditions; }
    else delete merged.lifecycle;
    const def = parse(MetricInputSchema, merged);
    const rebuild = ROLLUP_FIELDS.some((f) => JSON.stringify((cur.definition as Record<string, unknown>)[f]) !== JSON.stringify((def as Record<string, unknown>)[f]));
    const [m] = await tx<MetricRow[]>`
      update metric_definitions set name = ${def.name}, definition = ${tx.json(def as never)}, ${rebuild ? resetColumns(tx) : tx``} updated_at = now()
      where id = ${cur.id} returning *`;
    if (rebuild) await clearRollups(tx, m);
    await recordAudit(tx, actor, 'metric.updated', { kind: 'metric', id: k, label: m.name }, { before: metricView(cur), after: metricView(m) });
    return metricView(m);
  });
}

export async function deleteMetricVerb(h: Herald, actor: Actor, key: string) {
  require(actor, 'dashboards:write');
  const k = parseKey(key);
  await h.sql.begin(async (tx) => {
    await lockRollups(tx);
    const users = await tx<{ key: string }[]>`
      select key from dashboards where org_id = ${actor.orgId} and widgets @> ${tx.json([{ metric: k }] as never)} order by key`;
    if (users.length) throw conflict(`Metric ${k} is shown on dashboard${users.length > 1 ? 's' : ''} ${users.map((u) => u.key).join(', ')}; remove those widgets first`);
    const [row] = await tx<MetricRow[]>`delete from metric_definitions where org_id = ${actor.orgId} and key = ${k} returning *`;
    if (!row) throw notFound(`Metric ${k}`);
    await recordAudit(tx, actor, 'metric.deleted', { kind: 'metric', id: k, label: row.name }, { before: metricView(row) });
  });
}

/** Asks for a rebuild of a metric (POST /v1/metrics/:key/rebuild): its rollups are recomputed from events. */
export async function rebuildMetricVerb(h: Herald, actor: Actor, key: string) {
  require(actor, 'dashboards:write');
  const k = parseKey(key);
  return h.sql.begin(async (tx) => {
    await lockRollups(tx);
    const [m] = await tx<MetricRow[]>`
      update metric_definitions set ${resetColumns(tx)} updated_at = now()
      where org_id = ${actor.orgId} and key = ${k} returning *`;
    if (!m) throw notFound(`Metric ${k}`);
    await clearRollups(tx, m);
    await recordAudit(tx, actor, 'metric.rebuilt', { kind: 'metric', id: k, label: m.name }, { after: metricView(m) });
    return metricView(m);
  });
}
