// Score definitions and what they rank (docs/design.md "Scoring"). Editing needs scores:write; reading needs
// dashboards:read (READ_PERMISSION), which every built-in role holds, like the dashboards scores sit beside.
// A definition change bumps the version and enqueues its recompute (or, for a model, its training) in the
// same transaction: without that a changed score would keep values computed under its old definition.
import { z } from 'zod';
import type { Actor } from '../actor';
import { require } from '../actor';
import { conflict, invalid, notFound, parse } from '../errors';
import type { Herald } from '../herald';
import type { Sql } from '../platform/sql';
import { addJobs, job } from '../jobs/enqueue';
import { finite } from './numbers';
import { getEntityBase, parseQuery, READ_PERMISSION } from './entities';
import { clampRange } from './compute';
import { ScoreInputSchema, scoreKey, type ScoreRow } from './schema';
import type { RunRow } from './recompute';
import { text } from '../platform/input';
import { recordAudit } from '../audit/record';

/** What the audit trail keeps of a score: its definition and version (not the trained model's numbers). */
const auditView = (s: ScoreRow) => ({ ...s.definition, key: s.key, version: s.version });

export function parseScoreKey(raw: string): string {
  const r = scoreKey.safeParse(raw);
  if (!r.success) throw invalid(`key: "${raw.slice(0, 80)}" is not a score key`, [{ path: 'key', message: r.error.issues[0].message }]);
  return r.data;
}

export async function loadScore(sql: Sql, orgId: number, key: string): Promise<ScoreRow> {
  const [s] = await sql<ScoreRow[]>`select * from scores where org_id = ${orgId} and key = ${key}`;
  if (!s) throw notFound(`Score ${key}`);
  return s;
}

export function scoreView(s: ScoreRow, extra: Record<string, unknown> = {}) {
  const m = s.model;
  return {
    ...s.definition,
    key: s.key,
    version: s.version,
    ...(s.definition.model ? {
      model: {
        ...s.definition.model,
        version: m?.version ?? null, trained_at: m?.trained_at ?? null, samples: m?.samples ?? 0, auc: m?.auc ?? null,
        coefficients: m?.coefficients ?? null, calibration: m?.calibration ?? null,
      },
    } : {}),
    created_at: s.created_at,
    updated_at: s.updated_at,
    ...extra,
  };
}

/** Creates a run row and enqueues its job (caller's transaction). An unfinished run of the same kind is reused. */
export async function queueRun(tx: Sql, s: ScoreRow, kind: 'recompute' | 'train', reason: string): Promise<number> {
  const [open] = await tx<{ id: number }[]>`select id from score_runs where score_id = ${s.id} and kind = ${kind} and status = 'queued' order by id desc limit 1`;
  if (open) return Number(open.id);
  const [run] = await tx<{ id: number }[]>`insert into score_runs (score_id, kind, reason) values (${s.id}, ${kind}, ${reason}) returning id`;
  const id = Number(run.id);
  await addJobs(tx, [kind === 'train' ? job('model__train', { score_id: s.id, run_id: id }) : job('score__recompute_all', { score_id: s.id, run_id: id })]);
  return id;
}

/** What a (re)defined score needs: a model is trained first (which then predicts), else values are recomputed. */
const freshRun = (tx: Sql, s: ScoreRow, reason: string) => queueRun(tx, s, s.definition.model ? 'train' : 'recompute', reason);

export async function createScoreVerb(h: Herald, actor: Actor, body: unknown) {
  require(actor, 'scores:write');
  const def = parse(ScoreInputSchema, body);
  return h.sql.begin(async (tx) => {
    const rows = await tx<ScoreRow[]>`
      insert into scores (org_id, key, name, entity_kind, definition) values (${actor.orgId}, ${def.key}, ${def.name}, ${def.entity_kind}, ${tx.json(def as never)})
      on conflict (org_id, key) do nothing returning *`;
    if (!rows.length) throw conflict(`A score with key ${def.key} already exists`);
    const run = await freshRun(tx, rows[0], 'defined');
    await recordAudit(tx, actor, 'score.created', { kind: 'score', id: rows[0].key, label: rows[0].name }, { after: auditView(rows[0]) });
    return scoreView(rows[0], { run_id: run });
  });
}

