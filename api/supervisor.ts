// `npm start` on a machine with more than one core: this process supervises, the work runs in children.
//
// It starts the embedded PostgreSQL (unless DATABASE_URL is set), then forks API processes (node:cluster: they
// share the one listening port, the primary hands each new connection to one of them) and worker processes
// (graphile-worker: Postgres row locks hand each job to exactly one of them). Nothing here coordinates work:
// Postgres and graphile-worker do, exactly as with processes started by hand (--role=api / --role=worker).
//
// A child that dies is forked again (backing off when it keeps dying; a child that dies 5 times within a minute
// stops Herald with the reason). PostgreSQL dying (embedded) stops the children, starts it again on the same
// data directory and forks them again. Ctrl-C or SIGTERM stops the children (each finishes its in-flight work),
// then PostgreSQL, then this process. If this process is killed, each child notices its IPC channel closing and
// stops; the next start recovers the orphaned PostgreSQL (db/embedded.ts).
import cluster, { type Worker } from 'node:cluster';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { freePort, startEmbeddedPostgres, type EmbeddedHandle } from '../db/embedded';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadConfig, type Config } from '../db/platform/config';

export type Role = 'api' | 'worker';

/** The message a child sends its supervisor once Herald is up in it. */
export const READY = 'herald:ready';

/**
 * How many API and worker processes `npm start` runs: the configured counts, else one of each when the machine
 * has more than one core, else null (everything in this one process, as before). Measured on the 2-core machine
 * (BENCH_ONLY=e2e,sustained, 3 runs each in one hour): 1 + 1 processes gave event → webhook p50 1.4 s and
 * 1,636 deliveries/s against 3.1 s and 1,240/s for one process. (An earlier 10 s backlog blamed on the split was
 * the bench loading Herald before its worker process had started.)
 */
export function processPlan(config: Config, cores = availableParallelism()): { api: number; worker: number } | null {
  if (config.HERALD_API_PROCESSES === undefined && config.HERALD_WORKER_PROCESSES === undefined) {
    return cores > 1 ? { api: 1, worker: 1 } : null;
  }
  return { api: config.HERALD_API_PROCESSES ?? 1, worker: config.HERALD_WORKER_PROCESSES ?? 1 };
}

/** The embedded cluster keeps its port across restarts (stored beside the data), as api/server.ts does. */
async function embeddedPort(config: Config): Promise<number> {
  const file = path.join(config.HERALD_DATA_DIR, 'pg-port');
  try { return Number(readFileSync(file, 'utf8').trim()) || (await freePort()); } catch {
    const p = await freePort();
    mkdirSync(config.HERALD_DATA_DIR, { recursive: true });
    writeFileSync(file, String(p));
    return p;
  }
}

