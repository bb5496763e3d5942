// Keeping score values current, and telling people when one crosses a threshold.
//
// Invariant: a value, its history row and the threshold event it causes commit together, under a lock on
// the score's row (FOR NO KEY UPDATE, taken by every writer of the score's values: the incremental job and
// each recompute-all chunk), so two writers can never both see the old value and both post the crossing.
// Crossing events go through the normal ingest statement (events/ingest.ts insertEvents) inside that same
// transaction: exactly once, and the rules route them like any event.
//
// A crossing is a threshold entering the set the value is past (`past`); leaving it re-arms the threshold and
// posts a `resolve` with the same dedup key. A second drop without recovery changes nothing. A first value
// already past a threshold counts as a crossing (docs/design.md).
//
// The incremental job follows events after its own high-water mark (score_state), like the metric rollups:
// one transaction applies a batch to the entities, rescores the touched ones and moves the mark.
import type { Pool, Sql } from '../platform/sql';
import type { EventInput } from '../events/schema';
import { insertEvents } from '../events/ingest';
import { eventsAfter } from '../events/feed';
import { settledPrefix } from '../metrics/rollup';
import { log } from '../platform/log';
import { applyEvents, countEntities, entityChunk, lastDayOf, loadEntities, typeCounts } from './entities';
import { computeFactors, computeModel, crossingTitle, pastOf, recoveryTitle, thresholdId, thresholdOf, topFactors, type Computed, type EntityState } from './compute';
import type { ScoreRow } from './schema';

export const RECOMPUTE_BATCH = 5000;
export const ALL_CHUNK = 10_000;

interface OldValue { entity_id: string; value: number; past: string[]; explanation: unknown }
interface Row { entity_id: string; value: number; explanation: unknown; past: string[]; crossed: boolean }

const samePast = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Equality as jsonb compares (what `is distinct from` on the stored explanation said before): arrays in order,
 * objects by key whatever their order, a key whose value is undefined absent (JSON.stringify drops it).
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => sameJson(x, bb[i]));
  }
  const ao = a as Record<string, unknown>, bo = b as Record<string, unknown>;
  const ka = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const kb = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(bo, k) && sameJson(ao[k], bo[k]));
}

/** Locks the score's row for writing its values (see the invariant) and returns it fresh; null when deleted. */
export async function lockScore(tx: Sql, scoreId: number): Promise<ScoreRow | null> {
  const [s] = await tx<ScoreRow[]>`select * from scores where id = ${scoreId} for no key update`;
  return s ?? null;
}

/** Entities of a model score whose outcome is known are not predicted (they are the training data). */
async function openOnly(tx: Sql, s: ScoreRow, ids: string[]): Promise<Set<string>> {
  const m = s.definition.model!;
  const pos = await lastDayOf(tx, s.org_id, s.entity_kind, ids, m.outcome.positive.category, m.outcome.positive.type);
  const neg = await lastDayOf(tx, s.org_id, s.entity_kind, ids, m.outcome.negative.category, m.outcome.negative.type);
  return new Set(ids.filter((id) => !pos.has(id) && !neg.has(id)));
}

/**
 * Computes the score for the given entities and writes what changed: values, history, crossing events.
 * Caller's transaction, with the score locked (lockScore).
 */