export async function listScoresVerb(h: Herald, actor: Actor) {
  require(actor, READ_PERMISSION);
  const rows = await h.sql<Array<ScoreRow & { entities: number }>>`
    select s.*, (select count(*)::int from score_values v where v.score_id = s.id) as entities
    from scores s where org_id = ${actor.orgId} order by key`;
  return rows.map((s) => scoreView(s, { entities: s.entities }));
}

export async function getScoreVerb(h: Herald, actor: Actor, rawKey: string) {
  require(actor, READ_PERMISSION);
  const s = await loadScore(h.sql, actor.orgId, parseScoreKey(rawKey));
  const [{ n }] = await h.sql<{ n: number }[]>`select count(*)::int as n from score_values where score_id = ${s.id}`;
  const [{ k }] = await h.sql<{ k: number }[]>`select count(*)::int as k from entities where org_id = ${s.org_id} and kind = ${s.entity_kind}`;
  const runs = await h.sql<RunRow[]>`select * from score_runs where score_id = ${s.id} order by id desc limit 10`;
  const models = s.definition.model
    ? await h.sql`select version, trained_at, status, message, samples, auc, detail from score_models where score_id = ${s.id} order by version desc limit 10`
    : [];
  const state = k === 0 ? `no ${s.entity_kind} entities yet: the score has nothing to rank until events about one arrive`
    : s.definition.model && !s.model ? 'the model is not trained yet: see its runs' : null;
  return scoreView(s, { entities: n, entities_of_kind: k, state, runs: runs.map(runView), models });
}

/** JSON with object keys sorted (jsonb does not keep the order they were written in). */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

export const Patch = z.record(z.string(), z.unknown());

export async function patchScoreVerb(h: Herald, actor: Actor, rawKey: string, body: unknown) {
  require(actor, 'scores:write');
  const key = parseScoreKey(rawKey);
  const patch = parse(Patch, body);
  if ('key' in patch && patch.key !== key) throw invalid('key: a score key cannot change', [{ path: 'key', message: 'a score key cannot change' }]);
  return h.sql.begin(async (tx) => {
    const [s] = await tx<ScoreRow[]>`select * from scores where org_id = ${actor.orgId} and key = ${key} for update`;
    if (!s) throw notFound(`Score ${key}`);
    const merged = { ...s.definition, ...patch, key };
    for (const [k, v] of Object.entries(patch)) if (v === null) delete (merged as Record<string, unknown>)[k];
    const def = parse(ScoreInputSchema, merged);
    const kindChanged = def.entity_kind !== s.entity_kind;
    // A model trained on other outcomes or features no longer fits; a change of split or minimum keeps it until a retrain succeeds.
    const learns = (m: ScoreRow['definition']['model']) => canonical(m ? [m.outcome, m.features] : null);
    const modelChanged = learns(def.model) !== learns(s.definition.model);
    const [row] = await tx<ScoreRow[]>`
      update scores set name = ${def.name}, entity_kind = ${def.entity_kind}, definition = ${tx.json(def as never)}, version = version + 1,
        model = case when ${modelChanged} then null else model end, updated_at = now()
      where id = ${s.id} returning *`;
    if (kindChanged || modelChanged) await tx`delete from score_values where score_id = ${s.id}`;
    const run = await freshRun(tx, row, 'changed');
    await recordAudit(tx, actor, 'score.updated', { kind: 'score', id: key, label: row.name }, { before: auditView(s), after: auditView(row) });
    return scoreView(row, { run_id: run });
  });
}

export async function deleteScoreVerb(h: Herald, actor: Actor, rawKey: string) {
  require(actor, 'scores:write');
  const key = parseScoreKey(rawKey);
  await h.sql.begin(async (tx) => {
    // Values and history have no foreign key (migration scoring_perf): the score is locked first, so no writer
    // (they all lock it too) adds a row between these deletes and the score's.
    const [locked] = await tx<{ id: number }[]>`select id from scores where org_id = ${actor.orgId} and key = ${key} for update`;
    if (!locked) throw notFound(`Score ${key}`);
    await tx`delete from score_values where score_id = ${locked.id}`;
    await tx`delete from score_history where score_id = ${locked.id}`;
    const [row] = await tx<ScoreRow[]>`delete from scores where id = ${locked.id} returning *`;
    if (!row) throw notFound(`Score ${key}`);
    await recordAudit(tx, actor, 'score.deleted', { kind: 'score', id: key, label: row.name }, { before: auditView(row) });
  });
}

