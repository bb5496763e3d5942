// Rollups: the only place metric numbers are computed from events. Requests read these tables, never the
// events table (docs/design.md "Metrics read from rollups").
//
// Invariant: every event is applied to a metric's rollups exactly once. The incremental job reads events
// after a global high-water mark and writes their buckets and the new mark in ONE transaction, under a row
// lock on the mark, so a replayed or concurrent run finds nothing new. Without the lock two runs would both
// add the same batch; without the same transaction a crash between the two writes would add it twice.
//
// Event ids are drawn before their insert commits, so a lower id can become visible after a higher one. The
// mark only moves over ids it has seen or over gaps older than GAP_WAIT_MS (an aborted insert leaves a gap
// forever; a slow one closes it within milliseconds). Without that wait a late commit below the mark would be
// skipped for good.
//
// A metric that is (re)defined is rebuilt from scratch by metric__rebuild in chunks (progress in
// rebuild_progress) and joins the incremental run when it has caught up with the global mark.
//
// Retention: minute buckets 2 days, hour buckets 120 days, day buckets 5 years; p50/p90 and distinct keep at
// most VALUES_CAP values per bucket (the rest are counted in `dropped` and answers say `sampled`). p50/p90
// metrics also count every value in a log-scale histogram per bucket (metric_sketches, db/metrics/sketch.ts),
// which percentiles over many values read instead. Lifecycle metrics keep, next to their episodes, what
// opened and closed per hour and day (metric_lifecycle_buckets), a histogram of times to close and the items
// open now per opening hour (metric_open_hours): each batch adds the difference between the touched entities'
// episodes after and before it; and one row per entity with its latest episode (metric_entities), rewritten
// for the touched entities.
import type { Pool, Sql } from '../platform/sql';
import { conditionHolds, getField, num } from '../rules/match';
import type { MatchableEvent } from '../rules/schema';
import type { BucketMetric, LifecycleMetric, MetricRow } from './schema';
import { log } from '../platform/log';
import { METRIC_CHANNEL } from '../model/metric-live';
import { sketchBin, TTC_GROUP } from './sketch';

export const ROLLUP_BATCH = 5000;
export const REBUILD_CHUNK = 20_000;
export const GAP_WAIT_MS = 10_000;
export const VALUES_CAP = 2000;
export const GRAINS = ['m', 'h', 'd'] as const;
export type Grain = (typeof GRAINS)[number];
export const GRAIN_MS: Record<Grain, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };
export const RETENTION_MS: Record<Grain, number> = { m: 2 * 86_400_000, h: 120 * 86_400_000, d: 5 * 366 * 86_400_000 };

export interface EventRow {
  id: number;
  org_id: number;
  category: string;
  type: string;
  severity: string;
  metadata: Record<string, unknown> | null;
  entity: Record<string, unknown> | null;
  ts: Date;
  received_at: Date;
}

type Skipped = Record<string, number>;
const bump = (s: Skipped, k: string, n = 1) => { s[k] = (s[k] ?? 0) + n; };

/** The group an event's group_by value puts it in (as stored in the rollups; drill-downs filter by it). */
export const groupOf = (raw: unknown) => (raw === undefined || raw === null ? '(none)' : typeof raw === 'string' ? raw.slice(0, 200) : JSON.stringify(raw).slice(0, 200));

export const truncTo = (ms: number, g: Grain) => Math.floor(ms / GRAIN_MS[g]) * GRAIN_MS[g];

interface Acc {
  metric_id: number; grain: Grain; t: string; grp: string; n: number; sum: number; min: number | null; max: number | null;
  vals: number[] | null; dvals: string[] | null; latest_value: number | null; latest_at: string | null; latest_ms: number;
}

function sourceMatches(m: BucketMetric, e: EventRow): boolean {
  if (e.category !== m.source.category) return false;
  if (m.source.type && m.source.type !== e.type) return false;
  const ev = e as unknown as MatchableEvent;
  return m.conditions.every((c) => conditionHolds(c, ev));
}

