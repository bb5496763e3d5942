-- Chat-ops (Slack, Discord).

-- Inbound interactions already taken (a Slack click's trigger id, a Discord interaction id, a slash
-- command's trigger id). Claimed by insert before the action runs: Slack's retries (X-Slack-Retry-Num),
-- Socket Mode redeliveries and replayed requests find the row and change nothing. Rows older than a day
-- are pruned (no provider retries that late).
create table chat_interactions (
  org_id bigint not null references orgs(id),
  provider text not null check (provider in ('slack', 'discord')),
  key text not null,
  received_at timestamptz not null default now(),
  primary key (org_id, provider, key)
);
create index chat_interactions_received on chat_interactions (received_at);

-- Finding the Herald user behind a click: by the chat user id linked to them.
create index users_slack_user on users (org_id, slack_user_id) where slack_user_id is not null and deleted_at is null;
create index users_discord_user on users (org_id, discord_user_id) where discord_user_id is not null and deleted_at is null;
