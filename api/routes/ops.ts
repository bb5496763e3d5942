// /healthz (the process is alive), /readyz (database, migrations, worker, each channel), /metrics.
import { Hono } from 'hono';
import client from 'prom-client';
import type { ApiContext } from '../context';
import { appliedMigrations, knownMigrations } from '../../db/migrate';
import { CHANNEL_KINDS } from '../../db/model/channels';

const queueDepth = new client.Gauge({ name: 'herald_job_queue_depth', help: 'Jobs waiting to run now (run_at passed, not locked)' });
const oldestJob = new client.Gauge({ name: 'herald_job_oldest_runnable_age_seconds', help: 'Age of the oldest runnable job past its run_at' });
const timers = new client.Gauge({ name: 'herald_job_scheduled', help: 'Jobs scheduled for later (escalation timers, retries)' });

export function opsRoutes(ctx: ApiContext) {
  const r = new Hono();
  r.get('/healthz', (c) => c.json({ status: 'ok' }));
  r.get('/readyz', async (c) => {
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
    return c.json({ status: ready ? 'ready' : 'not ready', checks }, ready ? 200 : 503);
  });
  r.get('/metrics', async (c) => {
    try {
      const [q] = await ctx.sql<{ depth: number; oldest: number | null; later: number }[]>`
        select count(*) filter (where run_at <= now() and locked_at is null and attempts < max_attempts)::int as depth,
          extract(epoch from now() - min(run_at) filter (where run_at <= now() and locked_at is null and attempts < max_attempts))::float8 as oldest,
          count(*) filter (where run_at > now())::int as later
        from graphile_worker._private_jobs`;
      queueDepth.set(q.depth);
      oldestJob.set(q.oldest ?? 0);
      timers.set(q.later);
    } catch { /* metrics still answer without the queue figures */ }
    return c.body(await client.register.metrics(), 200, { 'content-type': client.register.contentType });
  });
  return r;
}
