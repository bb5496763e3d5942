-- Working on an alert together (issue 16): who the alert is assigned to. `assigned_to` keeps the reference
-- honest (a user of this database); `assignee` is the {id, name} every view and channel shows, written in
-- the same UPDATE, like acknowledged_by (no join on every render of an alert).
alter table alerts add column assigned_to bigint references users(id);
alter table alerts add column assignee jsonb;
create index alerts_assigned_to on alerts (org_id, assigned_to) where assigned_to is not null;