/** Adds one batch of events to the buckets of the given bucket metrics (caller's transaction). */
async function applyBuckets(sql: Sql, metrics: Array<{ id: number; org_id: number; def: BucketMetric }>, events: EventRow[], skipped: Map<number, Skipped>, now: number) {
  const acc = new Map<string, Acc>();
  const sketch = new Map<string, number>();
  for (const m of metrics) {
    const def = m.def;
    const sk = skipped.get(m.id)!;
    const wantsVals = def.aggregate === 'p50' || def.aggregate === 'p90';
    const wantsDistinct = def.aggregate === 'distinct';
    for (const e of events) {
      if (e.org_id !== m.org_id || !sourceMatches(def, e)) continue;
      const ev = e as unknown as MatchableEvent;
      let v: number | null = null;
      let dv: string | null = null;
      if (def.field) {
        const raw = getField(ev, def.field);
        if (raw === undefined || raw === null) { bump(sk, 'missing_field'); continue; }
        if (wantsDistinct) dv = typeof raw === 'string' ? raw : JSON.stringify(raw);
        else if (def.aggregate !== 'count') {
          const n = num(raw);
          if (n === undefined || !Number.isFinite(n)) { bump(sk, 'non_numeric'); continue; }
          v = n;
        }
      }
      let grp = '';
      if (def.group_by) {
        const g = getField(ev, def.group_by);
        grp = groupOf(g);
      }
      const ms = e.ts.getTime();
      for (const g of GRAINS) {
        if (ms < now - RETENTION_MS[g]) continue;
        const t = new Date(truncTo(ms, g)).toISOString();
        const k = `${g}|${t}|${m.id}|${grp}`;
        let a = acc.get(k);
        if (!a) {
          a = { metric_id: m.id, grain: g, t, grp, n: 0, sum: 0, min: null, max: null, vals: wantsVals ? [] : null, dvals: wantsDistinct ? [] : null, latest_value: null, latest_at: null, latest_ms: -Infinity };
          acc.set(k, a);
        }
        a.n++;
        if (v !== null) {
          a.sum += v;
          a.min = a.min === null ? v : Math.min(a.min, v);
          a.max = a.max === null ? v : Math.max(a.max, v);
          if (a.vals) {
            a.vals.push(v);
            const sk = `${m.id}|${g}|${t}|${sketchBin(v)}|${grp}`;
            sketch.set(sk, (sketch.get(sk) ?? 0) + 1);
          }
          if (ms >= a.latest_ms) { a.latest_ms = ms; a.latest_value = v; a.latest_at = e.ts.toISOString(); }
        }
        if (dv !== null && a.dvals && !a.dvals.includes(dv)) a.dvals.push(dv);
      }
    }
  }
  await addSketch(sql, sketch);
  if (!acc.size) return;
  const rows = [...acc.keys()].sort().map((k) => {
    const { latest_ms: _, ...r } = acc.get(k)!;
    const dropped = (r.vals && r.vals.length > VALUES_CAP ? r.vals.length - VALUES_CAP : 0) + (r.dvals && r.dvals.length > VALUES_CAP ? r.dvals.length - VALUES_CAP : 0);
    return { ...r, vals: r.vals?.slice(0, VALUES_CAP) ?? null, dvals: r.dvals?.slice(0, VALUES_CAP) ?? null, dropped };
  });
  await sql`
    insert into metric_buckets as b (metric_id, grain, t, grp, n, sum, min, max, vals, dvals, dropped, latest_value, latest_at)
    select metric_id, grain, t, grp, n, sum, min, max, vals, dvals, dropped, latest_value, latest_at
    from json_to_recordset(${JSON.stringify(rows)}::text::json) as x(metric_id bigint, grain char(1), t timestamptz, grp text, n bigint,
      sum float8, min float8, max float8, vals float8[], dvals text[], dropped bigint, latest_value float8, latest_at timestamptz)
    on conflict (metric_id, grain, t, grp) do update set
      n = b.n + excluded.n,
      sum = b.sum + excluded.sum,
      min = least(b.min, excluded.min),
      max = greatest(b.max, excluded.max),
      vals = case when excluded.vals is null then b.vals else (coalesce(b.vals, '{}') || excluded.vals)[1:${VALUES_CAP}] end,
      dvals = case when excluded.dvals is null then b.dvals
        else (select array_agg(d) from (select distinct d from unnest(coalesce(b.dvals, '{}') || excluded.dvals) d limit ${VALUES_CAP}) x) end,
      dropped = b.dropped + excluded.dropped
        + greatest(0, coalesce(cardinality(b.vals), 0) + coalesce(cardinality(excluded.vals), 0) - ${VALUES_CAP})
        + greatest(0, (select count(distinct d) from unnest(coalesce(b.dvals, '{}') || coalesce(excluded.dvals, '{}')) d) - ${VALUES_CAP}),
      latest_value = case when excluded.latest_at is not null and (b.latest_at is null or excluded.latest_at >= b.latest_at) then excluded.latest_value else b.latest_value end,
      latest_at = greatest(b.latest_at, excluded.latest_at)`;
}

