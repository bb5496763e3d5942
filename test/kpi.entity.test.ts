// The lifecycle reads that use metric_open_hours, metric_entities and metric_entity_days (the AR aging and "open for more than N
// days", the table widget's top rows, the "down now" grid) against the same answers recomputed straight from
// the episodes, after opens, closes, reopens, out-of-order closes and a rebuild from scratch; and the two
// tables themselves against the episodes they summarise.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from './harness';
import { rolledUp, sendEvents } from './kpi-kit';
import { AGING, lifecycleGrid, lifecycleMeasure, lifecycleTable, lifecycleValue, TABLE_ROWS } from '../db/metrics/query';
import type { MetricRow } from '../db/metrics/schema';

let h: TestHerald;
const DAY = 86_400_000;
const HOUR = 3_600_000;
const base = Math.floor(Date.now() / 1000) * 1000;
const ago = (ms: number) => new Date(base - ms).toISOString();

beforeAll(async () => { h = await startTestHerald(); });
afterAll(async () => { await h?.stop(); });

const send = (events: Array<Record<string, unknown>>) => sendEvents(h, events);

const settled = () => rolledUp(h, 60_000);

const metric = async (key: string) => (await h.sql<MetricRow[]>`select * from metric_definitions where key = ${key}`)[0];

// A deterministic spread of times (whole seconds, so sums of durations are exact).
let seed = 7;
const rnd = (n: number) => { seed = (seed * 48271) % 2147483647; return seed % n; };
const secs = (maxDays: number) => rnd(maxDays * 86_400) * 1000;

const r6 = (x: number | null) => (x === null ? null : Math.round(x * 1e6) / 1e6);

/** The straightforward answers, over every episode (what query.ts computed before the two tables). */
async function straight(id: number, from: number, to: number) {
  const at = new Date(to);
  const f = new Date(from);
  const days = await h.sql<{ days: number; n: number; amount: number }[]>`
    select floor(date_part('epoch', ${at}::timestamptz - opened_at) / 86400)::int as days, count(*)::int as n, coalesce(sum(amount), 0)::float8 as amount
    from metric_episodes where metric_id = ${id} and opened_at <= ${at} and (closed_at is null or closed_at > ${at}) group by 1`;
  const aging = AGING.map((b) => {
    const rs = days.filter((r) => r.days >= b.lo && r.days <= b.hi);
    return { bucket: b.bucket, count: rs.reduce((s, r) => s + r.n, 0), amount: rs.reduce((s, r) => s + r.amount, 0) };
  });
  const over = (n: number) => {
    const rs = days.filter((r) => r.days >= n);
    return { count: rs.reduce((s, r) => s + r.n, 0), amount: rs.reduce((s, r) => s + r.amount, 0) };
  };
  const table = await h.sql`
    select entity, max(entity_name) as name, count(*)::int as episodes,
      sum(date_part('epoch', least(coalesce(closed_at, ${at}), ${at}) - greatest(opened_at, ${f})))::float8 as open_s,
      avg(date_part('epoch', closed_at - opened_at)) filter (where closed_at is not null)::float8 as mean_close_s,
      bool_or(closed_at is null or closed_at > ${at}) as open_now,
      sum(amount) filter (where closed_at is null or closed_at > ${at})::float8 as amount
    from metric_episodes
    where metric_id = ${id} and opened_at is not null and opened_at < ${at} and (closed_at is null or closed_at >= ${f})
    group by entity order by open_s desc, entity limit ${TABLE_ROWS}`;
  const grid = await h.sql<{ entity: string; name: string | null; opened_at: Date; closed_at: Date | null }[]>`
    select distinct on (entity) entity, entity_name as name, opened_at, closed_at from metric_episodes
    where metric_id = ${id} and opened_at is not null and opened_at <= ${at}
    order by entity, opened_at desc limit 500`;
  return {
    aging, over30: over(30), over60: over(60),
    table: table.map((r) => ({ ...r, open_s: r6(r.open_s), mean_close_s: r6(r.mean_close_s), amount: r6(r.amount) })),
    grid: grid.map((r) => {
      const open = r.closed_at === null || r.closed_at.getTime() > to;
      return { entity: r.entity, name: r.name, status: open ? 'open' : 'closed', since: (open ? r.opened_at : r.closed_at)!.toISOString() };
    }).sort((a, b) => (a.status === b.status ? a.entity.localeCompare(b.entity) : a.status === 'open' ? -1 : 1)),
  };
}