export async function scoreEntities(tx: Sql, s: ScoreRow, entities: EntityState[]): Promise<{ scored: number; changed: number; crossings: number }> {
  if (!entities.length) return { scored: 0, changed: 0, crossings: 0 };
  const def = s.definition;
  let list = entities;
  if (def.model) {
    if (!s.model) return { scored: 0, changed: 0, crossings: 0 };
    const open = await openOnly(tx, s, entities.map((e) => e.id));
    list = entities.filter((e) => open.has(e.id));
    if (!list.length) return { scored: 0, changed: 0, crossings: 0 };
  }
  const ids = list.map((e) => e.id);
  const counts = new Map<string, Map<string, number>>();
  for (const f of def.factors) {
    if (!('count' in f)) continue;
    const k = `${f.count.category}\u0000${f.count.type}\u0000${f.count.days}`;
    if (!counts.has(k)) counts.set(k, await typeCounts(tx, s.org_id, s.entity_kind, ids, f.count.category, f.count.type, f.count.days));
  }
  const olds = await tx<OldValue[]>`select entity_id, value, past, explanation from score_values where score_id = ${s.id} and entity_id = any(${ids}::text[])`;
  const old = new Map(olds.map((o) => [o.entity_id, o]));
  // Only what changed is written: new values (inserted), changed ones (updated); an unchanged value (same
  // number, thresholds and explanation) is not touched, so a nightly run over a quiet kind writes almost nothing.
  const fresh: Row[] = [];
  const changed: Row[] = [];
  const history: Array<{ entity_id: string; value: number; previous: number | null }> = [];
  const events: EventInput[] = [];
  for (const e of list) {
    let c: Computed;
    if (def.model) c = computeModel(s.model!, e);
    else c = computeFactors(def, e, (cat, type, days) => counts.get(`${cat}\u0000${type}\u0000${days}`)?.get(e.id) ?? 0);
    const o = old.get(e.id);
    const past = pastOf(def.thresholds, c.value);
    const before = new Set(o?.past ?? []);
    const crossed = past.filter((i) => !before.has(i));
    const recovered = [...before].filter((i) => !past.includes(i));
    const row = { entity_id: e.id, value: c.value, explanation: c.explanation, past, crossed: crossed.length > 0 };
    if (!o) fresh.push(row);
    else if (o.value !== c.value || !samePast(o.past, past) || !sameJson(o.explanation, c.explanation)) changed.push(row);
    if (!o || o.value !== c.value) history.push({ entity_id: e.id, value: c.value, previous: o ? o.value : null });
    const name = e.name ?? e.id;
    const entity = { kind: e.kind, id: e.id, ...(e.name ? { name: e.name } : {}) };
    const dedup = (tid: string) => `scoring/${s.key}/${e.kind}:${e.id}/${tid}`.slice(0, 255);
    for (const tid of crossed) {
      const t = def.thresholds.find((x) => thresholdId(x) === tid)!;
      const top = topFactors(c.explanation, t.below !== undefined ? 'down' : 'up');
      events.push({
        category: 'scoring', type: 'threshold_crossed', action: 'trigger', severity: t.severity, dedup_key: dedup(tid), entity,
        title: crossingTitle(s.name, name, t, c.value, top),
        metadata: {
          score: s.key, score_name: s.name, entity_kind: e.kind, entity_id: e.id, entity_name: name,
          threshold: t, old_value: o ? o.value : null, new_value: c.value, top_factors: top,
        },
      } as EventInput);
    }
    for (const tid of recovered) {
      const current = def.thresholds.find((x) => thresholdId(x) === tid);
      const t = current ?? thresholdOf(tid);
      if (!t) continue;
      events.push({
        category: 'scoring', type: 'threshold_crossed', action: 'resolve', severity: 'info', dedup_key: dedup(tid), entity,
        title: recoveryTitle(s.name, name, t, c.value, !current),
        metadata: { score: s.key, score_name: s.name, entity_kind: e.kind, entity_id: e.id, entity_name: name, threshold: t, old_value: o ? o.value : null, new_value: c.value, recovered: true, threshold_removed: !current },
      } as EventInput);
    }
  }
  // Threshold ids (`below:40`) hold no characters that need quoting in an array literal. The rows go as one
  // JSON text behind `offset 0`: cast directly (`$1::text::json`), the planner would fold the cast and parse
  // megabytes of JSON once more while planning (EXPLAIN: 40–90 ms of planning per 10,000 rows).
  const asJson = (rows: Row[]) => JSON.stringify(rows.map((r) => ({ ...r, past: `{${r.past.join(',')}}` })));
  if (fresh.length) {
    // New under the score's lock (no other writer can add them meanwhile): a plain insert, no conflict check.
    await tx`
      insert into score_values (score_id, entity_id, value, explanation, past, crossed_at, at)
      select ${s.id}, entity_id, value, explanation, past::text[], case when crossed then now() end, now()
      from (select ${asJson(fresh)}::text as j offset 0) q, json_to_recordset(q.j::json)
        as t(entity_id text, value float8, explanation jsonb, past text, crossed boolean)`;
  }
  if (changed.length) {
    changed.sort((a, b) => (a.entity_id < b.entity_id ? -1 : 1));
    await tx`
      update score_values as v set value = t.value, explanation = t.explanation, past = t.past::text[],
        crossed_at = case when t.crossed then now() else v.crossed_at end, at = now()
      from (select ${asJson(changed)}::text as j offset 0) q, json_to_recordset(q.j::json)
        as t(entity_id text, value float8, explanation jsonb, past text, crossed boolean)
      where v.score_id = ${s.id} and v.entity_id = t.entity_id`;
  }
  if (history.length) {
    await tx`
      insert into score_history (score_id, entity_id, value, previous)
      select ${s.id}, entity_id, value, previous from (select ${JSON.stringify(history)}::text as j offset 0) q, json_to_recordset(q.j::json) as t(entity_id text, value float8, previous float8)`;
  }
  if (events.length) await insertEvents(tx, s.org_id, events);
  return { scored: list.length, changed: history.length, crossings: events.filter((x) => x.action === 'trigger').length };
}

