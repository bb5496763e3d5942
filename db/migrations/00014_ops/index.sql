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

-- The preset rule for Herald's own alerts (category `herald`): admins, in the app, by push and email
-- (channels without credentials are skipped). Edit or delete it like any rule.
insert into rules (org_id, name, position, match, targets, channels, priority, escalation, sop)
select 1, 'Herald itself (preset)', 0,
  '{"category": "herald", "type": null, "min_severity": "info", "conditions": []}'::jsonb,
  '{"roles": ["admin"], "users": [], "schedules": []}'::jsonb,
  array['in_app', 'push', 'email'], 'high', '{"steps": [], "repeat": 0}'::jsonb,
  '{"title": "Herald needs attention", "steps": ["Open the System page in the app (uptime, checks, processes)", "Read /readyz and the process logs", "See docs/operations.md for the runbook"], "url": null}'::jsonb
where exists (select 1 from orgs where id = 1);