/** Adds histogram counts keyed `metric|grain|t|bin|grp` (negative counts take values out). */
async function addSketch(sql: Sql, counts: Map<string, number>) {
  const rows = [...counts].filter(([, n]) => n !== 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, n]) => {
    const [metric_id, grain, t, bin, grp] = splitKey(k, 5);
    return { metric_id: Number(metric_id), grain, t, grp, bin: Number(bin), n };
  });
  if (!rows.length) return;
  await sql`
    insert into metric_sketches as s (metric_id, grain, t, grp, bin, n)
    select metric_id, grain, t, grp, bin, n
    from json_to_recordset(${JSON.stringify(rows)}::text::json) as x(metric_id bigint, grain char(1), t timestamptz, grp text, bin int, n bigint)
    on conflict (metric_id, grain, t, grp, bin) do update set n = s.n + excluded.n`;
}

/** Splits `a|b|…` into `parts` fields; the last keeps any further `|` (a group value may contain one). */
function splitKey(k: string, parts: number): string[] {
  const out: string[] = [];
  let rest = k;
  for (let i = 1; i < parts; i++) {
    const j = rest.indexOf('|');
    out.push(rest.slice(0, j));
    rest = rest.slice(j + 1);
  }
  out.push(rest);
  return out;
}

interface Episode {
  entity: string; entity_name: string | null; opened_at: Date | null; amount: number | null; closed_at: Date | null;
  closed_category: string | null; closed_type: string | null; open_event_id: number | null; close_event_id: number | null;
}

const LIFECYCLE_GRAINS = ['h', 'd'] as const;

/**
 * A lifecycle metric's flows per hour and day (metric_lifecycle_buckets) and times to close (metric_sketches,
 * grp TTC_GROUP), accumulated from episodes with a sign: the old state of the touched entities taken out (-1),
 * the new one put in (+1), so only the difference is written.
 */
class Flows {
  private rows = new Map<string, { n: number; amount: number; dur: number }>();
  private sketch = new Map<string, number>();
  /** Items open now per opening hour (metric_open_hours). */
  private open = new Map<string, { n: number; amount: number }>();

  add(ep: Episode, sign: 1 | -1) {
    if (!ep.opened_at) return;
    const opened = ep.opened_at.getTime();
    const amount = ep.amount ?? 0;
    if (!ep.closed_at) {
      const k = new Date(truncTo(opened, 'h')).toISOString();
      const r = this.open.get(k) ?? { n: 0, amount: 0 };
      r.n += sign; r.amount += sign * amount;
      this.open.set(k, r);
    }
    for (const g of LIFECYCLE_GRAINS) {
      this.bump(`${g}|${new Date(truncTo(opened, g)).toISOString()}|open`, sign, amount, 0);
      if (ep.closed_at) {
        const closed = ep.closed_at.getTime();
        const t = new Date(truncTo(closed, g)).toISOString();
        const dur = (closed - opened) / 1000;
        this.bump(`${g}|${t}|${ep.closed_category}/${ep.closed_type}`, sign, amount, dur);
        const k = `${g}|${t}|${sketchBin(dur)}`;
        this.sketch.set(k, (this.sketch.get(k) ?? 0) + sign);
      }
    }
  }

  private bump(k: string, sign: number, amount: number, dur: number) {
    const r = this.rows.get(k) ?? { n: 0, amount: 0, dur: 0 };
    r.n += sign; r.amount += sign * amount; r.dur += sign * dur;
    this.rows.set(k, r);
  }

