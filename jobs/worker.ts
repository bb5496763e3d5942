// Runs graphile-worker in this process with Herald's tasks. Several worker processes may share one
// database: graphile-worker's row locking hands each job to exactly one of them.
import { run, type Runner, type TaskList, type WorkerEvents } from 'graphile-worker';
import { EventEmitter } from 'node:events';
import { beat, forget, HEARTBEAT_MS } from '../db/jobs/liveness';
import type { Herald } from '../db/herald';
import type { Adapters } from '../bot/adapter';
import { TASKS, CRONTAB } from './tasks';
import { quietLogger } from '../db/migrate';
import { log } from '../db/log';

export interface WorkerHandle { runner: Runner; stop: () => Promise<void>; lastActivity: () => number }

export async function startWorker(h: Herald, adapters: Adapters, connectionString: string): Promise<WorkerHandle> {
  let last = Date.now();
  const taskList: TaskList = {};
  for (const [name, task] of Object.entries(TASKS)) {
    taskList[name] = async (payload) => {
      last = Date.now();
      try {
        await task(h, payload, adapters);
      } catch (e) {
        log.error('job failed', { task: name, error: (e as Error).message });
        throw e;
      }
    };
  }
  // Every id graphile-worker locks jobs under (the pool's, with localQueue, and each worker's).
  const ids = new Set<string>();
  const events: WorkerEvents = new EventEmitter() as WorkerEvents;
  events.on('pool:create', ({ workerPool }) => { ids.add(workerPool.id); void beat(h.sql, [workerPool.id]).catch(() => {}); });
  events.on('worker:create', ({ worker }) => { ids.add(worker.workerId); void beat(h.sql, [worker.workerId]).catch(() => {}); });
  const heartbeat = setInterval(() => { beat(h.sql, [...ids]).then(() => { last = Date.now(); }, (e) => log.warn('heartbeat failed', { error: (e as Error).message })); }, HEARTBEAT_MS);
  heartbeat.unref();
  const concurrency = h.config.HERALD_WORKER_CONCURRENCY;
  const runner = await run({
    connectionString,
    concurrency,
    maxPoolSize: concurrency + 4,
    // Escalation timers fire within one poll interval of their due time.
    pollInterval: h.config.HERALD_POLL_INTERVAL_MS,
    noHandleSignals: true,
    logger: quietLogger,
    taskList,
    events,
    crontab: CRONTAB,
    preset: {
      worker: {
        localQueue: { size: 200, ttl: 60_000 },
        completeJobBatchDelay: 0,
        failJobBatchDelay: 0,
      },
    },
  });
  runner.events.on('pool:listen:success', () => { last = Date.now(); });
  return {
    runner,
    lastActivity: () => last,
    stop: async () => {
      clearInterval(heartbeat);
      await runner.stop();
      await forget(h.sql, [...ids]).catch(() => {});
    },
  };
}
