-- Imports (issue 14, "Imports"): a CSV or JSON file of users or events, stored in Postgres as it arrives (1 MiB
-- chunks, never whole in memory), then read by the import__run job in batches with progress.

create table imports (
  id bigint generated always as identity primary key,
  org_id bigint not null references orgs(id),
  kind text not null check (kind in ('users', 'events')),
  format text not null check (format in ('csv', 'json', 'rows')),
  dry_run boolean not null default false,
  status text not null default 'uploading' check (status in ('uploading', 'queued', 'running', 'succeeded', 'failed')),
  filename text,
  -- Bytes stored, and bytes read so far by the job (progress of a streamed file).
  bytes bigint not null default 0,
  bytes_read bigint not null default 0,
  -- The CSV header as it came (errors.csv repeats it).
  columns text[],
  rows integer not null default 0,
  ok integer not null default 0,
  failed integer not null default 0,
  -- Rows whose row key an earlier import already brought in: never imported twice.
  skipped integer not null default 0,
  error text,
  -- Runs of the job so far (a run that dies is retried; the last one marks the import failed).
  attempts integer not null default 0,
  -- A retry of the failed rows of another import (as they were, or corrected in an uploaded file).
  retry_of bigint references imports(id),
  created_by jsonb not null,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz
);
create index imports_org on imports (org_id, id desc);

create table import_chunks (
  import_id bigint not null references imports(id) on delete cascade,
  seq integer not null,
  data bytea not null,
  primary key (import_id, seq)
);

-- Each failed row as it came (JSON text as bytes: a CSV row's values in header order, or the JSON value; bytes
-- because a bad row may hold what text and jsonb cannot, a NUL or a lone surrogate) with its reason.
create table import_errors (
  import_id bigint not null references imports(id) on delete cascade,
  row_no integer not null,
  data bytea not null,
  error text not null,
  primary key (import_id, row_no)
);

-- One row key per imported row (a hash of the row as validated): a row whose key is here is never imported again.
create table import_row_keys (
  org_id bigint not null references orgs(id),
  kind text not null,
  row_key text not null,
  import_id bigint not null references imports(id),
  primary key (org_id, kind, row_key)
);
