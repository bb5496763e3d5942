// GET /v1/stream — server-sent events for live views: every change of an alert of the actor's org is sent
// as event `alert` with the AlertView as JSON (plus `sop_progress`). Fed by the process's one LISTEN
// connection (db/alerts/live.ts). A comment line goes out every `heartbeatMs` so proxies and the browser
// keep the connection open; EventSource reconnects by itself (after `retry` ms) when it drops.
// Someone who may read dashboards also gets event `metrics` with {keys: [...]}: the metrics whose figures the
// rollup job just moved (db/metrics/live.ts), so an open dashboard reloads those widgets.
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { ApiContext, AppEnv } from '../context';
import { authenticate } from '../auth';
import { can, require } from '../../db/actor';
import { metricHub } from '../../db/metrics/live';
import { alertHub, type LiveAlert } from '../../db/alerts/live';

export const streamSettings = {
  /** How often an idle stream sends a comment line. */
  heartbeatMs: 15_000,
  /** Alerts waiting for one slow client before it is disconnected (it reconnects and reloads). */
  maxBacklog: 5_000,
  /** What EventSource waits before reconnecting. */
  retryMs: 2_000,
};

export function streamRoutes(ctx: ApiContext) {
  const r = new Hono<AppEnv>();
  r.get('/v1/stream', authenticate(ctx), async (c) => {
    const actor = c.get('actor');
    require(actor, 'alerts:read');
    const hub = alertHub(ctx.sql, ctx.config);
    await hub.ready(); // listening before the client is told it is connected: nothing committed after this is missed
    const metrics = can(actor, 'dashboards:read') ? metricHub(ctx.sql) : null;
    await metrics?.ready();
    c.header('X-Accel-Buffering', 'no'); // nginx: do not buffer the stream
    return streamSSE(c, async (stream) => {
      // Changes coalesce per alert while the client is being written to: it gets the latest state of each.
      const backlog = new Map<number, LiveAlert>();
      let wake: (() => void) | null = null;
      let closed = false;
      const poke = () => {
        const w = wake;
        wake = null;
        w?.();
      };
      const off = hub.subscribe(actor.orgId, (a) => {
        backlog.delete(a.id);
        backlog.set(a.id, a);
        if (backlog.size > streamSettings.maxBacklog) closed = true;
        poke();
      });
      const changedMetrics = new Set<string>();
      const offMetrics = metrics?.subscribe(actor.orgId, (keys) => {
        for (const k of keys) changedMetrics.add(k);
        poke();
      });
      const close = () => {
        closed = true;
        poke();
      };
      stream.onAbort(close);
      c.req.raw.signal?.addEventListener('abort', close);
      try {
        await stream.write(`retry: ${streamSettings.retryMs}\n: connected\n\n`);
        while (!closed && !stream.aborted) {
          if (changedMetrics.size) {
            const keys = [...changedMetrics];
            changedMetrics.clear();
            await stream.writeSSE({ event: 'metrics', data: JSON.stringify({ keys }) });
            continue;
          }
          if (!backlog.size) {
            const beat = await new Promise<boolean>((resolve) => {
              const t = setTimeout(() => resolve(true), streamSettings.heartbeatMs);
              wake = () => {
                clearTimeout(t);
                resolve(false);
              };
            });
            if (beat && !closed) await stream.write(': ping\n\n');
            continue;
          }
          const batch = [...backlog.values()];
          backlog.clear();
          for (const a of batch) {
            if (closed || stream.aborted) break;
            await stream.writeSSE({ event: 'alert', data: JSON.stringify(a) });
          }
        }
      } finally {
        off();
        offMetrics?.();
        c.req.raw.signal?.removeEventListener('abort', close);
      }
    });
  });
  return r;
}