/**
 * One incremental run: the next settled batch of events applied to their entities, every score of the
 * touched entities' kinds recomputed for them, the mark moved: one transaction. Returns how many events it
 * passed (a full batch means more are waiting).
 */
export async function recomputeOnce(pool: Pool): Promise<{ passed: number; entities: number }> {
  return pool.begin(async (tx) => {
    const [state] = await tx<{ hwm: number }[]>`select hwm from score_state where id = 1 for update`;
    const hwm = Number(state.hwm);
    const rows = await eventsAfter(tx, hwm, RECOMPUTE_BATCH);
    const mark = settledPrefix(hwm, rows, Date.now());
    const batch = rows.filter((r) => Number(r.id) <= mark);
    const touched = await applyEvents(tx, batch);
    let entities = 0;
    for (const g of [...touched.values()].sort((a, b) => a.orgId - b.orgId || (a.kind < b.kind ? -1 : 1))) {
      entities += g.ids.length;
      const ids = await tx<{ id: number }[]>`select id from scores where org_id = ${g.orgId} and entity_kind = ${g.kind} order by id`;
      if (!ids.length) continue;
      const list = await loadEntities(tx, g.orgId, g.kind, g.ids);
      for (const { id } of ids) {
        const s = await lockScore(tx, Number(id));
        if (s) await scoreEntities(tx, s, list);
      }
    }
    if (mark !== hwm) await tx`update score_state set hwm = ${mark} where id = 1`;
    return { passed: batch.length, entities };
  });
}

export interface RunRow {
  id: number; score_id: number; kind: 'recompute' | 'train'; status: string; reason: string; total: number; done: number;
  progress: number; result: unknown; error: string | null; created_at: Date; started_at: Date | null; finished_at: Date | null;
}

export async function startRun(sql: Sql, runId: number, total: number) {
  await sql`update score_runs set status = 'running', started_at = coalesce(started_at, now()), total = ${total}, done = 0, progress = 0 where id = ${runId}`;
}

export async function finishRun(sql: Sql, runId: number, status: 'succeeded' | 'failed', result: unknown, error: string | null = null) {
  await sql`update score_runs set status = ${status}, result = ${sql.json((result ?? null) as never)}, error = ${error},
    progress = case when ${status} = 'succeeded' then 1 else progress end, finished_at = now() where id = ${runId}`;
}

/**
 * Recomputes every entity of the score's kind, chunk by chunk (each chunk its own transaction with the score
 * locked, progress written with it). A run that is no longer queued or running exits quietly (stale job).
 */
export async function recomputeAll(pool: Pool, scoreId: number, runId: number | null, opts: { progressFrom?: number; progressSpan?: number } = {}): Promise<{ entities: number; scored: number; changed: number; crossings: number; ms: number } | null> {
  const t0 = Date.now();
  const [s0] = await pool<ScoreRow[]>`select * from scores where id = ${scoreId}`;
  if (!s0) return null;
  const total = await countEntities(pool, s0.org_id, s0.entity_kind);
  const from = opts.progressFrom ?? 0;
  const span = opts.progressSpan ?? 1;
  if (runId !== null && from === 0) await pool`update score_runs set status = 'running', started_at = coalesce(started_at, now()), total = ${total} where id = ${runId}`;
  let after: string | null = null;
  const sum = { entities: 0, scored: 0, changed: 0, crossings: 0 };
  for (;;) {
    const r: { n: number; last: string | null; gone: boolean } = await pool.begin(async (tx) => {
      const s = await lockScore(tx, scoreId);
      if (!s) return { n: 0, last: null, gone: true };
      const chunk = await entityChunk(tx, s.org_id, s.entity_kind, after, ALL_CHUNK);
      const done = await scoreEntities(tx, s, chunk);
      sum.scored += done.scored; sum.changed += done.changed; sum.crossings += done.crossings; sum.entities += chunk.length;
      if (runId !== null) {
        await tx`update score_runs set done = ${sum.entities}, total = greatest(total, ${sum.entities}),
          progress = ${from + span * (total ? Math.min(1, sum.entities / total) : 1)} where id = ${runId}`;
      }
      return { n: chunk.length, last: chunk.length ? chunk[chunk.length - 1].id : null, gone: false };
    });
    if (r.gone) { log.info('score deleted during recompute', { score_id: scoreId }); return null; }
    if (r.n < ALL_CHUNK) break;
    after = r.last;
  }
  return { ...sum, ms: Date.now() - t0 };
}
