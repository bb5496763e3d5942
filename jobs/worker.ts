// Runs graphile-worker in this process with Herald's tasks. Several worker processes may share one
// database: graphile-worker's row locking hands each job to exactly one of them.
//
// Two runners: one for routing, escalation, messages and the rest, one for webhook deliveries only. A
// delivery waits on a receiver (up to its timeouts), so deliveries never take a slot routing, escalation or
// chat updates need. The delivery runner has no local queue: graphile-worker's batch fetch would hand
// several jobs of one named queue to different slots (graphile/worker#621), and each webhook's deliveries
// run in its own queue, one at a time.
import { run, type Runner, type TaskList, type WorkerEvents } from 'graphile-worker';
import { EventEmitter } from 'node:events';
import postgres from 'postgres';
import pg from 'pg';
import { beat, forget, HEARTBEAT_MS, POOL_APPLICATION_PREFIX, unlockDeadWorkers } from '../db/jobs/liveness';
import type { Herald } from '../db/herald';
import type { Adapters } from '../bot/adapter';
import { TASKS, CRONTAB } from './tasks';
import type { Task } from './task';
import { parsePayload, runnerOf, TASK_NAMES, type TaskName } from '../db/jobs/catalog';
import { quietLogger } from './logger';
import { log } from '../db/platform/log';
import { addJobs, job } from '../db/jobs/enqueue';

export interface WorkerHandle { runner: Runner; deliveries: Runner; stop: () => Promise<void>; lastActivity: () => number }

export async function startWorker(h: Herald, adapters: Adapters, connectionString: string): Promise<WorkerHandle> {
  let last = Date.now();
  const taskList: TaskList = {};
  const deliveryTasks: TaskList = {};
  for (const name of TASK_NAMES) {
    const task = TASKS[name] as Task<TaskName>;
    (runnerOf(name) === 'deliveries' ? deliveryTasks : taskList)[name] = async (raw) => {
      last = Date.now();
      const payload = parsePayload(name, raw);
      if (!payload) { log.warn('job payload no longer fits its task; dropped', { task: name }); return; }
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
  // The pool's marker connection (see POOL_APPLICATION_PREFIX): open while this process lives.
  const markers: postgres.Sql[] = [];
  events.on('pool:create', ({ workerPool }) => {
    ids.add(workerPool.id);
    void beat(h.sql, [workerPool.id]).catch(() => {});
    const marker = postgres(connectionString, { max: 1, idle_timeout: 0, onnotice: () => {}, connection: { application_name: POOL_APPLICATION_PREFIX + workerPool.id } });
    markers.push(marker);
    marker`select 1`.catch((e: Error) => log.warn('worker marker connection failed', { error: e.message }));
  });
  events.on('worker:create', ({ worker }) => { ids.add(worker.workerId); void beat(h.sql, [worker.workerId]).catch(() => {}); });
  const heartbeat = setInterval(() => {
    beat(h.sql, [...ids]).then(() => { last = Date.now(); }, (e) => log.warn('heartbeat failed', { error: (e as Error).message }));
    for (const m of markers) m`select 1`.catch(() => {}); // reconnects the markers after a dropped connection
  }, HEARTBEAT_MS);
  heartbeat.unref();
  const concurrency = h.config.HERALD_WORKER_CONCURRENCY;
  const deliveryConcurrency = h.config.HERALD_WEBHOOK_CONCURRENCY;
  // Our own pool for graphile-worker, so a connection error on an idle client (PostgreSQL stopping first on
  // Ctrl-C, which reaches the embedded server too; a restart of an external server) is logged, not a crash.
  const pgPool = new pg.Pool({ connectionString, max: concurrency + deliveryConcurrency + 6 });
  const onPoolError = (e: Error) => { if (!String(e.message).includes('administrator command')) log.warn('worker pool connection error', { error: e.message }); };
  pgPool.on('error', onPoolError);
  // graphile-worker checks that checked-out clients have an error handler too (else it warns on every start).
  pgPool.on('connect', (client) => { client.on('error', onPoolError); });
  const runner = await run({
    pgPool,
    concurrency,
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
  const deliveries = await run({
    pgPool,
    concurrency: deliveryConcurrency,
    // Retries and breaker pauses are seconds apart; new deliveries are announced by LISTEN/NOTIFY.
    pollInterval: Math.max(h.config.HERALD_POLL_INTERVAL_MS, 500),
    noHandleSignals: true,
    logger: quietLogger,
    taskList: deliveryTasks,
    events,
    preset: { worker: { completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
  });
  // A worker started after a crash takes over the dead process's jobs now, and again once the marker grace
  // has passed (locks taken in the last seconds before the crash); the minute sweep repeats it.
  const recover = () => unlockDeadWorkers(h.sql).then(
    (freed) => { if (freed.length) log.warn('unlocked jobs held by dead workers', { workers: freed }); },
    (e: Error) => log.warn('unlocking dead workers failed', { error: e.message }));
  void recover();
  // The scoring chain (score__recompute, keyed: one pending job) starts now rather than at the next minute's cron.
  void addJobs(h.sql, [job('score__recompute', {})]).catch((e: Error) => log.warn('starting the scoring chain failed', { error: e.message }));
  const recoverAgain = setTimeout(() => void recover(), 6_000);
  recoverAgain.unref();
  return {
    runner,
    deliveries,
    lastActivity: () => last,
    stop: async () => {
      clearInterval(heartbeat);
      clearTimeout(recoverAgain);
      await Promise.all([runner.stop(), deliveries.stop()]);
      await pgPool.end().catch(() => {});
      await forget(h.sql, [...ids]).catch(() => {});
      await Promise.all(markers.map((m) => m.end({ timeout: 5 }).catch(() => {})));
    },
  };
}