const say = (line: string) => console.log(`[herald supervisor] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try { process.kill(pid, 0); } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
  try { return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return true; }
}

interface Slot { role: Role; index: number; worker: Worker | null; crashes: number[]; firstBanner: boolean }

export async function supervise(plan: { api: number; worker: number }, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = loadConfig(env);
  let embedded: EmbeddedHandle | null = null;
  let databaseUrl = config.DATABASE_URL;
  const pgDir = path.resolve(config.HERALD_DATA_DIR, 'pg');
  let pgPort = 0;
  const startPostgres = async () => {
    embedded = await startEmbeddedPostgres({
      dataDir: config.HERALD_DATA_DIR, port: pgPort || (pgPort = await embeddedPort(config)),
      log: (l) => console.error(`[postgres] ${l.trim()}`),
      onRecovered: (message) => say(message),
    });
    databaseUrl = embedded.url('postgres');
  };
  if (!databaseUrl) await startPostgres();

  let stopping = false;
  let pgRestarting = false;
  const slots: Slot[] = [
    ...Array.from({ length: plan.api }, (_, i): Slot => ({ role: 'api', index: i, worker: null, crashes: [], firstBanner: i === 0 })),
    ...Array.from({ length: plan.worker }, (_, i): Slot => ({ role: 'worker', index: i, worker: null, crashes: [], firstBanner: false })),
  ];
  const exits = new Map<Worker, Promise<void>>();

  const fork = (slot: Slot): Promise<void> => {
    const w = cluster.fork({
      ...env, DATABASE_URL: databaseUrl, HERALD_ROLE: slot.role,
      // Only the first API process prints the login and the first-event curl; the others one line each.
      HERALD_BANNER: slot.firstBanner ? '1' : '0',
    });
    slot.worker = w;
    exits.set(w, new Promise((r) => w.once('exit', () => r())));
    const ready = new Promise<void>((resolve) => {
      w.on('message', (m) => { if (m === READY) resolve(); });
      w.once('exit', () => resolve());
    });
    w.once('exit', (code, signal) => {
      if (slot.worker === w) slot.worker = null;
      if (stopping || pgRestarting) return;
      void restart(slot, code, signal);
    });
    return ready;
  };

  const restart = async (slot: Slot, code: number | null, signal: string | null) => {
    const now = Date.now();
    slot.crashes = [...slot.crashes.filter((t) => now - t < 60_000), now];
    const why = signal ? `signal ${signal}` : `exit code ${code}`;
    if (slot.crashes.length >= 5) {
      say(`${slot.role} process ${slot.index + 1} died 5 times within a minute (last: ${why}); stopping Herald`);
      await stop(1);
      return;
    }
    const delay = Math.min(30_000, 250 * 2 ** (slot.crashes.length - 1));
    say(`${slot.role} process ${slot.index + 1} died (${why}); starting it again in ${delay} ms`);
    await sleep(delay);
    if (stopping || pgRestarting || slot.worker) return;
    slot.firstBanner = false;
    await fork(slot);
    const w = slot.worker as Worker | null;
    if (w) say(`${slot.role} process ${slot.index + 1} running again (pid ${w.process.pid})`);
  };

  const stopChildren = async (graceMs = 20_000) => {
    const live = slots.map((s) => s.worker).filter((w): w is Worker => w !== null && !w.isDead());
    for (const w of live) { try { w.process.kill('SIGTERM'); } catch { /* gone */ } }
    const all = Promise.all(live.map((w) => exits.get(w)));
    const timer = setTimeout(() => { for (const w of live) if (!w.isDead()) { try { w.process.kill('SIGKILL'); } catch { /* gone */ } } }, graceMs);
    await all;
    clearTimeout(timer);
  };

  let stopped: Promise<void> | null = null;
  const stop = (code: number) => (stopped ??= (async () => {
    stopping = true;
    clearInterval(pgWatch);
    await stopChildren();
    if (embedded) await (embedded as EmbeddedHandle).stop().catch(() => {});
    process.exit(code);
  })());
  // Ctrl-C reaches this process twice (from the terminal, and relayed by tsx's wrapper): said and done once.
  process.on('SIGINT', () => { if (!stopped) say('stopping (SIGINT)'); void stop(0); });
  process.on('SIGTERM', () => { if (!stopped) say('stopping (SIGTERM)'); void stop(0); });

  // The embedded PostgreSQL dying (OOM killer, kill -9) stops the children, starts it again and forks them again.
  const postmasterPid = () => { try { return Number(readFileSync(path.join(pgDir, 'postmaster.pid'), 'utf8').split('\n')[0]); } catch { return 0; } };
  let pgPid = embedded ? postmasterPid() : 0;
  const pgWatch = setInterval(() => {
    if (!embedded || stopping || pgRestarting || !pgPid || alive(pgPid)) return;
    pgRestarting = true;
    void (async () => {
      say(`the embedded PostgreSQL (pid ${pgPid}) is gone; stopping the processes, starting it again`);
      try {
        // Nothing they hold can commit any more: a short grace, then SIGKILL (their job locks are freed by the
        // next worker's dead-worker sweep, db/jobs/liveness.ts).
        await stopChildren(3_000);
        if (stopping) return;
        await startPostgres();
        pgPid = postmasterPid();
        pgRestarting = false;
        if (stopping) return;
        await Promise.all(slots.map((s) => fork(s)));
        say(`running again on PostgreSQL pid ${pgPid}`);
      } catch (e) {
        pgRestarting = false;
        say(`PostgreSQL could not be started again: ${(e as Error).message}`);
        await stop(1);
      }
    })();
  }, 1000);

  // The first API process migrates and creates the first admin alone; the others start once it is up.
  const [first, ...rest] = slots;
  await fork(first); // if it died starting, restart() is bringing it back (or stops Herald when it keeps dying)
  await Promise.all(rest.map((s) => fork(s)));
  const pids = (role: Role) => slots.filter((s) => s.role === role && s.worker).map((s) => s.worker!.process.pid).join(', ');
  say(`${plan.api} API process(es) (pid ${pids('api')}) and ${plan.worker} worker process(es) (pid ${pids('worker') || '-'})`
    + ` on ${availableParallelism()} cores, supervisor pid ${process.pid}${embedded ? `, embedded PostgreSQL pid ${pgPid} under ${pgDir}` : ''}; Ctrl-C stops them all`);
}
