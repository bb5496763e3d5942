-- Audit trail (docs/design.md "Governance"): one row per configuration change or security event, written in the
-- same transaction as the change itself (db/audit/record.ts), so a change without its row cannot commit.
create table audit (
  id bigint generated always as identity primary key,
  org_id bigint not null references orgs(id),
  at timestamptz not null default now(),
  -- Who: user, api_key, integration, system, or anonymous (a failed sign-in: `actor_name` is the email typed).
  actor_kind text not null,
  actor_id text,
  actor_name text not null,
  action text not null,             -- `<kind>.<verb>`: rule.created, auth.signed_in, api_key.revoked
  entity_kind text not null,
  entity_id text,
  entity_label text,
  before jsonb,                     -- secrets are redacted before they get here
  after jsonb,
  ip text
);
create index audit_org_id on audit (org_id, id desc);
create index audit_org_action on audit (org_id, action, id desc);
create index audit_org_entity on audit (org_id, entity_kind, entity_id, id desc);
create index audit_org_actor on audit (org_id, actor_kind, actor_id, id desc);
-- Burst counting (failed sign-ins per account and per address within a window).
create index audit_burst_entity on audit (action, entity_id, at) where action = 'auth.sign_in_failed';
create index audit_burst_ip on audit (action, ip, at) where action = 'auth.sign_in_failed';

-- Addresses a user signed in from, or an API key was used from: a new one is a security event.
create table audit_known_addresses (
  org_id bigint not null,
  subject text not null,            -- user:<id> | api_key:<id>
  address text not null,
  first_at timestamptz not null default now(),
  last_at timestamptz not null default now(),
  primary key (subject, address)
);

-- One security/* event per subject per window ("once per burst, not per failure"): a subject's row holds the end
-- of the window its last event opened; a new event is posted only after it.
create table security_windows (
  org_id bigint not null,
  subject text not null,            -- login_failures:account:<email> | login_failures:address:<ip> | export:user:<id>
  until timestamptz not null,
  primary key (org_id, subject)
);

-- The preset rule: security/* events go to the admins, by email and in the app.
insert into rules (org_id, name, enabled, position, continue, match, targets, channels, priority, escalation)
select id, 'Security events to admins', true, 0, true,
  '{"category": "security", "type": null, "min_severity": "info", "conditions": []}'::jsonb,
  '{"roles": ["admin"], "users": [], "schedules": []}'::jsonb,
  array['email', 'in_app'], 'high', '{"steps": [], "repeat": 0}'::jsonb
from orgs;
