-- Reports (the report jobs, issue 9): definitions, and every run with its file.

-- A report definition: what to compute (`kind` + `params`), in which format, for whom, and when. A scheduled
-- report keeps its next due instant here and one keyed graphile-worker job (`report:<id>:schedule`) at it.
create table reports (
  id bigint generated always as identity primary key,
  org_id bigint not null references orgs(id),
  name text not null,
  kind text not null,
  params jsonb not null default '{}',
  format text not null check (format in ('pdf', 'csv', 'xlsx')),
  -- {cron, timezone} or null (run on demand only).
  schedule jsonb,
  -- {users: [id], roles: [key], emails: [address], slack_channels: [name or id]}
  recipients jsonb not null default '{}',
  next_run_at timestamptz,
  created_by jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index reports_org on reports (org_id, id);

-- One run: queued → running → succeeded | failed (a failed run can be retried: it goes back to queued).
-- The file is kept in Postgres (bytea, TOASTed out of line; history queries never select it).
create table report_runs (
  id bigint generated always as identity primary key,
  org_id bigint not null,
  report_id bigint not null references reports(id) on delete cascade,
  trigger text not null check (trigger in ('manual', 'schedule')),
  -- The schedule slot this run is for (null for a run asked for by hand).
  scheduled_for timestamptz,
  period_from timestamptz not null,
  period_to timestamptz not null,
  status text not null default 'queued' check (status in ('queued', 'running', 'succeeded', 'failed')),
  progress real not null default 0,
  attempts integer not null default 0,
  started_at timestamptz,
  finished_at timestamptz,
  rows bigint,
  bytes bigint,
  error text,
  filename text,
  content_type text,
  file bytea,
  -- One entry per recipient: {to, channel, ok, error?}.
  deliveries jsonb not null default '[]',
  created_at timestamptz not null default now()
);
create index report_runs_report on report_runs (report_id, id desc);
