// The readiness checks /readyz answers with, also recorded by each process's watcher (db/system/processes.ts)
// so the PWA's System page can show uptime and a history of checks.
import type { ApiContext } from './context';
import { appliedMigrations, knownMigrations } from '../db/migrate';
import { CHANNEL_KINDS } from '../db/model/channels';

export async function readiness(ctx: ApiContext): Promise<{ ready: boolean; checks: Record<string, unknown> }> {
  const checks: Record<string, unknown> = {};
  let ready = true;
  try {
    await ctx.sql`select 1`;
    checks.database = { status: 'ok' };
    const applied = await appliedMigrations(ctx.sql);
    const known = knownMigrations();
    checks.migrations = { status: applied >= known ? 'ok' : 'error', applied, known };
    if (applied < known) ready = false;
  } catch (e) {
    checks.database = { status: 'error', detail: (e as Error).message };
    ready = false;
  }
  if (ctx.roles.worker) {
    const alive = ctx.workerAlive?.() ?? false;
    checks.worker = { status: alive ? 'ok' : 'error' };
    if (!alive) ready = false;
  } else checks.worker = { status: 'ok', detail: 'runs in another process' };
  const channels: Record<string, unknown> = {};
  for (const k of CHANNEL_KINDS) {
    const hth = ctx.adapters[k].health();
    channels[k] = hth;
    if (hth.status === 'error') ready = false;
  }
  checks.channels = channels;
  return { ready, checks };
}