export async function recomputeVerb(h: Herald, actor: Actor, rawKey: string) {
  require(actor, 'scores:write');
  const key = parseScoreKey(rawKey);
  return h.sql.begin(async (tx) => {
    const s = await loadScore(tx, actor.orgId, key);
    return { run_id: await queueRun(tx, s, 'recompute', 'manual') };
  });
}

export async function trainVerb(h: Herald, actor: Actor, rawKey: string) {
  require(actor, 'scores:write');
  const key = parseScoreKey(rawKey);
  return h.sql.begin(async (tx) => {
    const s = await loadScore(tx, actor.orgId, key);
    if (!s.definition.model) throw invalid(`Score ${key} is not a model: it has factors, nothing to train`, [{ path: 'model', message: 'not a model score' }]);
    return { run_id: await queueRun(tx, s, 'train', 'manual') };
  });
}

export function runView(r: RunRow) {
  return {
    id: Number(r.id), kind: r.kind, status: r.status, reason: r.reason, total: r.total, done: r.done, progress: r.progress,
    result: r.result, error: r.error, created_at: r.created_at, started_at: r.started_at, finished_at: r.finished_at,
  };
}

export async function getRunVerb(h: Herald, actor: Actor, rawKey: string, runId: number) {
  require(actor, READ_PERMISSION);
  const s = await loadScore(h.sql, actor.orgId, parseScoreKey(rawKey));
  const [r] = await h.sql<RunRow[]>`select * from score_runs where id = ${runId} and score_id = ${s.id}`;
  if (!r) throw notFound(`Run ${runId} of score ${s.key}`);
  return runView(r);
}

export const RankQuery = z.object({
  order: z.enum(['asc', 'desc']).default('desc'),
  below: finite.optional(),
  above: finite.optional(),
  q: text().max(200).optional(),
  crossed: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: text().max(600).optional(),
}).strip();

