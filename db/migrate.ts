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
  } finally {
    await lock`select pg_advisory_unlock(${LOCK_ID})`.catch(() => {});
    lock.release();
  }
}

export async function appliedMigrations(sql: Pool): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from migrations`;
  return row.n;
}