/** The tables kept by the rollup, and the same recomputed from the episodes. */
async function tablesAgainstEpisodes(id: number) {
  const kept = {
    hours: await h.sql`select t, n::int, amount from metric_open_hours where metric_id = ${id} order by t`,
    entities: await h.sql`select entity, entity_name, opened_at, closed_at, episodes from metric_entities where metric_id = ${id} order by entity`,
    days: await h.sql`select entity, t, n, dur_s, first_opened, name, mixed from metric_entity_days where metric_id = ${id} order by entity, t`,
  };
  const fresh = {
    hours: await h.sql`
      select date_trunc('hour', opened_at, 'UTC') as t, count(*)::int as n, coalesce(sum(amount), 0)::float8 as amount
      from metric_episodes where metric_id = ${id} and closed_at is null and opened_at is not null group by 1 order by 1`,
    entities: await h.sql`
      select entity, entity_name, opened_at, closed_at, episodes from (
        select distinct on (entity) entity, entity_name, opened_at, closed_at, count(*) over (partition by entity)::int as episodes
        from metric_episodes where metric_id = ${id} and opened_at is not null order by entity, opened_at desc) x order by entity`,
    days: await h.sql`
      select e.entity, date_trunc('day', e.closed_at, 'UTC') as t, count(*)::int as n, sum(date_part('epoch', e.closed_at - e.opened_at))::float8 as dur_s,
        min(e.opened_at) as first_opened,
        case when count(distinct e.entity_name) <= 1 and (count(e.entity_name) = 0 or count(e.entity_name) = count(*)) then max(e.entity_name) end as name,
        not (count(distinct e.entity_name) <= 1 and (count(e.entity_name) = 0 or count(e.entity_name) = count(*))) as mixed
      from metric_episodes e
      where e.metric_id = ${id} and e.opened_at is not null and e.closed_at is not null
        and e.entity in (select entity from metric_episodes where metric_id = ${id} and opened_at is not null group by 1 having count(*) > 1)
      group by 1, 2 order by 1, 2`,
  };
  expect(kept.hours.map((r) => ({ ...r }))).toEqual(fresh.hours.map((r) => ({ ...r })));
  expect(kept.entities.map((r) => ({ ...r }))).toEqual(fresh.entities.map((r) => ({ ...r })));
  expect(kept.days.map((r) => ({ ...r }))).toEqual(fresh.days.map((r) => ({ ...r })));
  return kept;
}

const WINDOWS: Array<[string, number, number]> = [
  ['90 days to now', base - 90 * DAY, base],
  ['30 days to now', base - 30 * DAY, base],
  ['ending 20 days ago', base - 60 * DAY - 5 * HOUR, base - 20 * DAY + 1234],
  ['400 days to now', base - 400 * DAY, base],
];

async function compareAll(key: string) {
  const m = await metric(key);
  for (const [label, from, to] of WINDOWS) {
    const s = await straight(m.id, from, to);
    const v = await lifecycleValue(h.sql, m, from, to);
    expect(v.aging, `${key} aging, ${label}`).toEqual(s.aging);
    expect(await lifecycleMeasure(h.sql, m, 'open_count_over_30d', from, to), `${key} over 30 days, ${label}`).toBe(s.over30.count);
    expect(await lifecycleMeasure(h.sql, m, 'open_amount_over_60d', from, to), `${key} amount over 60 days, ${label}`).toBe(s.over60.amount);
    expect(await lifecycleTable(h.sql, m, from, to), `${key} table, ${label}`).toEqual(s.table);
    expect(await lifecycleGrid(h.sql, m, to), `${key} grid, ${label}`).toEqual(s.grid);
  }
}

