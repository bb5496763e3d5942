// Applies Herald's SQL migrations (postgres-shift, numbered folders under db/migrations) and
// graphile-worker's own schema. A session advisory lock serialises concurrent starters
// (several API and worker processes booting against one database).
import { quietLogger } from '../jobs/logger';
import shift from 'postgres-shift';
import { runMigrations } from 'graphile-worker';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readdirSync } from 'node:fs';
import type { Pool } from './platform/sql';

const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');
const LOCK_ID = 0x68657261; // 'hera'

export function knownMigrations(): number {
  return readdirSync(MIGRATIONS_DIR).filter((x) => /^[0-9]{5}_/.test(x)).length;
}

export async function migrate(sql: Pool, connectionString: string): Promise<void> {
  const lock = await sql.reserve();
  try {
    await lock`select pg_advisory_lock(${LOCK_ID})`;
    await shift({ sql: sql as never, path: MIGRATIONS_DIR });
    await runMigrations({ connectionString, logger: quietLogger });
    await tuneGraphileWorker(lock);
  } finally {
    await lock`select pg_advisory_unlock(${LOCK_ID})`.catch(() => {});
    lock.release();
  }
}

/**
 * graphile-worker's `add_jobs` is called by every ingest flush and every routing transaction. Its inner
 * INSERT over `unnest(specs)` was planned afresh on every call (PL/pgSQL kept choosing a custom plan): about
 * 1.3 ms of PostgreSQL CPU per call, more than the insert itself (pg_stat_statements with track_planning,
 * `BENCH_PG_STATEMENTS=1`). A generic plan is right for it whatever the batch. Applied after graphile-worker's
 * own migrations on every start, so a graphile-worker upgrade that recreates the function gets it back.
 */
async function tuneGraphileWorker(sql: Pool) {
  await sql`
    do $$ begin
      if exists (select 1 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                 where n.nspname = 'graphile_worker' and p.proname = 'add_jobs'
                   and not coalesce('plan_cache_mode=force_generic_plan' = any(p.proconfig), false)) then
        alter function graphile_worker.add_jobs set plan_cache_mode = force_generic_plan;
      end if;
    end $$`;
}

export async function appliedMigrations(sql: Pool): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from migrations`;
  return row.n;
}
