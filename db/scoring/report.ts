// What the `scores` report kind (db/reports/kinds/scores.ts) reads of a score: the selection the ranking's
// filters make (GET /v1/scores/:key/entities: below, above, q, crossed), its figures (count, mean, median,
// min, max, how many are past each threshold), its distribution, the movers over a period (from the value
// history: the last value at or before the period's end minus the last one at or before its start), and its
// rows in rank order. Reads only; needs the score read permission like the score page.
import type { Herald } from '../herald';
import type { Sql } from '../platform/sql';
import { require, type Actor } from '../actor';
import { READ_PERMISSION } from './entities';
import { clampRange } from './compute';
import { loadScore, parseScoreKey, rankFilter, type RankFilters } from './verbs';
import type { ExplanationItem, ScoreRow, Threshold } from './schema';

export interface ScoreSelection extends RankFilters {
  order: 'asc' | 'desc';
  /** Only the first `top` entities in rank order (the table and the files); the figures cover the whole selection. */
  top?: number;
}

export interface ScoreMover { id: string; name: string | null; start: number; end: number; change: number }

export interface ScoreReportSummary {
  score: ScoreRow;
  count: number;
  mean: number | null;
  median: number | null;
  min: number | null;
  max: number | null;
  thresholds: Array<Threshold & { count: number }>;
  range: [number, number];
  distribution: Array<{ from: number; to: number; n: number }>;
  movers: { up: ScoreMover[]; down: ScoreMover[]; compared: number };
}

export interface ScoreReportRow {
  rank: number; id: string; name: string | null; value: number; at: Date; past: string[]; explanation: ExplanationItem[];
  /** The value at the period's end minus the value at its start (null: no value before the period). */
  change: number | null;
}

const MOVERS = 5;
const PAGE = 1000;

const selectionFrom = (sql: Sql, s: ScoreRow) =>
  sql`score_values v left join entities e on e.org_id = ${s.org_id} and e.kind = ${s.entity_kind} and e.id = v.entity_id`;

/** The value an entity had at `t`: its last history row at or before it. */
const valueAt = (sql: Sql, t: Date) =>
  sql`(select x.value from score_history x where x.score_id = v.score_id and x.entity_id = v.entity_id and x.at <= ${t} order by x.at desc limit 1)`;

export async function loadReportScore(h: Herald, actor: Actor, rawKey: string): Promise<ScoreRow> {
  require(actor, READ_PERMISSION);
  return loadScore(h.sql, actor.orgId, parseScoreKey(rawKey));
}

