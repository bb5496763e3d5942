// Each process's watcher: every HERALD_WATCH_INTERVAL_S it refreshes its herald_processes row, records its
// readiness (the /readyz checks) and, unless HERALD_WATCH_ALERTS=0, lets one process evaluate Herald's own
// trouble (db/system/watch.ts). A timer in the process, not a graphile-worker job: a stuck queue would
// never run the job that reports it.
import type { ApiContext } from './context';
import { readiness } from './readiness';
import { beatProcess, recordReadiness, stopProcess, thisProcess, type ProcessInfo } from '../db/system/processes';
import { watchOnce } from '../db/system/watch';
import { log } from '../db/platform/log';

export interface Watcher { process: ProcessInfo; tick: () => Promise<void>; stop: () => Promise<void> }

export async function startWatcher(ctx: ApiContext, opts: { diskPath: string | null }): Promise<Watcher> {
  const c = ctx.config;
  const proc = thisProcess(ctx.roles);
  await beatProcess(ctx.sql, proc).catch((e: Error) => log.warn('process row failed', { error: e.message }));
  let running: Promise<void> | null = null;
  const tick = async () => {
    if (running) return running;
    running = (async () => {
      try {
        await beatProcess(ctx.sql, proc);
        const r = await readiness(ctx);
        await recordReadiness(ctx.sql, proc.id, r.ready, r.checks);
        if (c.HERALD_WATCH_ALERTS === '1') {
          await watchOnce(ctx.sql, ctx.ingestor, {
            queueAgeS: c.HERALD_WATCH_QUEUE_AGE_S, channelFailures: c.HERALD_WATCH_CHANNEL_FAILURES,
            workerGoneS: c.HERALD_WATCH_WORKER_GONE_S, diskPct: c.HERALD_WATCH_DISK_PCT, diskPath: opts.diskPath,
          });
        }
      } catch (e) {
        log.warn('watch tick failed', { error: (e as Error).message });
      } finally { running = null; }
    })();
    return running;
  };
  const every = c.HERALD_WATCH_INTERVAL_S * 1000;
  const timer = every > 0 ? setInterval(() => void tick(), every) : null;
  timer?.unref();
  if (every > 0) void tick();
  return {
    process: proc,
    tick,
    stop: async () => {
      if (timer) clearInterval(timer);
      await running?.catch(() => {});
      await stopProcess(ctx.sql, proc).catch(() => {});
    },
  };
}
