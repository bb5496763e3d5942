-- Placeholder so postgres-shift sees consecutive numbers on this branch (00006-00013 belong to other
-- branches). Drop this folder when merging.
select 1;
