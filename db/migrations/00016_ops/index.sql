-- Operating Herald (issue 15): self-monitoring, the readiness history and retention.

-- One row per Herald process (API, worker or both), refreshed by its watcher every few seconds. A worker
-- process whose row stopped refreshing without a clean stop (`stopped_at`) is gone (db/system/watch.ts).
create table herald_processes (
  id text primary key,
  roles text[] not null,
  host text not null,
  pid integer not null,
  started_at timestamptz not null default now(),
  seen_at timestamptz not null default now(),
  stopped_at timestamptz
);

-- Each process's readiness (the /readyz checks), kept so the PWA's System page shows uptime and history.
-- Pruned by the retention job (HERALD_RETAIN_READINESS_DAYS).
create table readiness_checks (
  id bigint generated always as identity primary key,
  process_id text not null,
  at timestamptz not null default now(),
  ready boolean not null,
  checks jsonb not null
);
create index readiness_checks_at on readiness_checks (at);

-- Herald's own trouble, one row per condition (`queue`, `channel:email`, `worker:<process>`, `disk`):
-- `open` while the condition holds; `seq` numbers the incidents so each trigger and resolve posts once.
create table self_monitor_state (
  key text primary key,
  open boolean not null default false,
  seq integer not null default 0,
  detail jsonb not null default '{}',
  changed_at timestamptz not null default now()
);

-- Channel failures in the last minutes: messages by the time they last changed.
create index messages_updated_at on messages (updated_at) include (channel, status);
