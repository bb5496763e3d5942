-- Analytics rollups (issue 9, "Proof": a month of a million alerts answered within 200 ms). One row per
-- organisation, UTC hour of creation, category and priority (and one per hour for all of them: category and
-- priority '*', which answers without those filters read), with everything GET /v1/analytics/alerts reads
-- about the alerts created in it: the counts and the sums of the times to acknowledge and resolve (for the
-- means), per channel the messages sent / delivered / failed and the actions taken from it, per person the
-- first acknowledgements, per rule the alerts it matched, and log-scale histograms (1 % bins) of the times to
-- acknowledge (per acknowledger and category) and to resolve (per category). Lists are parallel arrays.
--
-- Written only by the job analytics__rollup (db/analytics/rollup.ts), which recomputes an hour exactly from
-- alerts, messages and the timeline whenever something of it changed (it follows the timeline and messages by
-- id, and events for repeats, which change an alert's occurrences and write no timeline row); nothing is written
-- on ingest, routing or an alert's transitions.
create table analytics_hours (
  org_id bigint not null,
  hour timestamptz not null,
  category text not null,
  priority text not null,
  created integer not null,
  acknowledged integer not null,
  resolved integer not null,
  escalated integer not null,
  tta_sum float8 not null,
  ttr_sum float8 not null,
  channels text[] not null,
  sent integer[] not null,
  delivered integer[] not null,
  failed integer[] not null,
  acted integer[] not null,
  ack_users bigint[] not null,
  ack_counts integer[] not null,
  rules bigint[] not null,
  rule_counts integer[] not null,
  -- Histograms (1 % log-scale bins) packed as big-endian binary, read by Node: `cats` names the categories the
  -- entries point at; `tta` entries are (int4 bin, int8 acknowledging person or 0, int2 index in cats, int4 count)
  -- of seconds to the first acknowledgement, `ttr` entries (int4 bin, int2 index in cats, int4 count) of seconds
  -- to resolution.
  cats text[] not null,
  -- Per category of `cats` (the all-categories row's by_category; a category's own row has one element).
  cat_created integer[] not null,
  cat_acknowledged integer[] not null,
  cat_resolved integer[] not null,
  cat_escalated integer[] not null,
  -- Dedup keys: alerts per key and their occurrences (a repeat is followed on the events it came from); a key may
  -- appear more than once in a row.
  dedup_keys text[] not null,
  key_alerts integer[] not null,
  key_occurrences bigint[] not null,
  tta bytea not null,
  ttr bytea not null,
  primary key (org_id, hour, category, priority)
);

-- The hours computed (an hour without alerts has no row above but is known to be empty).
create table analytics_hours_done (
  org_id bigint not null,
  hour timestamptz not null,
  computed_at timestamptz not null default now(),
  primary key (org_id, hour)
);

-- How far the job has followed the timeline, messages and events (ids), as the metric rollup follows events: the
-- mark passes ids it has seen and gaps older than a few seconds (aborted inserts); an event not routed yet holds it.
create table analytics_rollup_marks (
  source text primary key check (source in ('timeline', 'messages', 'events')),
  mark bigint not null default 0,
  swept_at timestamptz not null default '-infinity'
);
-- Starting at the ids there are now: every hour of an existing history is computed anyway (as never computed).
insert into analytics_rollup_marks (source, mark)
values ('timeline', (select coalesce(max(id), 0) from alert_timeline)), ('messages', (select coalesce(max(id), 0) from messages)),
  ('events', (select coalesce(max(id), 0) from events where status <> 'accepted'));

-- The histogram bin of a duration (db/metrics/sketch.ts sketchBin, alpha 1 %): 100000 + ceil(log_gamma v),
-- gamma = 1.01 / 0.99; 0 is bin 0, negative values mirror below it, so bins sort as their values do.
create function analytics_bin(v float8) returns integer language sql immutable parallel safe as $$
  select case when v = 0 then 0
    when v > 0 then 100000 + ceil(ln(v) / ln(1.01::float8 / 0.99::float8))::int
    else -(100000 + ceil(ln(-v) / ln(1.01::float8 / 0.99::float8))::int) end
$$;
