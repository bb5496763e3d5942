-- Integrations: other tools (PagerDuty-speaking senders, Alertmanager, Grafana, cron heartbeats) post events
-- with a key in the body or the URL. Only the SHA-256 of the key is stored; the key is shown once.
create table integrations (
  id bigint generated always as identity primary key,
  org_id bigint not null references orgs(id),
  name text not null,
  kind text not null check (kind in ('pagerduty', 'alertmanager', 'grafana', 'heartbeat')),
  category text not null,
  defaults jsonb not null default '{}',
  key_hash bytea not null unique,
  -- The first characters of the key, so people can tell keys apart without the secret.
  key_prefix text not null,
  last_event_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index integrations_org on integrations (org_id, id);

-- Heartbeat monitors: one per integration of kind heartbeat. Their timer is one keyed graphile-worker job
-- (heartbeat__check) due at due_at; a ping moves it.
create table heartbeats (
  id bigint primary key references integrations(id) on delete cascade,
  org_id bigint not null references orgs(id),
  interval_seconds integer not null check (interval_seconds > 0),
  grace_seconds integer not null check (grace_seconds >= 0),
  -- new (never pinged) -> up <-> down (missed, its alert open until the next ping)
  state text not null default 'new' check (state in ('new', 'up', 'down')),
  last_ping_at timestamptz,
  due_at timestamptz not null,
  missed_at timestamptz
);

-- Which integration an event came through (null: POST /v1/events). No foreign key: events outlive a deleted
-- integration and the ingest statement stays a plain insert.
alter table events add column integration_id bigint;
create index events_integration on events (integration_id, id desc) where integration_id is not null;
-- GET /v1/events?dedup_key= and the list by recency.
create index events_org_dedup on events (org_id, dedup_key, id desc);

-- Expectations: after an event of one type, one of some other types should follow for the same entity (or
-- dedup key) within a time, else Herald posts the `then` event. The timer is a keyed graphile-worker job
-- (expectation__due) started and cancelled by the routing transaction.
create table expectations (
  id bigint generated always as identity primary key,
  org_id bigint not null references orgs(id),
  name text not null,
  after jsonb not null,
  expect jsonb not null,
  within_minutes double precision not null check (within_minutes > 0),
  same text not null check (same in ('entity', 'dedup_key')),
  "then" jsonb not null,
  enabled boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index expectations_org on expectations (org_id) where enabled;

-- Maintenance windows: events matching a window while it is open are kept with status `suppressed` (and the
-- window's id) and notify nobody. One-off (starts_at..ends_at) or recurring (cron, UTC, + duration_minutes,
-- optionally bounded by starts_at/ends_at).
create table maintenance_windows (
  id bigint generated always as identity primary key,
  org_id bigint not null references orgs(id),
  name text not null,
  starts_at timestamptz,
  ends_at timestamptz,
  cron text,
  duration_minutes double precision,
  match jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (cron is not null or (starts_at is not null and ends_at is not null)),
  check (starts_at is null or ends_at is null or ends_at > starts_at),
  check ((cron is null) = (duration_minutes is null))
);
create index maintenance_windows_org on maintenance_windows (org_id);
alter table events add column maintenance_id bigint;
