-- People: on-call schedules, personal channel preferences, quiet hours and digests (issue 13).

-- A schedule: rotations in one IANA time zone, plus overrides (someone covers from a time to a time).
create table schedules (
  id bigint generated always as identity primary key,
  org_id bigint not null references orgs(id),
  name text not null,
  timezone text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index schedules_org on schedules (org_id, id);

-- One rotation: its people take turns, one shift each, in order. The first person's first shift starts on
-- `starts_on` at `handoff`, wall-clock time in the schedule's time zone. Shift lengths are wall-clock hours
-- (daily 24, weekly 168, or N), so a 09:00 hand-off stays 09:00 local across daylight-saving changes.
create table schedule_rotations (
  id bigint generated always as identity primary key,
  org_id bigint not null,
  schedule_id bigint not null references schedules(id) on delete cascade,
  position integer not null,
  user_ids bigint[] not null check (cardinality(user_ids) > 0),
  shift text not null check (shift in ('daily', 'weekly', 'hours')),
  shift_hours integer not null check (shift_hours between 1 and 24 * 7 * 4),
  handoff time not null,
  starts_on date not null
);
create index schedule_rotations_schedule on schedule_rotations (schedule_id, position);

create table schedule_overrides (
  id bigint generated always as identity primary key,
  org_id bigint not null,
  schedule_id bigint not null references schedules(id) on delete cascade,
  user_id bigint not null references users(id),
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  created_by jsonb,
  created_at timestamptz not null default now(),
  check (ends_at > starts_at)
);
create index schedule_overrides_schedule on schedule_overrides (schedule_id, ends_at);

-- Who is on call in each of several schedules at one instant, in one set-based statement (routing resolves
-- every schedule of a batch with one call). An override covering the instant replaces the rotations of its
-- schedule (the people covering are on call, nobody else); otherwise each rotation contributes the person
-- whose shift contains the instant. Before a rotation's first hand-off it contributes nobody.
create function herald_oncall(p_schedule_ids bigint[], p_at timestamptz)
returns table (schedule_id bigint, user_id bigint)
language sql stable as $$
  with ov as (
    select o.schedule_id, o.user_id from schedule_overrides o
    where o.schedule_id = any(p_schedule_ids) and o.starts_at <= p_at and o.ends_at > p_at
  ), rot as (
    select r.schedule_id,
      r.user_ids[1 + (floor(extract(epoch from ((p_at at time zone s.timezone) - (r.starts_on + r.handoff))) / (r.shift_hours * 3600))::bigint
                      % cardinality(r.user_ids))::int] as user_id
    from schedule_rotations r join schedules s on s.id = r.schedule_id
    where r.schedule_id = any(p_schedule_ids) and (p_at at time zone s.timezone) >= (r.starts_on + r.handoff)
      and not exists (select 1 from ov where ov.schedule_id = r.schedule_id)
  )
  select distinct x.schedule_id, x.user_id from (select * from ov union all select * from rot) x
  join users u on u.id = x.user_id and u.deleted_at is null
$$;

-- Personal preferences. `channels` maps a priority to the channels the person wants for it (absent: every
-- channel the rule names). Quiet hours are wall-clock times in the person's users.timezone.
create table user_preferences (
  user_id bigint primary key references users(id),
  org_id bigint not null,
  channels jsonb not null default '{}',
  quiet_start time,
  quiet_end time,
  quiet_except text[] not null default '{critical}',
  digest_frequency text not null default 'off' check (digest_frequency in ('off', 'daily', 'weekly')),
  digest_at time not null default '08:00',
  -- When the next digest is due (null: digests off; `now()` once when turned off with messages still waiting).
  -- Moved forward each time a digest period closes.
  digest_next_at timestamptz,
  updated_at timestamptz not null default now(),
  check ((quiet_start is null) = (quiet_end is null))
);
create index user_preferences_digest_due on user_preferences (digest_next_at) where digest_next_at is not null;

-- One row per digest sent (or recorded in-app): which held low-priority messages it covered.
create table digests (
  id bigint generated always as identity primary key,
  org_id bigint not null,
  user_id bigint not null references users(id),
  channel text not null,
  alert_ids bigint[] not null,
  message_ids bigint[] not null,
  period_end timestamptz not null,
  status text not null check (status in ('pending', 'sent', 'failed')),
  provider_ref text,
  last_error text,
  created_at timestamptz not null default now(),
  sent_at timestamptz
);
create index digests_user on digests (user_id, id desc);

-- Messages held for quiet hours wait until `held_until`; messages for the digest wait for the next digest.
-- held_quiet -> pending-like send at held_until | dropped (the alert was handled meanwhile)
-- held_digest -> digested (covered by a digest row)
alter table messages add column held_until timestamptz;
alter table messages drop constraint messages_status_known;
alter table messages add constraint messages_status_known
  check (status in ('pending', 'held', 'held_quiet', 'held_digest', 'failed_temp', 'sent', 'delivered', 'failed', 'digested', 'dropped'));
comment on column messages.status is
  'pending -> sent -> delivered | failed; failed_temp retries; held waits for a bundle text; held_quiet waits for quiet hours to end (or is dropped); held_digest waits for the digest (db/model/delivery.ts)';
create index messages_held_digest on messages (user_id, id) where status = 'held_digest';
-- The sweeper looks for held messages whose send job was lost.
create index messages_held_quiet on messages (held_until) where status = 'held_quiet';
