-- Herald core schema. Every table carries org_id; every query filters by it.

create table orgs (
  id bigint generated always as identity primary key,
  name text not null,
  created_at timestamptz not null default now()
);
insert into orgs (name) overriding system value values ('Default');

-- Secrets the process needs across restarts and across API/worker processes (e.g. the key that encrypts
-- webhook secrets when HERALD_SECRET_KEY is unset). One row per name.
create table settings (
  name text primary key,
  value text not null
);

create table roles (
  org_id bigint not null references orgs(id),
  key text not null check (key ~ '^[a-z][a-z0-9_]{0,39}$'),
  name text not null,
  built_in boolean not null default false,
  created_at timestamptz not null default now(),
  primary key (org_id, key)
);
insert into roles (org_id, key, name, built_in) values
  (1, 'admin', 'Admin', true), (1, 'ceo', 'CEO', true), (1, 'sales', 'Sales', true),
  (1, 'accounting', 'Accounting', true), (1, 'office', 'Office', true), (1, 'workshop', 'Workshop', true),
  (1, 'field', 'Field', true), (1, 'shop_supervisor', 'Shop supervisor', true);

create table users (
  id bigint generated always as identity primary key,
  org_id bigint not null references orgs(id),
  name text not null,
  email text not null,
  phone text,
  roles text[] not null default '{}',
  slack_user_id text,
  discord_user_id text,
  timezone text not null default 'UTC',
  password_hash text,
  sms_opted_out boolean not null default false,
  deleted_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index users_org_email on users (org_id, lower(email)) where deleted_at is null;
create index users_roles on users using gin (roles);
create unique index users_phone on users (org_id, phone) where phone is not null and deleted_at is null;

create table api_keys (
  id bigint generated always as identity primary key,
  org_id bigint not null references orgs(id),
  name text not null,
  prefix text not null,
  secret_hash bytea not null unique,
  scopes text[] not null,
  expires_at timestamptz,
  revoked_at timestamptz,
  last_used_at timestamptz,
  created_by text,
  created_at timestamptz not null default now()
);

create table rules (
  id bigint generated always as identity primary key,
  org_id bigint not null references orgs(id),
  name text not null,
  enabled boolean not null default true,
  position integer not null default 100,
  continue boolean not null default false,
  match jsonb not null,
  targets jsonb not null,
  channels text[] not null,
  priority text not null,
  escalation jsonb not null,
  slack_channel text,
  discord_channel text,
  sop jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index rules_org_position on rules (org_id, position, id);

create table events (
  id bigint generated always as identity primary key,
  org_id bigint not null references orgs(id),
  category text not null,
  type text not null,
  title text not null,
  severity text not null,
  body text,
  source text,
  dedup_key text not null,
  action text not null,
  metadata jsonb not null default '{}',
  entity jsonb,
  occurred_at timestamptz,
  received_at timestamptz not null default now(),
  -- accepted -> routed | deduplicated | resolved | suppressed | unrouted
  status text not null default 'accepted',
  alert_id bigint,
  rule_ids bigint[] not null default '{}',
  routed_at timestamptz
);
create index events_accepted on events (id) where status = 'accepted';

create table idempotency_keys (
  org_id bigint not null,
  key text not null,
  response jsonb not null,
  created_at timestamptz not null default now(),
  primary key (org_id, key)
);

create table alerts (
  id bigint generated always as identity primary key,
  org_id bigint not null references orgs(id),
  status text not null check (status in ('triggered', 'acknowledged', 'resolved')),
  priority text not null,
  severity text not null,
  category text not null,
  type text not null,
  title text not null,
  body text,
  source text,
  dedup_key text not null,
  metadata jsonb not null default '{}',
  entity jsonb,
  occurrences integer not null default 1,
  rule_ids bigint[] not null,
  -- Snapshot of the matched rules' routing at creation: later rule edits do not re-route a live alert.
  route jsonb not null,
  sop jsonb,
  escalation_level integer not null default 0,
  escalation_next_at timestamptz,
  snoozed_until timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  last_event_at timestamptz not null default now(),
  acknowledged_at timestamptz,
  acknowledged_by jsonb,
  resolved_at timestamptz,
  resolved_by jsonb
);
-- Invariant: at most one open alert per dedup key; routing settles dedup races on this index.
create unique index alerts_open_dedup on alerts (org_id, dedup_key) where status <> 'resolved';
create index alerts_org_status on alerts (org_id, status, id desc);
create index alerts_org_created on alerts (org_id, id desc);
create index alerts_due on alerts (escalation_next_at) where status = 'triggered';
create index alerts_snoozed on alerts (snoozed_until) where status = 'acknowledged' and snoozed_until is not null;

create table alert_timeline (
  id bigint generated always as identity primary key,
  org_id bigint not null,
  alert_id bigint not null references alerts(id),
  at timestamptz not null default now(),
  kind text not null,
  actor jsonb not null,
  detail jsonb not null default '{}'
);
create index alert_timeline_alert on alert_timeline (alert_id, id);

-- One row per (alert, level, recipient, channel): the unique key makes re-running a notify step harmless.
create table messages (
  id bigint generated always as identity primary key,
  org_id bigint not null,
  alert_id bigint not null references alerts(id),
  level integer not null,
  recipient text not null,
  user_id bigint references users(id),
  channel text not null,
  -- pending -> sent -> delivered | failed_temp (will retry) | failed
  status text not null default 'pending',
  attempts integer not null default 0,
  provider_ref text,
  provider_state jsonb,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (alert_id, level, recipient, channel)
);
create index messages_provider_ref on messages (channel, provider_ref) where provider_ref is not null;

create table notifications (
  id bigint generated always as identity primary key,
  org_id bigint not null,
  user_id bigint not null references users(id),
  alert_id bigint not null references alerts(id),
  message_id bigint references messages(id),
  level integer not null,
  title text not null,
  read_at timestamptz,
  created_at timestamptz not null default now()
);
create index notifications_user on notifications (user_id, id desc);
create index notifications_unread on notifications (user_id) where read_at is null;

create table webhooks (
  id bigint generated always as identity primary key,
  org_id bigint not null references orgs(id),
  url text not null,
  events text[] not null,
  description text,
  secret_enc text not null,
  enabled boolean not null default true,
  disabled_reason text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table webhook_deliveries (
  id bigint generated always as identity primary key,
  org_id bigint not null,
  webhook_id bigint not null references webhooks(id),
  -- The Standard Webhooks `webhook-id`: identical on every retry of one delivery.
  msg_id text not null unique,
  event_type text not null,
  alert_id bigint,
  payload jsonb not null,
  -- pending -> delivered | failed_temp (will retry) | failed
  status text not null default 'pending',
  attempts integer not null default 0,
  response_status integer,
  response_body text,
  last_error text,
  duration_ms integer,
  created_at timestamptz not null default now(),
  last_attempt_at timestamptz,
  next_attempt_at timestamptz,
  delivered_at timestamptz
);
create index webhook_deliveries_hook on webhook_deliveries (webhook_id, id desc);

-- PWA sessions: the cookie carries a random token; only its hash is stored.
create table sessions (
  id bigint generated always as identity primary key,
  org_id bigint not null,
  user_id bigint not null references users(id),
  token_hash bytea not null unique,
  csrf_token text not null,
  expires_at timestamptz not null,
  created_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now()
);

-- Worker liveness: each worker process refreshes its graphile-worker ids here. Jobs locked by ids that
-- stopped refreshing (a killed process) are unlocked by the sweeper instead of waiting graphile-worker's
-- four-hour lock timeout.
create table worker_heartbeats (
  worker_id text primary key,
  seen_at timestamptz not null default now()
);
