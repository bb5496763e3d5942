-- Roles carry permission sets (db/model/permissions.ts); a user's permissions are the union of their roles'.
alter table roles add column permissions text[] not null default '{alerts:read,alerts:act}';
update roles set permissions = case key
  when 'admin' then '{events:write,alerts:read,alerts:act,rules:read,rules:write,users:read,users:write,reports:read,reports:write,dashboards:read,dashboards:write,scores:write,integrations:write,audit:read,settings:write,api_keys:write}'::text[]
  when 'ceo' then '{alerts:read,rules:read,users:read,reports:read,dashboards:read,alerts:act,reports:write,dashboards:write,audit:read}'::text[]
  else '{alerts:read,rules:read,users:read,reports:read,dashboards:read,alerts:act}'::text[]
end where built_in;
update roles set permissions = array(select unnest(permissions) order by 1);

-- The permissions of someone holding `roles` in `org`: what every place that builds a person's actor selects.
-- A person with no role at all is a member: they can see and act on the alerts that reach them (a rule may
-- target people by name); a role narrows or widens that.
create function herald_permissions(org bigint, held text[]) returns text[] language sql stable as $$
  select case when coalesce(cardinality(held), 0) = 0 then '{alerts:act,alerts:read}'::text[] else (
    select coalesce(array_agg(distinct p order by p), '{}')
    from roles r cross join unnest(r.permissions) p
    where r.org_id = org and r.key = any(held)) end
$$;
