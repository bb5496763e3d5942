-- Alert analytics (issue 9): what GET /v1/analytics/alerts and the exports read.

-- The first acknowledgement of an alert. `acknowledged_at` is cleared when a snooze ends and the alert
-- reopens, but MTTA and "ever acknowledged" count the first one; the timeline has it, yet reading the
-- timeline for every alert of a month is the slow part of an analytics answer. This trigger keeps it on
-- the row: it fires only when an update sets acknowledged_at on an alert never acknowledged before
-- (acknowledge, bulk acknowledge, snooze), so the cost on ingest is nil and on acknowledgement one row.
alter table alerts add column first_acknowledged_at timestamptz, add column first_acknowledged_by jsonb;

create function alerts_first_acknowledgement() returns trigger language plpgsql as $$
begin
  new.first_acknowledged_at := new.acknowledged_at;
  new.first_acknowledged_by := new.acknowledged_by;
  return new;
end $$;

create trigger alerts_first_acknowledgement
  before insert or update of acknowledged_at on alerts
  for each row when (new.acknowledged_at is not null and new.first_acknowledged_at is null)
  execute function alerts_first_acknowledgement();

-- Alerts acknowledged before this migration: their first acknowledgement (or snooze) from the timeline.
update alerts a set first_acknowledged_at = t.at, first_acknowledged_by = t.actor
from (
  select distinct on (alert_id) alert_id, at, actor from alert_timeline
  where kind in ('acknowledged', 'snoozed') order by alert_id, at, id
) t
where t.alert_id = a.id;

-- The analytics range selects alerts by creation time.
create index alerts_org_created_at on alerts (org_id, created_at);

-- "Actions taken from each channel" and the channel split: the acknowledge / snooze / resolve rows and the
-- messages of the alerts in range. Both are written after their alert, so `at >= from` (resp. created_at)
-- bounds them by time: an index range scan, not a scan of the whole table. Each costs one index entry per
-- action (acknowledge, snooze, resolve) and per message.
create index alert_timeline_actions on alert_timeline (at) include (alert_id, actor)
  where kind in ('acknowledged', 'snoozed', 'resolved');
create index messages_created_at on messages (created_at) include (alert_id, channel, status);