  async write(sql: Sql, metricId: number) {
    const rows = [...this.rows].filter(([, r]) => r.n !== 0 || r.amount !== 0 || r.dur !== 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, r]) => {
      const [grain, t, kind] = splitKey(k, 3);
      return { grain, t, kind, n: r.n, amount: r.amount, dur_s: r.dur };
    });
    if (rows.length) {
      await sql`
        insert into metric_lifecycle_buckets as b (metric_id, grain, t, kind, n, amount, dur_s)
        select ${metricId}, grain, t, kind, n, amount, dur_s
        from json_to_recordset(${JSON.stringify(rows)}::text::json) as x(grain char(1), t timestamptz, kind text, n bigint, amount float8, dur_s float8)
        on conflict (metric_id, grain, t, kind) do update set n = b.n + excluded.n, amount = b.amount + excluded.amount, dur_s = b.dur_s + excluded.dur_s`;
    }
    await addSketch(sql, new Map([...this.sketch].map(([k, n]) => {
      const [grain, t, bin] = splitKey(k, 3);
      return [`${metricId}|${grain}|${t}|${bin}|${TTC_GROUP}`, n] as const;
    })));
    const open = [...this.open].filter(([, r]) => r.n !== 0 || r.amount !== 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([t, r]) => ({ t, ...r }));
    if (open.length) {
      await sql`
        insert into metric_open_hours as o (metric_id, t, n, amount)
        select ${metricId}, t, n, amount from json_to_recordset(${JSON.stringify(open)}::text::json) as x(t timestamptz, n bigint, amount float8)
        on conflict (metric_id, t) do update set n = o.n + excluded.n, amount = o.amount + excluded.amount`;
      // An hour whose items have all closed holds nothing (its amount is a rounding residue at most).
      await sql`delete from metric_open_hours where metric_id = ${metricId} and t = any(${open.map((r) => r.t)}::timestamptz[]) and n = 0`;
    }
  }
}

/**
 * metric_entity_days of the touched entities with several opened episodes: the UTC days of closing whose
 * episodes changed in this batch (every day when the entity has just got its second episode), recomputed from
 * the entity's episodes. `existing` are the episode objects read before the batch (edited in place by it),
 * `snapshots` their state before it, index by index; an entity's opened episodes never become fewer (until a
 * rebuild clears everything).
 */
async function writeEntityDays(sql: Sql, metricId: number, keys: string[], existing: Episode[], snapshots: Episode[], by: Map<string, Episode[]>) {
  const snapOf = new Map<Episode, Episode>(existing.map((p, i) => [p, snapshots[i]]));
  const prevCount = new Map<string, number>();
  for (const p of snapshots) if (p.opened_at) prevCount.set(p.entity, (prevCount.get(p.entity) ?? 0) + 1);
  const pairs: Array<{ entity: string; t: string }> = [];
  const rows: Array<{ entity: string; t: string; n: number; dur_s: number; first_opened: string; name: string | null; mixed: boolean }> = [];
  const closedDay = (p: Episode) => (p.opened_at && p.closed_at ? truncTo(p.closed_at.getTime(), 'd') : null);
  const ms = (d: Date | null) => d?.getTime() ?? null;
  for (const k of keys) {
    const all = by.get(k)!;
    if (all.filter((p) => p.opened_at).length < 2) continue;
    const fresh = (prevCount.get(k) ?? 0) < 2;
    const days = new Set<number>();
    const add = (p: Episode) => { const d = closedDay(p); if (d !== null) days.add(d); };
    for (const p of all) {
      const was = snapOf.get(p);
      if (fresh || !was) add(p);
      else if (ms(was.opened_at) !== ms(p.opened_at) || ms(was.closed_at) !== ms(p.closed_at) || was.entity_name !== p.entity_name) { add(was); add(p); }
    }
    if (!days.size) continue;
    const byDay = new Map<number, Episode[]>();
    for (const p of all) {
      const d = closedDay(p);
      if (d === null || !days.has(d)) continue;
      if (!byDay.has(d)) byDay.set(d, []);
      byDay.get(d)!.push(p);
    }
    for (const d of days) {
      const t = new Date(d).toISOString();
      pairs.push({ entity: k, t });
      const eps = byDay.get(d);
      if (!eps) continue;
      const names = new Set(eps.map((p) => p.entity_name));
      rows.push({
        entity: k, t, n: eps.length,
        dur_s: eps.reduce((sum, p) => sum + (p.closed_at!.getTime() - p.opened_at!.getTime()) / 1000, 0),
        first_opened: new Date(Math.min(...eps.map((p) => p.opened_at!.getTime()))).toISOString(),
        name: names.size === 1 ? eps[0].entity_name : null, mixed: names.size > 1,
      });
    }
  }
  if (!pairs.length) return;
  await sql`
    delete from metric_entity_days d using json_to_recordset(${JSON.stringify(pairs)}::text::json) as x(entity text, t timestamptz)
    where d.metric_id = ${metricId} and d.t = x.t and d.entity = x.entity`;
  if (rows.length) await sql`
    insert into metric_entity_days (metric_id, entity, t, n, dur_s, first_opened, name, mixed)
    select ${metricId}, entity, t, n, dur_s, first_opened, name, mixed
    from json_to_recordset(${JSON.stringify(rows)}::text::json) as x(entity text, t timestamptz, n int, dur_s float8, first_opened timestamptz, name text, mixed boolean)`;
}

