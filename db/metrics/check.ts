// Telling people when a number goes wrong: thresholds (with hysteresis) and seasonal anomalies post ordinary
// events through the normal ingest path, so the rules route them like any other (kpi/threshold_crossed,
// kpi/anomaly; entity = the metric).
//
// Hysteresis: a metric's state is ok, warn or crit. A value worse than the state's level posts one event and
// moves the state up; a value between warn and crit while in crit changes nothing; only a value back past
// warn re-arms (state ok, and a `resolve` event with the same dedup key resolves the alert). So one crossing
// raises one alert, however often the check runs.
//
// Exactly once: each post carries an idempotency key derived from the crossing number (thresholds) or the
// hour (anomalies), and the state moves after the event is accepted: a crash in between re-posts with the
// same key, which the ingestor answers from its stored response instead of adding a second event.
import type { Herald } from '../herald';
import type { Sql } from '../platform/sql';
import { EventIngestor } from '../events/ingest';
import type { EventInput } from '../events/schema';
import { log } from '../platform/log';
import { windowMs, type MetricRow } from './schema';
import { hourValues, lifecycleMeasure, rangeValue } from './query';

type Level = 'ok' | 'warn' | 'crit';
const RANK: Record<Level, number> = { ok: 0, warn: 1, crit: 2 };

/** The level a value is at: past crit, past warn, or ok (`good` says which side is bad). */
export function levelOf(value: number | null, t: { warn: number; crit: number }, good: 'up' | 'down'): Level {
  if (value === null) return 'ok';
  const bad = (limit: number) => (good === 'down' ? value >= limit : value <= limit);
  return bad(t.crit) ? 'crit' : bad(t.warn) ? 'warn' : 'ok';
}

/** The value thresholds compare: the window's value, or a lifecycle metric's chosen measure. */
export async function thresholdValue(sql: Sql, m: MetricRow, now = Date.now()): Promise<number | null> {
  const t = m.definition.thresholds!;
  const from = now - windowMs(t.window);
  if (m.definition.aggregate === 'lifecycle') return lifecycleMeasure(sql, m, t.on ?? 'value', from, now);
  return (await rangeValue(sql, m, from, now)).value;
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2));

/** Posts a kpi/* event once per key: the idempotency key (owned by the metric checker) makes a re-run a no-op. */
async function post(ing: EventIngestor, orgId: number, e: EventInput, key: string) {
  await ing.accept(orgId, [e], { key, owner: 'system:metric__check', hash: key });
}

export async function checkThresholds(h: Herald, ing: EventIngestor, m: MetricRow, now = Date.now()) {
  const def = m.definition;
  const t = def.thresholds;
  if (!t || !m.caught_up) return;
  const value = await thresholdValue(h.sql, m, now);
  const level = levelOf(value, t, def.good);
  const state = m.threshold_state;
  const measure = t.on && t.on !== 'value' ? ` (${t.on})` : '';
  const unit = def.unit ? ` ${def.unit}` : '';
  const entity = { kind: 'metric', id: def.key, name: def.name };
  const dedup = `kpi/threshold/${def.key}`;
  if (RANK[level] > RANK[state]) {
    const limit = level === 'crit' ? t.crit : t.warn;
    const dir = def.good === 'down' ? 'above' : 'below';
    const seq = m.crossings + 1;
    await post(ing, m.org_id, {
      category: 'kpi', type: 'threshold_crossed', action: 'trigger', dedup_key: dedup, entity,
      severity: level === 'crit' ? 'critical' : 'warning',
      title: `${def.name}${measure} ${dir} ${fmt(limit)}${unit}: ${value === null ? 'n/a' : fmt(value)}${unit}`,
      metadata: { metric: def.key, level, value, threshold: limit, warn: t.warn, crit: t.crit, good: def.good, window: t.window, measure: t.on ?? 'value', unit: def.unit ?? null },
    } as EventInput, `kpi-threshold-${m.id}-${seq}`);
    await h.sql`update metric_definitions set threshold_state = ${level}, crossings = ${seq} where id = ${m.id} and crossings = ${m.crossings}`;
  } else if (level === 'ok' && state !== 'ok') {
    // Back past warn: re-armed, and the alert it raised is resolved.
    const seq = m.crossings + 1;
    await post(ing, m.org_id, {
      category: 'kpi', type: 'threshold_crossed', action: 'resolve', dedup_key: dedup, entity, severity: 'info',
      title: `${def.name}${measure} back within its thresholds: ${value === null ? 'n/a' : fmt(value)}${unit}`,
      metadata: { metric: def.key, level: 'ok', value, warn: t.warn, crit: t.crit, good: def.good, window: t.window, measure: t.on ?? 'value', unit: def.unit ?? null },
    } as EventInput, `kpi-threshold-${m.id}-${seq}`);
    await h.sql`update metric_definitions set threshold_state = 'ok', crossings = ${seq} where id = ${m.id} and crossings = ${m.crossings}`;
  }
}

