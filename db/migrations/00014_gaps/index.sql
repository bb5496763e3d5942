-- Slack DM digests and maintenance windows that pause escalation (issues 12 and 13).

-- A digest is claimed (`sending`) before its provider call, so a retry never posts a Slack DM twice; one that
-- crashed mid-call stays `sending` (at most once) and is shown as such.
alter table digests drop constraint digests_status_check;
alter table digests add constraint digests_status_check check (status in ('pending', 'sending', 'sent', 'failed'));

-- A window may also hold the escalation of alerts already open that it matches: their timer fires, sees the
-- window, writes "escalation paused" once and waits for the window's end instead of notifying the next level.
alter table maintenance_windows add column pause_escalation boolean not null default false;