/** Each touched entity's row in metric_entities: its latest opened episode and how many it has (none: no row). */
async function writeEntities(sql: Sql, metricId: number, keys: string[], by: Map<string, Episode[]>) {
  const rows: Array<{ entity: string; entity_name: string | null; opened_at: string; closed_at: string | null; episodes: number }> = [];
  for (const k of keys) {
    let latest: Episode | null = null;
    let n = 0;
    for (const ep of by.get(k)!) {
      if (!ep.opened_at) continue;
      n++;
      if (!latest || ep.opened_at.getTime() >= latest.opened_at!.getTime()) latest = ep;
    }
    if (latest) rows.push({ entity: k, entity_name: latest.entity_name, opened_at: latest.opened_at!.toISOString(), closed_at: latest.closed_at?.toISOString() ?? null, episodes: n });
  }
  await sql`delete from metric_entities where metric_id = ${metricId} and entity = any(${keys}::text[])`;
  if (!rows.length) return;
  await sql`
    insert into metric_entities (metric_id, entity, entity_name, opened_at, closed_at, episodes)
    select ${metricId}, entity, entity_name, opened_at, closed_at, episodes
    from json_to_recordset(${JSON.stringify(rows)}::text::json) as x(entity text, entity_name text, opened_at timestamptz, closed_at timestamptz, episodes int)`;
}

/** The entity an event is about, as the lifecycle key `kind:id`. */
function entityKey(e: EventRow): { key: string; name: string | null } | null {
  const en = e.entity;
  if (!en || typeof en !== 'object') return null;
  const kind = en.kind;
  const id = en.id;
  if (typeof kind !== 'string' || (typeof id !== 'string' && typeof id !== 'number')) return null;
  return { key: `${kind}:${id}`.slice(0, 300), name: typeof en.name === 'string' ? en.name.slice(0, 200) : null };
}

/**
 * Pairs opening and closing events per entity into episodes (caller's transaction). Out-of-order arrival is
 * handled by the event's own time: a close pairs with the latest episode opened before it; a close with no
 * such episode is kept as an orphan that a late opening event (earlier in time) completes. Repeats are
 * counted and change nothing.
 */
