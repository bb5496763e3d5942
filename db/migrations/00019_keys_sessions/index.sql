-- API keys, rate limits and sessions (issue 14, "API keys", "Rate limits", "Sessions").

-- Rotation keeps the previous secret valid until previous_expires_at (the overlap window); a per-key limit
-- (null: HERALD_RATE_LIMIT_API_KEY_PER_MINUTE); where the key was last used from.
alter table api_keys
  add column rate_limit_per_minute integer check (rate_limit_per_minute between 1 and 100000000),
  add column previous_secret_hash bytea unique,
  add column previous_expires_at timestamptz,
  add column rotated_at timestamptz,
  add column last_used_address text;

-- Requests per key, day (UTC) and status class, written in batches from in-process counters.
create table api_key_usage (
  key_id bigint not null references api_keys(id) on delete cascade,
  day date not null,
  status_class text not null check (status_class in ('1xx', '2xx', '3xx', '4xx', '5xx')),
  requests bigint not null default 0,
  primary key (key_id, day, status_class)
);

-- rate-limiter-flexible's Postgres store (RateLimiterPostgres, tableCreated: true): one row per limited key and
-- calendar minute; `expire` is in epoch milliseconds. Rows past their minute are deleted by the limiter's sync loop.
create table rate_limits (
  key varchar(255) primary key,
  points integer not null default 0,
  expire bigint
);
create index rate_limits_expire on rate_limits (expire);

-- Sessions: the device and address they were opened from; a session whose second factor is still owed
-- (`pending`: the TOTP code; `enrol`: an admin who must enrol first when HERALD_REQUIRE_2FA=1).
alter table sessions
  add column user_agent text,
  add column address text,
  add column second_factor text check (second_factor in ('pending', 'enrol')),
  add column second_factor_failures integer not null default 0;
create index sessions_user on sessions (user_id);

-- TOTP second factor: the secret sealed with the instance key; enabled_at null while enrolment is unconfirmed;
-- last_step refuses a code used before (replay).
create table user_totp (
  user_id bigint primary key references users(id) on delete cascade,
  secret text not null,
  enabled_at timestamptz,
  last_step bigint not null default 0,
  created_at timestamptz not null default now()
);

-- One-time recovery codes, only their SHA-256 stored.
create table user_recovery_codes (
  id bigint generated always as identity primary key,
  user_id bigint not null references users(id) on delete cascade,
  code_hash bytea not null,
  used_at timestamptz
);
create index user_recovery_codes_user on user_recovery_codes (user_id);
