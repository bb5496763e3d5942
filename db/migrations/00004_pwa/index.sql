-- The PWA: web push subscriptions, SOP checklist ticks, and the index the "my queue" list needs.

-- One row per browser push subscription (PushSubscription: endpoint + the keys the payload is encrypted to).
-- The endpoint is unique across the installation: a browser that signs in as someone else moves its
-- subscription to the new person instead of notifying both.
create table push_subscriptions (
  id bigint generated always as identity primary key,
  org_id bigint not null references orgs(id),
  user_id bigint not null references users(id),
  endpoint text not null,
  p256dh text not null,
  auth text not null,
  user_agent text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  last_sent_at timestamptz,
  last_error text
);
create unique index push_subscriptions_endpoint on push_subscriptions (endpoint);
create index push_subscriptions_user on push_subscriptions (user_id);

-- SOP checklist progress: one row per ticked step of an alert, with who ticked it. Unticking deletes the
-- row. The next person to open the alert sees what was already done.
create table sop_progress (
  org_id bigint not null references orgs(id),
  alert_id bigint not null references alerts(id),
  step integer not null check (step >= 0),
  checked_by jsonb not null,
  checked_at timestamptz not null default now(),
  primary key (alert_id, step)
);

-- GET /v1/alerts?mine=true ("alerts that notified me") looks messages up by person.
create index messages_user_alert on messages (user_id, alert_id) where user_id is not null;
