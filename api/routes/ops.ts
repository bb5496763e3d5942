// /healthz (the process is alive), /readyz (database, migrations, worker, each channel), /metrics.
import { Hono } from 'hono';
import client from 'prom-client';
import type { ApiContext } from '../context';
import { readiness } from '../readiness';

const queueDepth = new client.Gauge({ name: 'herald_job_queue_depth', help: 'Jobs waiting to run now (run_at passed, not locked)' });
const oldestJob = new client.Gauge({ name: 'herald_job_oldest_runnable_age_seconds', help: 'Age of the oldest runnable job past its run_at' });
const timers = new client.Gauge({ name: 'herald_job_scheduled', help: 'Jobs scheduled for later (escalation timers, retries)' });

export function opsRoutes(ctx: ApiContext) {
  const r = new Hono();
  r.get('/healthz', (c) => c.json({ status: 'ok' }));
  r.get('/readyz', async (c) => {
    const { ready, checks } = await readiness(ctx);
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
