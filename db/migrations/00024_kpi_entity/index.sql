-- Lifecycle reads that no longer scan every open item or every episode (db/metrics/rollup.ts keeps these in
-- the metric__rollup job, from the episodes of the entities each batch touches; metric__rebuild rebuilds them
-- with the rest of a metric's rollups).
--
-- The items open now (closed_at null, opened_at known) per opening hour: count and opening amount. The AR
-- aging and "open for more than N days" add whole hours from here and read the episodes only for the hours
-- that hold one of the age limits (and for items closed after the moment asked about). Rows whose items have
-- all closed are deleted.
create table metric_open_hours (
  metric_id bigint not null references metric_definitions(id) on delete cascade,
  t timestamptz not null,
  n bigint not null default 0,
  amount double precision not null default 0,
  primary key (metric_id, t)
);

-- One row per entity with at least one opened episode: its latest episode (the "down now" grid reads these
-- instead of picking the latest of every episode) and how many episodes it has (the table widget reads the
-- episodes of entities with several in full; those with one only when they can be in its top rows).
create table metric_entities (
  metric_id bigint not null references metric_definitions(id) on delete cascade,
  entity text not null,
  entity_name text,
  opened_at timestamptz not null,
  closed_at timestamptz,
  episodes int not null,
  primary key (metric_id, entity)
);
create index metric_entities_opened on metric_entities (metric_id, opened_at);
create index metric_entities_several on metric_entities (metric_id, entity) where episodes > 1;

insert into metric_open_hours (metric_id, t, n, amount)
select metric_id, date_trunc('hour', opened_at, 'UTC'), count(*), coalesce(sum(amount), 0)
from metric_episodes where closed_at is null and opened_at is not null
group by 1, 2;

insert into metric_entities (metric_id, entity, entity_name, opened_at, closed_at, episodes)
select distinct on (metric_id, entity) metric_id, entity, entity_name, opened_at, closed_at,
  count(*) over (partition by metric_id, entity)
from metric_episodes where opened_at is not null
order by metric_id, entity, opened_at desc, id desc;

-- For entities with several episodes (a machine down and up again): their closed episodes per UTC day of
-- closing, so the table widget sums whole days of a range from here and reads episodes only at the range's
-- edges, for the open ones, and for a day whose row cannot stand for its episodes (one of them opened before
-- the range, or their names differ: `name` is null then and `mixed` true). Rewritten, per touched day, from the
-- entity's episodes.
create table metric_entity_days (
  metric_id bigint not null references metric_definitions(id) on delete cascade,
  entity text not null,
  t timestamptz not null,
  n int not null,
  dur_s double precision not null,
  first_opened timestamptz not null,
  name text,
  mixed boolean not null default false,
  primary key (metric_id, t, entity)
);

insert into metric_entity_days (metric_id, entity, t, n, dur_s, first_opened, name, mixed)
select e.metric_id, e.entity, date_trunc('day', e.closed_at, 'UTC'), count(*), sum(date_part('epoch', e.closed_at - e.opened_at)),
  min(e.opened_at),
  case when count(distinct e.entity_name) <= 1 and (count(e.entity_name) = 0 or count(e.entity_name) = count(*)) then max(e.entity_name) end,
  not (count(distinct e.entity_name) <= 1 and (count(e.entity_name) = 0 or count(e.entity_name) = count(*)))
from metric_episodes e
join metric_entities s on s.metric_id = e.metric_id and s.entity = e.entity and s.episodes > 1
where e.opened_at is not null and e.closed_at is not null
group by 1, 2, 3;
