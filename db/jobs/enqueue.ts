// Adds graphile-worker jobs inside the caller's transaction, many per statement: one `add_jobs` call
// costs about as much as one `add_job`, so callers collect every job of a transaction and enqueue once.
// Jobs are described with `job(name, payload)` from the catalog (./catalog.ts), which types the payload
// and supplies the key.
import type { Sql } from '../platform/sql';
import type { JobSpec } from './catalog';

export { job, escalationKey, type JobSpec } from './catalog';

export async function addJobs(sql: Sql, specs: JobSpec[]): Promise<void> {
  if (!specs.length) return;
  const rows = specs.map((s) => ({
    identifier: s.identifier,
    payload: s.payload,
    run_at: s.run_at instanceof Date ? s.run_at.toISOString() : s.run_at ?? null,
    job_key: s.job_key ?? null,
    max_attempts: s.max_attempts ?? null,
    priority: s.priority ?? null,
    queue_name: s.queue_name ?? null,
  }));
  await sql`
    select count(*) from graphile_worker.add_jobs(
      (select array_agg(j) from json_populate_recordset(null::graphile_worker.job_spec, ${JSON.stringify(rows)}::text::json) j)
    )`;
}

/** Cancels timers inside the caller's transaction (a running job with the key is prevented from retrying). */
export async function removeJobs(sql: Sql, keys: string[]): Promise<void> {
  if (!keys.length) return;
  await sql`select graphile_worker.remove_job(k) from unnest(${keys}::text[]) k`;
}