async function applyLifecycle(sql: Sql, m: { id: number; org_id: number; def: LifecycleMetric }, events: EventRow[], sk: Skipped) {
  const { open, close } = m.def.lifecycle;
  const isOpen = (e: EventRow) => e.category === open.category && e.type === open.type;
  const isClose = (e: EventRow) => close.some((c) => c.category === e.category && c.type === e.type);
  const mine: Array<{ e: EventRow; key: string; name: string | null }> = [];
  for (const e of events) {
    if (e.org_id !== m.org_id || (!isOpen(e) && !isClose(e))) continue;
    const k = entityKey(e);
    if (!k) { bump(sk, 'missing_entity'); continue; }
    mine.push({ e, key: k.key, name: k.name });
  }
  if (!mine.length) return;
  mine.sort((a, b) => a.e.ts.getTime() - b.e.ts.getTime() || a.e.id - b.e.id);
  const keys = [...new Set(mine.map((x) => x.key))];
  const existing = await sql<Episode[]>`
    select entity, entity_name, opened_at, amount, closed_at, closed_category, closed_type, open_event_id, close_event_id
    from metric_episodes where metric_id = ${m.id} and entity = any(${keys}::text[])`;
  // What these entities' episodes contribute to the flows before the batch (the loop below edits them in place).
  const before = new Flows();
  for (const ep of existing) before.add(ep, -1);
  const unchanged = existing.map((ep) => ({ ...ep }));
  const by = new Map<string, Episode[]>();
  for (const k of keys) by.set(k, []);
  for (const ep of existing) by.get(ep.entity)!.push(ep);
  for (const { e, key, name } of mine) {
    const eps = by.get(key)!;
    const T = e.ts.getTime();
    if (isOpen(e)) {
      let amount: number | null = null;
      if (m.def.field) {
        const raw = getField(e as unknown as MatchableEvent, m.def.field);
        if (raw === undefined || raw === null) bump(sk, 'missing_field');
        else {
          const n = num(raw);
          if (n === undefined || !Number.isFinite(n)) bump(sk, 'non_numeric');
          else amount = n;
        }
      }
      const covering = eps.find((p) => p.opened_at && p.opened_at.getTime() <= T && (!p.closed_at || p.closed_at.getTime() >= T));
      if (covering) { bump(sk, 'duplicate_open'); continue; }
      // A close seen earlier whose opening event arrives now, with no other episode opened between them.
      const orphan = eps
        .filter((p) => !p.opened_at && p.closed_at && p.closed_at.getTime() >= T)
        .sort((a, b) => a.closed_at!.getTime() - b.closed_at!.getTime())[0];
      if (orphan && !eps.some((p) => p.opened_at && p.opened_at.getTime() > T && p.opened_at.getTime() < orphan.closed_at!.getTime())) {
        orphan.opened_at = e.ts; orphan.amount = amount; orphan.open_event_id = e.id; orphan.entity_name ??= name;
        // It was counted as a close without an opening; now it has one and was only out of order.
        bump(sk, 'out_of_order');
        bump(sk, 'close_without_open', -1);
        continue;
      }
      eps.push({ entity: key, entity_name: name, opened_at: e.ts, amount, closed_at: null, closed_category: null, closed_type: null, open_event_id: e.id, close_event_id: null });
    } else {
      const target = eps
        .filter((p) => p.opened_at && !p.closed_at && p.opened_at.getTime() <= T)
        .sort((a, b) => b.opened_at!.getTime() - a.opened_at!.getTime())[0];
      if (target) {
        target.closed_at = e.ts; target.closed_category = e.category; target.closed_type = e.type; target.close_event_id = e.id;
        target.entity_name ??= name;
        continue;
      }
      const dup = eps.some((p) => p.closed_at && p.closed_at.getTime() === T || (p.opened_at && p.closed_at && p.opened_at.getTime() <= T && p.closed_at.getTime() >= T));
      if (dup) { bump(sk, 'duplicate_close'); continue; }
      bump(sk, 'close_without_open');
      eps.push({ entity: key, entity_name: name, opened_at: null, amount: null, closed_at: e.ts, closed_category: e.category, closed_type: e.type, open_event_id: null, close_event_id: e.id });
    }
  }
  const rows = keys.flatMap((k) => by.get(k)!).map((p) => ({
    ...p, opened_at: p.opened_at?.toISOString() ?? null, closed_at: p.closed_at?.toISOString() ?? null,
  }));
  for (const k of keys) for (const ep of by.get(k)!) before.add(ep, 1);
  await before.write(sql, m.id);
  await sql`delete from metric_episodes where metric_id = ${m.id} and entity = any(${keys}::text[])`;
  await sql`
    insert into metric_episodes (metric_id, entity, entity_name, opened_at, amount, closed_at, closed_category, closed_type, open_event_id, close_event_id)
    select ${m.id}, entity, entity_name, opened_at, amount, closed_at, closed_category, closed_type, open_event_id, close_event_id
    from json_to_recordset(${JSON.stringify(rows)}::text::json) as x(entity text, entity_name text, opened_at timestamptz, amount float8,
      closed_at timestamptz, closed_category text, closed_type text, open_event_id bigint, close_event_id bigint)`;
  await writeEntities(sql, m.id, keys, by);
  await writeEntityDays(sql, m.id, keys, existing, unchanged, by);
}

