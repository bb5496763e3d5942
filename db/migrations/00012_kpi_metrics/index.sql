-- KPI metrics and role dashboards (docs/design.md "KPI metrics and role dashboards"; db/metrics/).
-- Metrics read from rollups that the metric__rollup job keeps current from events in batches; a request
-- never scans the events table. Retention (db/metrics/rollup.ts): minute buckets 2 days, hour buckets
-- 120 days, day buckets 5 years; at most 2,000 values per bucket are kept for p50/p90/distinct.

create table metric_definitions (
  id bigint generated always as identity primary key,
  org_id bigint not null references orgs(id),
  key text not null,
  name text not null,
  definition jsonb not null,
  -- bumped by every change of what the rollups depend on; a rebuild job carries the version it builds
  version int not null default 1,
  -- the last event id applied to this metric's rollups; caught_up metrics follow the global mark
  hwm bigint not null default 0,
  caught_up boolean not null default false,
  rebuild_progress real not null default 0,
  -- events the metric could not use: field missing, value not numeric where a number is needed,
  -- lifecycle events that repeat, close something never opened or arrive out of order
  skipped jsonb not null default '{}',
  -- threshold hysteresis: ok | warn | crit, and how many crossings have been posted
  threshold_state text not null default 'ok' check (threshold_state in ('ok', 'warn', 'crit')),
  crossings int not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (org_id, key)
);

-- The global high-water mark: every event with id <= hwm has been applied to every caught-up metric.
create table metric_rollup_state (
  id int primary key check (id = 1),
  hwm bigint not null default 0,
  cleaned_at timestamptz not null default now(),
  -- when the preset metrics and dashboards were created (first start); deleted presets stay deleted
  presets_at timestamptz
);
insert into metric_rollup_state (id, hwm) values (1, 0);

-- Per-bucket aggregates for count|sum|avg|min|max|p50|p90|distinct|latest metrics.
create table metric_buckets (
  metric_id bigint not null references metric_definitions(id) on delete cascade,
  grain char(1) not null check (grain in ('m', 'h', 'd')),
  t timestamptz not null,
  grp text not null default '',
  n bigint not null default 0,
  sum double precision not null default 0,
  min double precision,
  max double precision,
  vals double precision[],
  dvals text[],
  dropped bigint not null default 0,
  latest_value double precision,
  latest_at timestamptz,
  primary key (metric_id, grain, t, grp)
);

-- Lifecycle metrics: one row per episode of an entity (opened -> closed). An orphan close (its opening
-- event not seen yet) is kept with opened_at null so a late opening event can pair with it.
create table metric_episodes (
  id bigint generated always as identity primary key,
  metric_id bigint not null references metric_definitions(id) on delete cascade,
  entity text not null,
  entity_name text,
  opened_at timestamptz,
  amount double precision,
  closed_at timestamptz,
  closed_category text,
  closed_type text,
  open_event_id bigint,
  close_event_id bigint
);
create index metric_episodes_entity on metric_episodes (metric_id, entity);
create index metric_episodes_open on metric_episodes (metric_id, opened_at) where closed_at is null;
create index metric_episodes_opened on metric_episodes (metric_id, opened_at);
create index metric_episodes_closed on metric_episodes (metric_id, closed_at) where closed_at is not null;

create table dashboards (
  id bigint generated always as identity primary key,
  org_id bigint not null references orgs(id),
  key text not null,
  name text not null,
  roles text[] not null default '{}',
  widgets jsonb not null default '[]',
  preset boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (org_id, key)
);
