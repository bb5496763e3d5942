// Jobs held by dead workers. graphile-worker frees a job locked by a crashed process only after four
// hours; Herald's worker processes refresh a heartbeat per graphile worker id, and the sweeper unlocks
// jobs whose holder stopped refreshing, so a kill -9 delays work by about a minute, not four hours.
import type { Sql } from '../platform/sql';

export const HEARTBEAT_MS = 5_000;
const DEAD_AFTER = '30 seconds';
/**
 * Each worker process keeps one connection named `herald-pool:<pool id>` (jobs/worker.ts). When the process
 * dies (kill -9, OOM) the kernel closes it and Postgres drops the session at once, so a pool whose jobs are
 * locked but whose connection is gone is dead now, without waiting for its heartbeat to age.
 */
export const POOL_APPLICATION_PREFIX = 'herald-pool:';
/** A pool opens its marker connection as it starts; locks younger than this are left to the heartbeat rule. */
const MARKER_GRACE = '5 seconds';

export async function beat(sql: Sql, workerIds: string[]): Promise<void> {
  if (!workerIds.length) return;
  await sql`
    insert into worker_heartbeats (worker_id, seen_at) select unnest(${workerIds}::text[]), now()
    on conflict (worker_id) do update set seen_at = now()`;
}

export async function forget(sql: Sql, workerIds: string[]): Promise<void> {
  if (workerIds.length) await sql`delete from worker_heartbeats where worker_id = any(${workerIds}::text[])`;
}

/** Unlocks jobs (and queues) held by workers whose heartbeat is stale or missing. Returns the ids freed. */
export async function unlockDeadWorkers(sql: Sql): Promise<string[]> {
  const dead = await sql<{ locked_by: string }[]>`
    select distinct j.locked_by from graphile_worker._private_jobs j
    where j.locked_by is not null
      and (
        (j.locked_at < now() - ${DEAD_AFTER}::interval
          and not exists (select 1 from worker_heartbeats h where h.worker_id = j.locked_by and h.seen_at > now() - ${DEAD_AFTER}::interval))
        or (j.locked_by like 'pool-%' and j.locked_at < now() - ${MARKER_GRACE}::interval
          and not exists (select 1 from pg_stat_activity a where a.application_name = ${POOL_APPLICATION_PREFIX} || j.locked_by)))`;
  const ids = dead.map((d) => d.locked_by);
  if (ids.length) {
    await sql`select graphile_worker.force_unlock_workers(${ids}::text[])`;
    await sql`delete from worker_heartbeats where seen_at < now() - interval '1 day'`;
  }
  return ids;
}
