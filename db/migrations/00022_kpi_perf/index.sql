-- KPI dashboards that read rollups only (db/metrics/rollup.ts, db/metrics/query.ts).
--
-- Lifecycle flows per hour and day: what opened (kind 'open': count, opening amount) and what closed (kind =
-- the closing 'category/type': count, the items' opening amount, summed seconds from opening to closing), so
-- the open count at any moment, the open-amount series and the time to close over a window are sums of a few
-- hundred rows plus the episodes of the partial hours at the edges. Kept as long as the episodes are (one row
-- per metric, grain, hour or day and kind with activity).
create table metric_lifecycle_buckets (
  metric_id bigint not null references metric_definitions(id) on delete cascade,
  grain char(1) not null check (grain in ('h', 'd')),
  t timestamptz not null,
  kind text not null,
  n bigint not null default 0,
  amount double precision not null default 0,
  dur_s double precision not null default 0,
  primary key (metric_id, grain, t, kind)
);

-- Log-scale histograms (relative accuracy 1 %: bin k holds values in (γ^(k-1), γ^k], γ = 1.01/0.99, offset
-- by 100000; 0 is bin 0, negatives mirrored below it) per bucket of p50/p90 metrics (every value, never
-- capped) and, under grp '~ttc', of lifecycle metrics' times to close by closing hour and day. Percentiles
-- over more values than query.ts reads exactly come from these. Same retention as metric_buckets per grain.
create table metric_sketches (
  metric_id bigint not null references metric_definitions(id) on delete cascade,
  grain char(1) not null check (grain in ('m', 'h', 'd')),
  t timestamptz not null,
  grp text not null default '',
  bin int not null,
  n bigint not null default 0,
  primary key (metric_id, grain, t, grp, bin)
);

-- The flows and times to close of the episodes already there.
insert into metric_lifecycle_buckets (metric_id, grain, t, kind, n, amount, dur_s)
select metric_id, g.grain, x.t, x.kind, count(*), sum(x.amount), sum(x.dur)
from metric_episodes e
cross join (values ('h'), ('d')) g(grain)
cross join lateral (values
  (date_trunc(case g.grain when 'h' then 'hour' else 'day' end, e.opened_at, 'UTC'), 'open', coalesce(e.amount, 0), 0::float8),
  (date_trunc(case g.grain when 'h' then 'hour' else 'day' end, e.closed_at, 'UTC'), e.closed_category || '/' || e.closed_type, coalesce(e.amount, 0),
    extract(epoch from e.closed_at - e.opened_at)::float8)
) x(t, kind, amount, dur)
where e.opened_at is not null and x.t is not null
group by 1, 2, 3, 4;

insert into metric_sketches (metric_id, grain, t, grp, bin, n)
select metric_id, g.grain, date_trunc(case g.grain when 'h' then 'hour' else 'day' end, e.closed_at, 'UTC'), '~ttc',
  case when d > 0 then 100000 + ceil(ln(d) / ln(1.01 / 0.99))::int when d < 0 then -(100000 + ceil(ln(-d) / ln(1.01 / 0.99))::int) else 0 end,
  count(*)
from metric_episodes e
cross join (values ('h'), ('d')) g(grain)
cross join lateral (select extract(epoch from e.closed_at - e.opened_at)::float8 as d) x
where e.opened_at is not null and e.closed_at is not null
group by 1, 2, 3, 4, 5;