describe('lifecycle reads from metric_open_hours and metric_entities', () => {
  it('give the answers recomputed from the episodes after opens, closes, reopens and a rebuild', async () => {
    const events: Array<Record<string, unknown>> = [];
    // 600 invoices over 150 days, two thirds paid 1–60 days later (if that is past), some issued twice.
    for (let i = 0; i < 600; i++) {
      const issued = secs(150);
      const amount = 100 + rnd(9000) + rnd(100) / 4;
      events.push({ category: 'finance', type: 'invoice_issued', entity: { kind: 'invoice', id: i }, occurred_at: ago(issued), metadata: { amount } });
      if (rnd(3) < 2) {
        const paidAt = issued - 86_400_000 - secs(60);
        if (paidAt > 0) events.push({ category: 'finance', type: 'invoice_paid', entity: { kind: 'invoice', id: i }, occurred_at: ago(paidAt), metadata: {} });
      }
      if (i % 50 === 0) events.push({ category: 'finance', type: 'invoice_issued', entity: { kind: 'invoice', id: i }, occurred_at: ago(issued), metadata: { amount } });
    }
    // 500 deals over 120 days (more open ones than the table's rows, so it uses its floor), 40 % won or lost;
    // every 7th lost deal reopened and some of those closed again.
    for (let i = 0; i < 500; i++) {
      const created = secs(120);
      events.push({ category: 'sales', type: 'deal_created', entity: { kind: 'deal', id: `D${i}`, name: `Deal ${i % 37}` }, occurred_at: ago(created), metadata: { amount: 1000 + rnd(50_000) } });
      if (rnd(5) < 2) {
        const closed = created - secs(Math.max(1, Math.floor(created / DAY)));
        if (closed > 0) {
          events.push({ category: 'sales', type: rnd(2) ? 'deal_won' : 'deal_lost', entity: { kind: 'deal', id: `D${i}` }, occurred_at: ago(closed), metadata: {} });
          if (i % 7 === 0 && closed > 2 * DAY) {
            const reopened = closed - DAY;
            events.push({ category: 'sales', type: 'deal_created', entity: { kind: 'deal', id: `D${i}`, name: `Deal ${i} again` }, occurred_at: ago(reopened), metadata: { amount: 10 + i } });
            if (i % 2 === 0) events.push({ category: 'sales', type: 'deal_lost', entity: { kind: 'deal', id: `D${i}` }, occurred_at: ago(reopened - HOUR), metadata: {} });
          }
        }
      }
    }
    // 12 machines, each down and up again many times; machine 3's first "up" arrives before its "down".
    for (let k = 0; k < 12; k++) {
      let t = 130 * DAY;
      let n = 0;
      while (t > 2 * HOUR) {
        const down = t - secs(2) - HOUR;
        // Machine 7 stays down for days (episodes across a range's start); machine 5 was renamed on and off.
        const up = down - Math.min(down - 1000, secs(k === 7 ? 4 : 1) + 60_000);
        if (down <= 0) break;
        events.push({ category: 'workshop', type: 'machine_down', entity: { kind: 'machine', id: `M${k}`, name: k === 5 && n % 3 === 1 ? 'Machine 5 (old)' : `Machine ${k}` }, occurred_at: ago(down), metadata: {} });
        if (!(k % 4 === 0 && up < 3 * DAY)) events.push({ category: 'workshop', type: 'machine_up', entity: { kind: 'machine', id: `M${k}` }, occurred_at: ago(up), metadata: {} });
        t = up; n++;
      }
      expect(n).toBeGreaterThan(10);
    }
    const upFirst = events.find((e) => (e.entity as { id?: string })?.id === 'M3' && e.type === 'machine_up')!;
    const rest = events.filter((e) => e !== upFirst);
    // Time order mostly, in several batches: the rollup sees opens first and their closes in later runs.
    rest.sort((a, b) => Date.parse(a.occurred_at as string) - Date.parse(b.occurred_at as string));
    await send([upFirst]);
    await settled();
    const third = Math.ceil(rest.length / 3);
    for (let i = 0; i < rest.length; i += third) {
      await send(rest.slice(i, i + third));
      await settled();
    }
    // Opens, closes, reopens and strays happened as intended.
    const [{ several }] = await h.sql<{ several: number }[]>`
      select count(*)::int as several from metric_entities e join metric_definitions d on d.id = e.metric_id where d.key = 'sales_pipeline' and episodes > 1`;
    expect(several).toBeGreaterThan(3);
    const [{ mixed }] = await h.sql<{ mixed: number }[]>`select count(*)::int as mixed from metric_entity_days where mixed`;
    expect(mixed).toBeGreaterThan(0);
    const [{ open }] = await h.sql<{ open: number }[]>`
      select count(*)::int as open from metric_episodes e join metric_definitions d on d.id = e.metric_id where d.key = 'sales_pipeline' and closed_at is null`;
    expect(open).toBeGreaterThan(TABLE_ROWS);
    const skipped = (await metric('ar_invoices')).skipped as Record<string, number>;
    expect(skipped.duplicate_open).toBeGreaterThan(0);

    const kept: Record<string, unknown> = {};
    for (const key of ['ar_invoices', 'sales_pipeline', 'workshop_downtime']) {
      kept[key] = await tablesAgainstEpisodes((await metric(key)).id);
      await compareAll(key);
    }
    // The widgets answer the same through the dashboards.
    const d = await h.api('GET', `/v1/dashboards/workshop?from=${encodeURIComponent(ago(90 * DAY))}&to=${encodeURIComponent(ago(0))}`);
    expect(d.status).toBe(200);
    const s = await straight((await metric('workshop_downtime')).id, base - 90 * DAY, base);
    expect(d.body.widgets.find((w: any) => w.type === 'status_grid').data.items).toEqual(s.grid);
    expect(s.grid.filter((g) => g.status === 'open').length).toBeGreaterThan(0);

    // More closes: items leave the open hours; an hour whose items have all closed has no row.
    await send(rest.filter((e) => e.type === 'invoice_issued').slice(0, 200).map((e) => ({
      category: 'finance', type: 'invoice_written_off', entity: e.entity, occurred_at: ago(0), metadata: {},
    })));
    await settled();
    const ar = await metric('ar_invoices');
    await tablesAgainstEpisodes(ar.id);
    const [{ empty }] = await h.sql<{ empty: number }[]>`select count(*)::int as empty from metric_open_hours where metric_id = ${ar.id} and n = 0`;
    expect(empty).toBe(0);
    await compareAll('ar_invoices');

    // A rebuild from scratch gives the same tables and answers.
    const before: Record<string, unknown> = {};
    for (const key of ['ar_invoices', 'sales_pipeline', 'workshop_downtime']) before[key] = await tablesAgainstEpisodes((await metric(key)).id);
    for (const key of ['ar_invoices', 'sales_pipeline', 'workshop_downtime']) expect((await h.api('POST', `/v1/metrics/${key}/rebuild`)).status).toBe(202);
    await settled();
    for (const key of ['ar_invoices', 'sales_pipeline', 'workshop_downtime']) {
      expect(await tablesAgainstEpisodes((await metric(key)).id)).toEqual(before[key]);
      await compareAll(key);
    }
    expect(kept.workshop_downtime).toEqual(before.workshop_downtime);
  }, 240_000);
});
