-- Scoring (docs/design.md "Scoring (the scoring jobs)"; db/scoring/).
-- Entities are written by the score__recompute batch job from events after its high-water mark, never by
-- the ingest statement (the hot path stays one insert). Score values change only in db/scoring/.

-- Every entity Herald has heard of (`entity: {kind, id, name}` on events). Attributes are the events'
-- top-level metadata keys, merged per key by the event's time (occurred_at, else received_at): attr_at keeps
-- each key's time, so a late event never overwrites a newer fact.
create table entities (
  org_id bigint not null references orgs(id),
  kind text not null,
  id text not null,
  name text,
  name_at timestamptz,
  attributes jsonb not null default '{}',
  attr_at jsonb not null default '{}',
  event_count bigint not null default 0,
  first_event_at timestamptz,
  last_event_at timestamptz,
  -- the latest 20 events about it: [{id, category, type, title, severity, at}], newest first
  recent jsonb not null default '[]',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (org_id, kind, id)
);
create index entities_recent on entities (org_id, last_event_at desc nulls last);
create index entities_name on entities (org_id, kind, lower(name) text_pattern_ops);

-- Events per entity, type and day: count factors ("late invoices in the last 90 days") read these.
create table entity_event_days (
  org_id bigint not null,
  kind text not null,
  entity_id text not null,
  category text not null,
  type text not null,
  day date not null,
  n integer not null,
  primary key (org_id, kind, entity_id, category, type, day)
);

-- The incremental job's high-water mark over events (see db/scoring/recompute.ts).
create table score_state (
  id int primary key check (id = 1),
  hwm bigint not null default 0
);
insert into score_state (id, hwm) values (1, 0);

create table scores (
  id bigint generated always as identity primary key,
  org_id bigint not null references orgs(id),
  key text not null,
  name text not null,
  entity_kind text not null,
  definition jsonb not null,
  -- bumped by every definition change; a recompute run carries the version it computes
  version int not null default 1,
  -- the trained model in use (model scores): {version, trained_at, samples, auc, calibration, coefficients, ...}
  model jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (org_id, key)
);

-- The current value of a score for an entity, with its explanation. `past` lists the thresholds the value is
-- past now, each as `below:<n>` or `above:<n>`: a crossing is a threshold entering it (one event), leaving it
-- re-arms. Named by their limit, not their position, so editing the thresholds never confuses one for another.
create table score_values (
  score_id bigint not null references scores(id) on delete cascade,
  entity_id text not null,
  value double precision not null,
  explanation jsonb not null,
  past text[] not null default '{}',
  crossed_at timestamptz,
  at timestamptz not null default now(),
  primary key (score_id, entity_id)
);
create index score_values_rank on score_values (score_id, value, entity_id);
create index score_values_crossed on score_values (score_id, crossed_at desc) where crossed_at is not null;

-- Every change of a value (the history line).
create table score_history (
  score_id bigint not null references scores(id) on delete cascade,
  entity_id text not null,
  at timestamptz not null default now(),
  value double precision not null,
  previous double precision
);
create index score_history_entity on score_history (score_id, entity_id, at);

-- Recompute and training runs with their live progress.
create table score_runs (
  id bigint generated always as identity primary key,
  score_id bigint not null references scores(id) on delete cascade,
  kind text not null check (kind in ('recompute', 'train')),
  status text not null default 'queued' check (status in ('queued', 'running', 'succeeded', 'failed')),
  reason text not null default 'manual',
  total int not null default 0,
  done int not null default 0,
  progress real not null default 0,
  result jsonb,
  error text,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz
);
create index score_runs_score on score_runs (score_id, id desc);

-- Every trained model version (kept or refused), with its held-out measures.
create table score_models (
  score_id bigint not null references scores(id) on delete cascade,
  version int not null,
  trained_at timestamptz not null default now(),
  status text not null check (status in ('trained', 'refused')),
  message text,
  samples int not null default 0,
  auc double precision,
  detail jsonb not null default '{}',
  primary key (score_id, version)
);

-- The entity page's open alerts.
create index alerts_open_entity on alerts (org_id, (entity->>'kind'), (entity->>'id')) where status <> 'resolved' and entity is not null;