export async function scoreReportSummary(h: Herald, actor: Actor, rawKey: string, f: ScoreSelection, period: { from: Date; to: Date }): Promise<ScoreReportSummary> {
  const s = await loadReportScore(h, actor, rawKey);
  const sql = h.sql;
  const where = sql`v.score_id = ${s.id} ${rankFilter(sql, f)}`;
  const [st] = await sql<{ n: number; mean: number | null; median: number | null; min: number | null; max: number | null }[]>`
    select count(*)::int as n, avg(v.value)::float8 as mean, percentile_cont(0.5) within group (order by v.value)::float8 as median,
      min(v.value) as min, max(v.value) as max
    from ${selectionFrom(sql, s)} where ${where}`;
  const thresholds: ScoreReportSummary['thresholds'] = [];
  for (const t of s.definition.thresholds ?? []) {
    const [{ n }] = await sql<{ n: number }[]>`
      select count(*)::int as n from ${selectionFrom(sql, s)} where ${where}
        and ${t.below !== undefined ? sql`v.value < ${t.below}` : sql`v.value > ${t.above!}`}`;
    thresholds.push({ ...t, count: n });
  }
  const range = clampRange(s.definition) ?? [st.min ?? 0, st.max ?? 0];
  const lo = range[0];
  const hi = range[1] > lo ? range[1] : lo + 1;
  const width = (hi - lo) / 10;
  const bins = await sql<{ b: number; n: number }[]>`
    select least(9, greatest(0, floor((v.value - ${lo}) / ${width})))::int as b, count(*)::int as n
    from ${selectionFrom(sql, s)} where ${where} group by 1 order by 1`;
  const distribution = Array.from({ length: 10 }, (_, b) => ({ from: lo + b * width, to: lo + (b + 1) * width, n: bins.find((x) => x.b === b)?.n ?? 0 }));

  const changes = sql`
    select v.entity_id as id, e.name, ${valueAt(sql, period.from)} as start, ${valueAt(sql, period.to)} as "end"
    from ${selectionFrom(sql, s)} where ${where}`;
  // One pass over the history (two lookups per entity): the movers each way and how many could be compared.
  const movers = await sql<Array<ScoreMover & { dir: 'up' | 'down' | 'none'; compared: number }>>`
    with c as materialized (select id, name, start, "end", "end" - start as change from (${changes}) x where start is not null and "end" is not null),
    n as (select count(*)::int as compared from c)
    (select 'up' as dir, c.*, n.compared from c, n where change > 0 order by change desc, id limit ${MOVERS})
    union all
    (select 'down' as dir, c.*, n.compared from c, n where change < 0 order by change asc, id limit ${MOVERS})
    union all
    (select 'none' as dir, null, null, null, null, null, n.compared from n)`;
  const compared = movers.find((m) => m.dir === 'none')!.compared;
  const round = (x: number) => Math.round(x * 100) / 100;
  const mover = (m: ScoreMover) => ({ id: m.id, name: m.name, start: m.start, end: m.end, change: round(m.change) });
  return {
    score: s, count: st.n, mean: st.mean === null ? null : round(st.mean), median: st.median === null ? null : round(st.median), min: st.min, max: st.max,
    thresholds, range: [lo, hi], distribution,
    movers: { up: movers.filter((m) => m.dir === 'up').map(mover), down: movers.filter((m) => m.dir === 'down').map(mover), compared },
  };
}

/** The selection in rank order (ties by entity id, as the ranking), in pages, at most `f.top` rows. */
export async function* scoreReportRows(h: Herald, actor: Actor, rawKey: string, f: ScoreSelection, period: { from: Date; to: Date }): AsyncGenerator<ScoreReportRow[]> {
  const s = await loadReportScore(h, actor, rawKey);
  const sql = h.sql;
  const limit = f.top ?? Number.MAX_SAFE_INTEGER;
  let after: [number, string] | null = null;
  let rank = 0;
  while (rank < limit) {
    const n = Math.min(PAGE, limit - rank);
    const rows: Array<Omit<ScoreReportRow, 'rank' | 'change'> & { start: number | null; end: number | null }> = await sql`
      select v.entity_id as id, e.name, v.value, v.at, v.past, v.explanation,
        ${valueAt(sql, period.from)} as start, ${valueAt(sql, period.to)} as "end"
      from ${selectionFrom(sql, s)}
      where v.score_id = ${s.id} ${rankFilter(sql, f)}
        ${after ? (f.order === 'asc' ? sql`and (v.value, v.entity_id) > (${after[0]}, ${after[1]})` : sql`and (v.value, v.entity_id) < (${after[0]}, ${after[1]})`) : sql``}
      order by ${f.order === 'asc' ? sql`v.value asc, v.entity_id asc` : sql`v.value desc, v.entity_id desc`}
      limit ${n}`;
    if (!rows.length) return;
    yield rows.map(({ start, end, ...r }) => ({
      ...r, rank: ++rank, explanation: (r.explanation ?? []) as ExplanationItem[],
      change: start === null || end === null ? null : Math.round((end - start) * 100) / 100,
    }));
    if (rows.length < n) return;
    const last = rows[rows.length - 1];
    after = [last.value, last.id];
  }
}