type Loaded = { id: number; org_id: number; def: MetricRow['definition'] };

/** Applies events to the metrics; returns what each metric skipped (merged into its `skipped` counters). */
async function apply(sql: Sql, metrics: Loaded[], events: EventRow[]): Promise<void> {
  const skipped = new Map<number, Skipped>(metrics.map((m) => [m.id, {}]));
  const bucketed = metrics.filter((m) => m.def.aggregate !== 'lifecycle') as Array<{ id: number; org_id: number; def: BucketMetric }>;
  await applyBuckets(sql, bucketed, events, skipped, Date.now());
  for (const m of metrics) if (m.def.aggregate === 'lifecycle') await applyLifecycle(sql, m as { id: number; org_id: number; def: LifecycleMetric }, events, skipped.get(m.id)!);
  const changed = [...skipped].filter(([, s]) => Object.keys(s).length);
  if (changed.length) {
    await sql`
      update metric_definitions d set skipped = (
        select coalesce(jsonb_object_agg(k, coalesce((d.skipped->>k)::bigint, 0) + coalesce((x.s->>k)::bigint, 0)), '{}')
        from jsonb_object_keys(d.skipped || x.s) k)
      from json_to_recordset(${JSON.stringify(changed.map(([id, s]) => ({ id, s })))}::text::json) as x(id bigint, s jsonb)
      where d.id = x.id`;
  }
}

/** Categories a metric reads (to fetch only what some metric needs). */
function categories(defs: Loaded[]): string[] {
  const s = new Set<string>();
  for (const m of defs) {
    if (m.def.aggregate === 'lifecycle') { s.add(m.def.lifecycle.open.category); m.def.lifecycle.close.forEach((c) => s.add(c.category)); }
    else s.add(m.def.source.category);
  }
  return [...s];
}

async function readEvents(sql: Sql, where: { after: number; upTo?: number; limit: number; cats: string[] }): Promise<EventRow[]> {
  // Events of categories no metric reads come back as bare ids (the mark still has to pass them).
  return sql<EventRow[]>`
    select id, org_id, category, type, severity,
      case when category = any(${where.cats}::text[]) then metadata end as metadata,
      case when category = any(${where.cats}::text[]) then entity end as entity,
      coalesce(occurred_at, received_at) as ts, received_at
    from events where id > ${where.after} ${where.upTo !== undefined ? sql`and id <= ${where.upTo}` : sql``}
    order by id limit ${where.limit}`;
}

/** The events the mark may pass: contiguous ids, or gaps old enough to be aborted inserts. */
export function settledPrefix(after: number, rows: Array<{ id: number; received_at: Date }>, now: number): number {
  let mark = after;
  for (const r of rows) {
    if (r.id !== mark + 1 && now - r.received_at.getTime() < GAP_WAIT_MS) break;
    mark = r.id;
  }
  return mark;
}

/**
 * One incremental run: the next batch of settled events applied to every caught-up metric, and the mark
 * moved, in one transaction. Returns how many events it passed (a full batch means more are waiting).
 */
export async function rollupOnce(pool: Pool, opts: { skipIfBusy?: boolean } = {}): Promise<{ passed: number; hwm: number; busy?: boolean }> {
  return pool.begin(async (tx) => {
    // A job that finds another run holding the mark returns at once (that run schedules the next one) instead of
    // holding a worker slot while it waits: with a long catch-up, keyed re-adds queued several such waiters.
    const [state] = opts.skipIfBusy
      ? await tx<{ hwm: number; cleaned_at: Date }[]>`select hwm, cleaned_at from metric_rollup_state where id = 1 for update skip locked`
      : await tx<{ hwm: number; cleaned_at: Date }[]>`select hwm, cleaned_at from metric_rollup_state where id = 1 for update`;
    if (!state) return { passed: 0, hwm: -1, busy: true };
    const metrics = await tx<Loaded[]>`select id, org_id, definition as def from metric_definitions where caught_up order by id`;
    const rows = await readEvents(tx, { after: state.hwm, limit: ROLLUP_BATCH, cats: categories(metrics) });
    const mark = settledPrefix(state.hwm, rows, Date.now());
    const batch = rows.filter((r) => r.id <= mark);
    if (batch.length && metrics.length) {
      await apply(tx, metrics, batch);
      await announce(tx, metrics.filter((m) => batch.some((e) => reads(m, e))));
    }
    if (mark !== state.hwm) await tx`update metric_rollup_state set hwm = ${mark} where id = 1`;
    if (Date.now() - state.cleaned_at.getTime() > 10 * 60_000) await cleanup(tx);
    return { passed: batch.length, hwm: mark };
  });
}

