-- SMS and email (issue 4). Email needs no tables: its one-tap links are signed tokens.

-- Reply codes: per phone, the smallest number not held by an open alert. A row stays after its alert
-- resolves (it still proves "this alert was texted to this phone"); allocation marks it released, which
-- frees the code. Codes are per phone across orgs: one Twilio number serves every org, so the code (not
-- the org) is what tells two orgs' alerts apart when a phone belongs to people in both.
create table sms_codes (
  id bigint generated always as identity primary key,
  org_id bigint not null references orgs(id),
  phone text not null,
  code integer not null check (code > 0),
  alert_id bigint not null references alerts(id),
  created_at timestamptz not null default now(),
  -- Set once a text carrying the code was accepted by Twilio; only then can a reply use the code.
  last_sent_at timestamptz,
  released_at timestamptz
);
-- Invariant: a code names at most one live alert per phone, and an alert has at most one live code per
-- phone. Allocation runs under a per-phone lock; these indexes settle any race the lock does not.
create unique index sms_codes_live_code on sms_codes (phone, code) where released_at is null;
create unique index sms_codes_live_alert on sms_codes (phone, alert_id) where released_at is null;

-- Every text Herald asks Twilio to send: the per-phone rate limit counts these, and inbound replies check
-- them ("was this alert sent to this phone?"). A row is reserved (sid null) before the API call and gets
-- the SID when Twilio accepts; a rejected send deletes its reservation.
create table sms_texts (
  id bigint generated always as identity primary key,
  org_id bigint not null references orgs(id),
  phone text not null,
  kind text not null check (kind in ('alert', 'bundle')),
  message_id bigint references messages(id),
  alert_ids bigint[] not null,
  code integer,
  sid text,
  created_at timestamptz not null default now()
);
create index sms_texts_phone on sms_texts (phone, created_at desc);
create index sms_texts_sid on sms_texts (sid) where sid is not null;
-- One alert text per message row: a retry finds the text it already sent instead of sending again.
create unique index sms_texts_message on sms_texts (message_id) where kind = 'alert';

-- Messages held back by the per-phone rate limit; one bundle text later covers them all.
create table sms_held (
  message_id bigint primary key references messages(id),
  org_id bigint not null references orgs(id),
  phone text not null,
  alert_id bigint not null references alerts(id),
  created_at timestamptz not null default now(),
  -- The bundle text that covers it (null: still waiting).
  text_id bigint references sms_texts(id)
);
create index sms_held_waiting on sms_held (phone) where text_id is null;

-- Inbound texts: an audit of who replied what, Twilio's retries answered once (same MessageSid), and the
-- budget of answers to texts that did nothing (at most a few per phone per hour).
create table sms_inbound (
  id bigint generated always as identity primary key,
  message_sid text unique,
  phone text not null,
  org_id bigint,
  body text not null,
  outcome text not null,
  alert_id bigint,
  answer text,
  -- true when the text did nothing (unknown phone, unreadable, no such code): counts against the budget.
  unrecognised boolean not null default false,
  created_at timestamptz not null default now()
);
create index sms_inbound_phone on sms_inbound (phone, created_at desc);