export const ANOMALY_WEEKS = 8;
export const ANOMALY_MIN_WEEKS = 3;
const HOUR = 3_600_000;
const WEEK = 7 * 24 * HOUR;

/**
 * The last complete hour against the same hour of the week in the previous ANOMALY_WEEKS weeks: an anomaly
 * when it is further than `sensitivity` standard deviations from their mean (the deviation floored at 10% of
 * the mean, and at 1, so a perfectly flat history does not flag every wobble). Needs 3 weeks of history.
 */
export async function checkAnomaly(h: Herald, ing: EventIngestor, m: MetricRow, now = Date.now()) {
  const def = m.definition;
  if (!def.anomaly || def.aggregate === 'lifecycle' || !m.caught_up) return;
  const hour = Math.floor(now / HOUR) * HOUR - HOUR;
  const starts = [hour, ...Array.from({ length: ANOMALY_WEEKS }, (_, i) => hour - (i + 1) * WEEK)];
  const values = await valuesSinceFirst(h, m, starts);
  const x = values[0];
  const past = values.slice(1).filter((v): v is number => v !== null);
  if (x === null || past.length < ANOMALY_MIN_WEEKS) return;
  // Weeks without any rollup row count as zero for counts and sums (nothing happened); else they are unknown.
  const mean = past.reduce((s, v) => s + v, 0) / past.length;
  const sd = Math.sqrt(past.reduce((s, v) => s + (v - mean) ** 2, 0) / Math.max(1, past.length - 1));
  const floor = Math.max(sd, Math.abs(mean) * 0.1, 1);
  const z = (x - mean) / floor;
  if (Math.abs(z) <= def.anomaly.sensitivity) return;
  const at = new Date(hour).toISOString();
  await post(ing, m.org_id, {
    category: 'kpi', type: 'anomaly', action: 'trigger', dedup_key: `kpi/anomaly/${def.key}/${at}`,
    entity: { kind: 'metric', id: def.key, name: def.name }, severity: 'warning',
    title: `${def.name} ${z > 0 ? 'unusually high' : 'unusually low'} at ${at.slice(0, 13)}:00Z: ${fmt(x)} against a usual ${fmt(mean)}`,
    metadata: { metric: def.key, hour: at, value: x, baseline_mean: Math.round(mean * 1e4) / 1e4, baseline_sd: Math.round(sd * 1e4) / 1e4, z: Math.round(z * 100) / 100, sensitivity: def.anomaly.sensitivity, weeks: past.length },
  } as EventInput, `kpi-anomaly-${m.id}-${at}`);
}

/** The metric's value in each given hour (null when the hour has no rollup row and the aggregate has no zero). */
async function valuesSinceFirst(h: Herald, m: MetricRow, starts: number[]): Promise<Array<number | null>> {
  // Only weeks the metric existed in count (an hour before the first rollup row is not a zero).
  const [first] = await h.sql<{ t: Date | null }[]>`select min(t) as t from metric_buckets where metric_id = ${m.id} and grain = 'h'`;
  const since = first?.t?.getTime() ?? Infinity;
  const values = await hourValues(h.sql, m, starts);
  return starts.map((s, i) => (s < since ? null : values[i]));
}

/** The minute check: every metric with thresholds or anomaly detection. */
export async function checkAll(h: Herald, now = Date.now()) {
  const metrics = await h.sql<MetricRow[]>`
    select * from metric_definitions where caught_up and (definition ? 'thresholds' or definition ? 'anomaly') order by id`;
  if (!metrics.length) return;
  const ing = new EventIngestor(h.sql);
  for (const m of metrics) {
    try {
      await checkThresholds(h, ing, m, now);
      await checkAnomaly(h, ing, m, now);
    } catch (e) {
      log.warn('metric check failed', { metric: m.key, error: (e as Error).message });
    }
  }
}