/** Whether an event is one this metric reads (its org and categories; conditions are not re-checked). */
function reads(m: Loaded, e: EventRow): boolean {
  if (e.org_id !== Number(m.org_id)) return false;
  const d = m.def;
  if (d.aggregate === 'lifecycle') return [d.lifecycle.open, ...d.lifecycle.close].some((k) => k.category === e.category && k.type === e.type);
  return d.source.category === e.category && (!d.source.type || d.source.type === e.type);
}

/** Tells live dashboards which metrics moved (delivered when the transaction commits). */
async function announce(tx: Sql, metrics: Loaded[]) {
  const parts = metrics.map((m) => `${m.org_id}:${m.def.key}`);
  // NOTIFY payloads stay under Postgres's 8,000 bytes.
  for (let i = 0; i < parts.length; i += 100) await tx`select pg_notify(${METRIC_CHANNEL}, ${parts.slice(i, i + 100).join(',')})`;
}

/** Keeps the rollups bounded: buckets past their grain's retention are deleted. */
async function cleanup(tx: Sql) {
  const now = Date.now();
  for (const g of GRAINS) {
    const before = new Date(now - RETENTION_MS[g] - GRAIN_MS[g]).toISOString();
    await tx`delete from metric_buckets where grain = ${g} and t < ${before}`;
    // Lifecycle times to close stay as long as their flows (query.ts sums those from the beginning).
    await tx`delete from metric_sketches where grain = ${g} and t < ${before} and grp <> ${TTC_GROUP}`;
  }
  await tx`update metric_rollup_state set cleaned_at = now() where id = 1`;
}

/**
 * One chunk of a metric's rebuild: events after its own mark (up to the global mark) applied to it alone.
 * The last chunk runs under the global mark's lock and sets caught_up, after which the incremental run
 * carries the metric. Returns false when the job is stale (the metric changed again or is gone) or done.
 */
export async function rebuildChunk(pool: Pool, metricId: number, version: number): Promise<'more' | 'done' | 'stale'> {
  return pool.begin(async (tx) => {
    const [peek] = await tx<{ hwm: number }[]>`select hwm from metric_rollup_state where id = 1`;
    const [m0] = await tx<{ hwm: number }[]>`select hwm from metric_definitions where id = ${metricId}`;
    // The final chunk takes the global lock first (the order the incremental run takes them in).
    const final = m0 && peek.hwm - m0.hwm <= REBUILD_CHUNK;
    const [state] = final ? await tx<{ hwm: number }[]>`select hwm from metric_rollup_state where id = 1 for update` : [peek];
    const [m] = await tx<(Loaded & { hwm: number; version: number; caught_up: boolean })[]>`
      select id, org_id, definition as def, hwm, version, caught_up from metric_definitions where id = ${metricId} for update`;
    if (!m || m.version !== version || m.caught_up) return 'stale';
    const upTo = Math.min(state.hwm, m.hwm + REBUILD_CHUNK);
    // Only ids up to the global mark: they are settled (see settledPrefix).
    const rows = upTo > m.hwm ? await readEvents(tx, { after: m.hwm, upTo, limit: REBUILD_CHUNK, cats: categories([m]) }) : [];
    await apply(tx, [m], rows);
    const done = upTo >= state.hwm && final;
    await tx`update metric_definitions set hwm = ${upTo}, caught_up = ${done},
      rebuild_progress = ${state.hwm ? Math.min(1, upTo / state.hwm) : 1} where id = ${m.id}`;
    if (done) {
      log.info('metric rebuilt', { metric: m.id });
      await announce(tx, [m]);
    }
    return done ? 'done' : 'more';
  });
}