function rankCursor(c: string | undefined): [number, string] | null {
  if (!c) return null;
  try {
    const v = JSON.parse(Buffer.from(c, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && Number.isFinite(v[0]) && typeof v[1] === 'string') return [v[0], v[1]];
  } catch { /* below */ }
  throw invalid('cursor: not a cursor this list gave', [{ path: 'cursor', message: 'not a cursor this list gave' }]);
}

export type RankFilters = Pick<z.output<typeof RankQuery>, 'below' | 'above' | 'q' | 'crossed'>;

/** The ranking's value filters over `score_values v` joined to `entities e` (also the scores report's selection). */
export function rankFilter(sql: Sql, q: RankFilters) {
  const like = q.q ? `%${q.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  return sql`
      ${q.below !== undefined ? sql`and v.value < ${q.below}` : sql``}
      ${q.above !== undefined ? sql`and v.value > ${q.above}` : sql``}
      ${q.crossed === 'true' ? sql`and cardinality(v.past) > 0` : q.crossed === 'false' ? sql`and cardinality(v.past) = 0` : sql``}
      ${like ? sql`and (lower(coalesce(e.name, '')) like ${like} or lower(v.entity_id) like ${like})` : sql``}`;
}

/** Entities ordered by the score's value (ties by id), with value filters and a keyset cursor. */
export async function rankingVerb(h: Herald, actor: Actor, rawKey: string, query: unknown) {
  require(actor, READ_PERMISSION);
  const s = await loadScore(h.sql, actor.orgId, parseScoreKey(rawKey));
  const q = parseQuery(RankQuery, query);
  const after = rankCursor(q.cursor);
  const sql = h.sql;
  const rows = await sql<Array<{ kind: string; id: string; name: string | null; value: number; at: Date; crossed_at: Date | null; past: string[]; explanation: unknown }>>`
    select e.kind, v.entity_id as id, e.name, v.value, v.at, v.crossed_at, v.past, v.explanation
    from score_values v left join entities e on e.org_id = ${s.org_id} and e.kind = ${s.entity_kind} and e.id = v.entity_id
    where v.score_id = ${s.id} ${rankFilter(sql, q)}
      ${after ? (q.order === 'asc' ? sql`and (v.value, v.entity_id) > (${after[0]}, ${after[1]})` : sql`and (v.value, v.entity_id) < (${after[0]}, ${after[1]})`) : sql``}
    order by ${q.order === 'asc' ? sql`v.value asc, v.entity_id asc` : sql`v.value desc, v.entity_id desc`}
    limit ${q.limit + 1}`;
  const more = rows.length > q.limit;
  const items = rows.slice(0, q.limit).map((r) => ({ ...r, kind: r.kind ?? s.entity_kind }));
  const last = items[items.length - 1];
  return { items, next_cursor: more ? Buffer.from(JSON.stringify([last.value, last.id])).toString('base64url') : null };
}

/** The score page's figures: count, mean, a 10-bin distribution over the range, and who crossed lately. */
export async function summaryVerb(h: Herald, actor: Actor, rawKey: string) {
  require(actor, READ_PERMISSION);
  const s = await loadScore(h.sql, actor.orgId, parseScoreKey(rawKey));
  const [st] = await h.sql<{ n: number; min: number | null; max: number | null; mean: number | null; past: number }[]>`
    select count(*)::int as n, min(value) as min, max(value) as max, avg(value) as mean, count(*) filter (where cardinality(past) > 0)::int as past
    from score_values where score_id = ${s.id}`;
  const range = clampRange(s.definition) ?? [st.min ?? 0, st.max ?? 0];
  const lo = range[0];
  const hi = range[1] > lo ? range[1] : lo + 1;
  const width = (hi - lo) / 10;
  const bins = await h.sql<{ b: number; n: number }[]>`
    select least(9, greatest(0, floor((value - ${lo}) / ${width})))::int as b, count(*)::int as n
    from score_values where score_id = ${s.id} group by 1 order by 1`;
  const distribution = Array.from({ length: 10 }, (_, b) => ({ from: lo + b * width, to: lo + (b + 1) * width, n: bins.find((x) => x.b === b)?.n ?? 0 }));
  const crossed = await h.sql`
    select v.entity_id as id, e.name, v.value, v.crossed_at, v.past from score_values v
    left join entities e on e.org_id = ${s.org_id} and e.kind = ${s.entity_kind} and e.id = v.entity_id
    where v.score_id = ${s.id} and v.crossed_at is not null order by v.crossed_at desc limit 20`;
  return {
    key: s.key, name: s.name, entity_kind: s.entity_kind, count: st.n, past_threshold: st.past,
    min: st.min, max: st.max, mean: st.mean === null ? null : Math.round(st.mean * 100) / 100,
    range, distribution, crossed_lately: crossed,
  };
}

/** GET /v1/entities/:kind/:id: the entity with every score of its kind (value, time, explanation). */
export async function getEntityVerb(h: Herald, actor: Actor, kind: string, id: string) {
  const base = await getEntityBase(h, actor, kind, id);
  const rows = await h.sql<Array<{ key: string; name: string; value: number | null; at: Date | null; explanation: unknown; past: string[] | null; thresholds: unknown; range: unknown }>>`
    select s.key, s.name, v.value, v.at, v.explanation, v.past, s.definition->'thresholds' as thresholds, s.definition->'range' as range
    from scores s left join score_values v on v.score_id = s.id and v.entity_id = ${id}
    where s.org_id = ${actor.orgId} and s.entity_kind = ${kind} order by s.key`;
  const scores: Record<string, unknown> = {};
  for (const r of rows) {
    scores[r.key] = r.value === null
      ? { name: r.name, value: null, at: null, explanation: [], state: 'not scored yet (a model predicts only open entities, once trained)' }
      : { name: r.name, value: r.value, at: r.at, explanation: r.explanation, past_thresholds: r.past, thresholds: r.thresholds, range: r.range };
  }
  return { ...base, scores };
}

/** GET /v1/entities/:kind/:id/scores/:key/history: the changes of the value (the latest 5,000), oldest first. */
export async function historyVerb(h: Herald, actor: Actor, kind: string, id: string, rawKey: string) {
  require(actor, READ_PERMISSION);
  const s = await loadScore(h.sql, actor.orgId, parseScoreKey(rawKey));
  if (s.entity_kind !== kind) throw notFound(`Score ${s.key} for ${kind} entities`);
  const items = await h.sql<{ at: Date; value: number; previous: number | null }[]>`
    select * from (select at, value, previous from score_history where score_id = ${s.id} and entity_id = ${id} order by at desc limit 5000) x
    order by at`;
  return { key: s.key, kind, id, items };
}
