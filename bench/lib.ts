// Benchmark plumbing: an embedded Postgres with a migrated template, a fresh database per run, Herald as a
// child process (so its memory and CPU can be read from /proc), samplers, a webhook receiver, statistics.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { freePort, startEmbeddedPostgres, type EmbeddedHandle } from '../db/embedded';
import { connect } from '../db/platform/sql';
import { migrate } from '../db/migrate';
import { nowAbs } from './loadgen';

export const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ADMIN_KEY = 'hk_bench_admin_key_0123456789abcdef0123';

// ---------------------------------------------------------------- statistics

export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const s = Float64Array.from(values).sort();
  const idx = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[idx];
}

export function summary(values: number[]) {
  const v = values.filter((x) => Number.isFinite(x));
  if (!v.length) return { median: NaN, min: NaN, max: NaN, runs: values };
  return { median: percentile(v, 50), min: Math.min(...v), max: Math.max(...v), runs: values };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- Postgres

export interface BenchPg { adminUrl: string; dataDir: string; template: string; embedded: EmbeddedHandle; stop: () => Promise<void> }

export async function startPostgres(): Promise<BenchPg> {
  const dir = mkdtempSync(path.join(tmpdir(), 'herald-bench-'));
  // BENCH_PG_STATEMENTS=1: pg_stat_statements is loaded and every database has it (see statementsReport).
  const embedded = await startEmbeddedPostgres({ dataDir: dir, persistent: false,
    settings: PG_STATEMENTS ? ['shared_preload_libraries=pg_stat_statements', 'pg_stat_statements.track=all', 'pg_stat_statements.track_planning=on'] : [] });
  const adminUrl = embedded.url('postgres');
  const template = 'herald_bench_template';
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${template}`);
  await admin.end();
  const templateUrl = withDb(adminUrl, template);
  const sql = connect(templateUrl, { max: 2 });
  if (PG_STATEMENTS) await sql`create extension if not exists pg_stat_statements`;
  await migrate(sql, templateUrl);
  if (process.env.BENCH_TEMPLATE_SQL) await sql.unsafe(process.env.BENCH_TEMPLATE_SQL);
  await sql.end();
  return {
    adminUrl, dataDir: path.join(dir, 'pg'), template, embedded,
    stop: async () => {
      await embedded.stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const PG_STATEMENTS = process.env.BENCH_PG_STATEMENTS === '1';

/**
 * BENCH_PG_STATEMENTS=1: the statements Postgres spent its time on since `reset()`, in this database, as
 * microseconds of execution per `per` (e.g. per event), largest first: where the database's share of an
 * event's path goes.
 */
export async function statementsReport(dbUrl: string) {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  return {
    reset: async () => { await sql`select pg_stat_statements_reset()`; },
    print: async (per: number, top = 20) => {
      const rows = await sql<{ calls: number; total_ms: number; rows: number; query: string }[]>`
        select calls::float8 as calls, total_exec_time::float8 as total_ms, rows::float8 as rows, query
        from pg_stat_statements s join pg_database d on d.oid = s.dbid
        where d.datname = current_database() order by total_exec_time desc limit ${top}`;
      const [{ all }] = await sql<{ all: number }[]>`
        select coalesce(sum(total_exec_time), 0)::float8 as all from pg_stat_statements s join pg_database d on d.oid = s.dbid
        where d.datname = current_database()`;
      const [jit] = await sql<{ functions: number; ms: number; plan_ms: number }[]>`
        select coalesce(sum(jit_functions), 0)::float8 as functions,
          coalesce(sum(jit_generation_time + jit_inlining_time + jit_optimization_time + jit_emission_time), 0)::float8 as ms,
          coalesce(sum(total_plan_time), 0)::float8 as plan_ms
        from pg_stat_statements s join pg_database d on d.oid = s.dbid where d.datname = current_database()`;
      console.log(`  JIT: ${jit.functions} functions compiled, ${jit.ms.toFixed(0)} ms; planning ${(jit.plan_ms * 1000 / per).toFixed(0)} µs per event, most in:`);
      const planned = await sql<{ plans: number; plan_ms: number; query: string }[]>`
        select plans::float8 as plans, total_plan_time::float8 as plan_ms, query from pg_stat_statements s join pg_database d on d.oid = s.dbid
        where d.datname = current_database() order by total_plan_time desc limit 8`;
      for (const r of planned) console.log(`    ${(r.plan_ms * 1000 / per).toFixed(1).padStart(7)} µs  ${r.plans} plans  ${r.query.replace(/\s+/g, ' ').slice(0, 150)}`);
      const busiest = await sql<{ calls: number; query: string }[]>`
        select calls::float8 as calls, query from pg_stat_statements s join pg_database d on d.oid = s.dbid
        where d.datname = current_database() and toplevel order by calls desc limit 12`;
      const [{ n }] = await sql<{ n: number }[]>`select coalesce(sum(calls), 0)::float8 as n from pg_stat_statements s join pg_database d on d.oid = s.dbid where d.datname = current_database() and toplevel`;
      console.log(`  ${(n / per).toFixed(1)} statements sent per event; most often:`);
      for (const r of busiest) console.log(`    ${(r.calls / per).toFixed(2).padStart(6)}×  ${r.query.replace(/\s+/g, ' ').slice(0, 150)}`);
      console.log(`  Postgres execution time: ${(all * 1000 / per).toFixed(0)} µs per event (${per} events); top statements (µs per event, calls per event):`);
      for (const r of rows) {
        console.log(`    ${(r.total_ms * 1000 / per).toFixed(1).padStart(7)} µs  ${(r.calls / per).toFixed(2).padStart(5)}× (${r.calls} calls, ${r.rows} rows)  ${r.query.replace(/\s+/g, ' ').slice(0, 150)}`);
      }
      await sql.end();
    },
  };
}

export function withDb(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

let dbSeq = 0;
export async function freshDatabase(pg: BenchPg): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = `bench_${process.pid}_${++dbSeq}`;
  const admin = postgres(pg.adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name} template ${pg.template}`);
  await admin.end();
  return {
    url: withDb(pg.adminUrl, name), name,
    drop: async () => {
      const a = postgres(pg.adminUrl, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
      await a.end();
    },
  };
}

// ---------------------------------------------------------------- Herald child

export interface HeraldChild {
  pid: number;
  url: string;
  proc: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

/** Node flags in package.json's start script (`tsx --flag … api/main.ts`), so the bench runs what `npm start` runs. */
export function startScriptFlags(): string[] {
  try {
    const start: string = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts?.start ?? '';
    const m = /\btsx\s+((?:--\S+\s+)*)api\/main\.ts/.exec(start);
    return m ? m[1].split(/\s+/).filter((f) => f.startsWith('--')) : [];
  } catch { return []; }
}

/**
 * Starts `api/main.ts` as its own Node process (node --import tsx, i.e. what `tsx api/main.ts` runs, without
 * tsx's wrapper process, so the pid is Herald's own).
 */
export async function spawnHerald(databaseUrl: string, extraEnv: Record<string, string> = {}, givenArgs: string[] = []): Promise<HeraldChild> {
  // BENCH_HERALD_ARGS: extra arguments for api/main.ts, e.g. `--role=all` (everything in one process).
  const args = [...givenArgs, ...(process.env.BENCH_HERALD_ARGS ?? '').split(/\s+/).filter(Boolean)];
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl, PORT: String(port), HOST: '127.0.0.1', HERALD_ADMIN_API_KEY: ADMIN_KEY,
    HERALD_WEBHOOK_ALLOW_PRIVATE: '1', LOG_LEVEL: 'warn', HERALD_SECRET_KEY: 'bench-secret', ...extraEnv,
  };
  // The node flags `npm start` gives tsx (e.g. a heap limit), then BENCH_HERALD_NODE_ARGS (e.g. "--cpu-prof").
  const nodeArgs = [...startScriptFlags(), ...(process.env.BENCH_HERALD_NODE_ARGS ?? '').split(/\s+/).filter(Boolean)];
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'api/main.ts', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (c: Buffer) => { out += c.toString(); if (out.length > 200_000) out = out.slice(-100_000); };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  let exited = false;
  const exitP = new Promise<void>((r) => proc.once('exit', () => { exited = true; r(); }));
  const url = `http://127.0.0.1:${port}`;
  // Without --role this is `npm start`'s Herald: the supervisor and its processes, or one process with every role.
  const wholeHerald = !args.some((a) => a.startsWith('--role='));
  const deadline = Date.now() + 240_000; // the first start may build the PWA
  for (;;) {
    if (exited) throw new Error(`Herald exited during start:\n${out.slice(-4000)}`);
    if (Date.now() > deadline) { proc.kill('SIGKILL'); throw new Error(`Herald did not start:\n${out.slice(-4000)}`); }
    const ok = await new Promise<boolean>((resolve) => {
      const req = http.get(`${url}/healthz`, (res) => { res.resume(); resolve(res.statusCode === 200); });
      req.on('error', () => resolve(false));
      req.setTimeout(1000, () => { req.destroy(); resolve(false); });
    });
    // Supervised (separate API and worker processes): the API answers /healthz while the workers are still
    // loading, so wait for the supervisor's summary line, printed once every child has said it is up (or, in
    // one process, for its banner);
    // otherwise the first seconds of load pile up as a routing backlog that is start-up, not throughput.
    if (ok && (!wholeHerald || /\[herald supervisor\] \d+ API process\(es\)|Herald is running \(api \+ worker\)/.test(out))) break;
    await sleep(100);
  }
  return {
    pid: proc.pid!, url, proc, output: () => out,
    stop: async () => {
      if (exited) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exitP;
      clearTimeout(t);
    },
  };
}

// ---------------------------------------------------------------- /proc samplers

const TICK_MS = 10; // USER_HZ is 100 on Linux

export function procStatus(pid: number): { rssKiB: number; hwmKiB: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+)/.exec(s);
    const hwm = /VmHWM:\s+(\d+)/.exec(s);
    return { rssKiB: rss ? Number(rss[1]) : 0, hwmKiB: hwm ? Number(hwm[1]) : 0 };
  } catch { return null; }
}

function statFields(pid: number): string[] | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
  } catch { return null; }
}

/** CPU ms used by a process (utime + stime), optionally with its reaped children (cutime + cstime). */
export function cpuMs(pid: number, withChildren = false): number {
  const f = statFields(pid);
  if (!f) return 0;
  // field n (1-based, man proc) is f[n - 3]
  const t = Number(f[11]) + Number(f[12]) + (withChildren ? Number(f[13]) + Number(f[14]) : 0);
  return t * TICK_MS;
}

/** All postgres processes of the cluster: the postmaster, its live children, and the reaped ones. */
export function postgresCpuMs(dataDir: string): number {
  let postmaster: number;
  try { postmaster = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]); } catch { return 0; }
  let total = cpuMs(postmaster, true);
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const f = statFields(Number(d));
    if (f && Number(f[1]) === postmaster) total += cpuMs(Number(d));
  }
  return total;
}

/** Machine-wide busy CPU ms (all cores; /proc/stat minus idle and iowait). */
export function machineBusyMs(): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return (total - f[3] - f[4]) * TICK_MS;
  } catch { return 0; }
}

export interface Usage {
  rssMaxKiB: number; hwmKiB: number; heraldCpuPct: number; postgresCpuPct: number; benchCpuPct: number;
  /** CPU used by everything else on the machine during the run (other sessions, builds, browsers): noise */
  otherCpuPct: number; samples: number;
  /** the largest VmHWM of any one process of the system under test (the per-process memory bar) */
  procHwmMaxKiB?: number;
}

/** A process and all its descendants (the supervisor's API and worker children, their children). */
export function processTree(root: number): number[] {
  const kids = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const f = statFields(Number(d));
    if (!f) continue;
    const pp = Number(f[1]);
    (kids.get(pp) ?? kids.set(pp, []).get(pp)!).push(Number(d));
  }
  const out: number[] = [];
  const walk = (p: number) => { out.push(p); for (const k of kids.get(p) ?? []) walk(k); };
  if (statFields(root)) walk(root);
  return out;
}

/**
 * Samples every 100 ms the system under test (Herald: the process started and every process under it, i.e. the
 * supervisor and its API and worker processes; Alertmanager: its one process): summed RSS and, per process, CPU
 * and VmHWM (a process that exits keeps its last reading), plus Postgres's and this process's CPU.
 * `roots()` may change during the run (a scenario that starts Alertmanager itself adds its pid).
 */
export function startSampler(roots: () => number[], pgDataDir: string) {
  const t0 = Date.now();
  const p0 = postgresCpuMs(pgDataDir);
  const b0 = process.cpuUsage();
  const m0 = machineBusyMs();
  const base = new Map<number, number>();
  const last = new Map<number, { cpu: number; hwm: number }>();
  let rssMax = 0;
  let n = 0;
  const sample = (first: boolean) => {
    let rss = 0;
    for (const pid of roots().flatMap(processTree)) {
      const s = procStatus(pid);
      if (!s) continue;
      rss += s.rssKiB;
      const cpu = cpuMs(pid);
      // Processes there at the start count from then; ones born later from their birth.
      if (!base.has(pid)) base.set(pid, first ? cpu : 0);
      // An exited, not yet reaped process (zombie) reads as no memory: keep the highest readings.
      const prev = last.get(pid);
      last.set(pid, { cpu: Math.max(prev?.cpu ?? 0, cpu), hwm: Math.max(prev?.hwm ?? 0, s.hwmKiB) });
    }
    rssMax = Math.max(rssMax, rss);
    n++;
  };
  sample(true);
  const timer = setInterval(() => sample(false), 100);
  return {
    stop: (): Usage => {
      clearInterval(timer);
      sample(false);
      const wall = Math.max(1, Date.now() - t0);
      const b = process.cpuUsage(b0);
      let sys = 0;
      let hwm = 0;
      let procHwmMaxKiB = 0;
      for (const [pid, x] of last) { sys += x.cpu - (base.get(pid) ?? 0); hwm += x.hwm; procHwmMaxKiB = Math.max(procHwmMaxKiB, x.hwm); }
      const heraldCpuPct = (sys / wall) * 100;
      const postgresCpuPct = ((postgresCpuMs(pgDataDir) - p0) / wall) * 100;
      const benchCpuPct = ((b.user + b.system) / 1000 / wall) * 100;
      const machinePct = ((machineBusyMs() - m0) / wall) * 100;
      return {
        rssMaxKiB: rssMax, hwmKiB: hwm, procHwmMaxKiB, samples: n, heraldCpuPct, postgresCpuPct, benchCpuPct,
        otherCpuPct: Math.max(0, machinePct - heraldCpuPct - postgresCpuPct - benchCpuPct),
      };
    },
  };
}

// ---------------------------------------------------------------- Alertmanager

/** Debian's `prometheus-alertmanager` (or BENCH_ALERTMANAGER=path); null when absent or BENCH_ALERTMANAGER=0. */
export function alertmanagerBinary(): string | null {
  const env = process.env.BENCH_ALERTMANAGER;
  if (env === '0') return null;
  for (const p of env ? [env] : ['/usr/bin/prometheus-alertmanager', '/usr/bin/alertmanager']) if (existsSync(p)) return p;
  return null;
}

export interface AlertmanagerChild { pid: number; url: string; stop: () => Promise<void>; output: () => string }

/**
 * Alertmanager on loopback, no cluster (no gossip), routing every alert to the bench receiver as its own group
 * (`group_by: ['...']`) at once (`group_wait: 0s`), never repeated during a run: one webhook per alert, as
 * Herald sends one alert.triggered per alert. Its state is in memory (snapshots to a temp dir every 15 min).
 */
export async function spawnAlertmanager(binary: string, receiverUrl: string): Promise<AlertmanagerChild> {
  const dir = mkdtempSync(path.join(tmpdir(), 'herald-bench-am-'));
  const port = await freePort();
  writeFileSync(path.join(dir, 'alertmanager.yml'), [
    'route:', '  receiver: bench', "  group_by: ['...']", '  group_wait: 0s', '  group_interval: 1h', '  repeat_interval: 24h',
    'receivers:', '  - name: bench', '    webhook_configs:', `      - url: ${receiverUrl}`, '        send_resolved: false', '',
  ].join('\n'));
  const proc = spawn(binary, [
    `--config.file=${path.join(dir, 'alertmanager.yml')}`, `--storage.path=${dir}`, `--web.listen-address=127.0.0.1:${port}`,
    '--cluster.listen-address=', '--log.level=warn',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (c: Buffer) => { out += c.toString(); if (out.length > 100_000) out = out.slice(-50_000); };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  let exited = false;
  const exitP = new Promise<void>((r) => proc.once('exit', () => { exited = true; r(); }));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new Error(`Alertmanager exited during start:\n${out.slice(-2000)}`);
    if (Date.now() > deadline) { proc.kill('SIGKILL'); throw new Error(`Alertmanager did not start:\n${out.slice(-2000)}`); }
    const ok = await new Promise<boolean>((resolve) => {
      const req = http.get(`${url}/-/ready`, (res) => { res.resume(); resolve(res.statusCode === 200); });
      req.on('error', () => resolve(false));
      req.setTimeout(1000, () => { req.destroy(); resolve(false); });
    });
    if (ok) break;
    await sleep(100);
  }
  return {
    pid: proc.pid!, url, output: () => out,
    stop: async () => {
      if (!exited) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        await exitP;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------- webhook receiver

export interface Hit { at: number; webhookId: string; type: string; alertId: number; dedupKey: string; createdAt: string; level?: number }

export interface BenchReceiver {
  url: string;
  hits: Hit[];
  /** deliveries counted into a shared array (index 0) for the load generator's gate */
  counter: Int32Array;
  sab: SharedArrayBuffer;
  onHit: ((h: Hit) => void) | null;
  close: () => Promise<void>;
}

export async function startBenchReceiver(): Promise<BenchReceiver> {
  const sab = new SharedArrayBuffer(4);
  const counter = new Int32Array(sab);
  const rec: BenchReceiver = { url: '', hits: [], counter, sab, onHit: null, close: async () => {} };
  const srv = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = nowAbs();
      res.statusCode = 200;
      res.end('ok');
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (Array.isArray(body?.alerts) && body.receiver !== undefined) {
          // Alertmanager's webhook: one hit per firing alert in the notification; its fingerprint is the id a
          // receiver would drop duplicates by (as Herald's webhook-id).
          for (const x of body.alerts) {
            if (x.status !== 'firing') continue;
            const hit: Hit = { at, webhookId: `am:${x.fingerprint}`, type: 'alert.triggered', alertId: 0, dedupKey: x.labels?.dedup_key, createdAt: x.startsAt };
            rec.hits.push(hit);
            Atomics.add(counter, 0, 1);
            rec.onHit?.(hit);
          }
          return;
        }
        const a = body?.data?.alert ?? {};
        const hit: Hit = { at, webhookId: String(req.headers['webhook-id'] ?? ''), type: body.type, alertId: a.id, dedupKey: a.dedup_key, createdAt: a.created_at, level: body?.data?.level };
        rec.hits.push(hit);
        Atomics.add(counter, 0, 1);
        rec.onHit?.(hit);
      } catch { /* not a Herald webhook */ }
    });
  });
  srv.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  rec.url = `http://127.0.0.1:${(srv.address() as { port: number }).port}/hook`;
  rec.close = () => new Promise((r) => { srv.closeAllConnections(); srv.close(() => r()); });
  return rec;
}

// ---------------------------------------------------------------- Herald API

export async function api(base: string, method: string, p: string, body?: unknown): Promise<any> {
  const res = await fetch(base + p, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${p} → ${res.status}: ${text.slice(0, 500)}`);
  return text ? JSON.parse(text) : null;
}

/** A person holding role `bench`, a rule for the category that notifies them in-app, a webhook subscription. */
export async function seedRouting(base: string, opts: { category: string; hookUrl: string; events: string[]; escalateAfterMinutes?: number }) {
  for (const key of ['bench', 'bench_manager']) await api(base, 'POST', '/v1/roles', { key, name: key }).catch(() => {});
  const person = await api(base, 'POST', '/v1/users', { name: 'Bench Person', email: `bench-${opts.category}@example.com`, roles: ['bench'], timezone: 'Europe/Berlin' });
  const boss = await api(base, 'POST', '/v1/users', { name: 'Bench Manager', email: `boss-${opts.category}@example.com`, roles: ['bench_manager'] });
  // BENCH_PEOPLE=1: the rule also targets an on-call schedule and the person has preferences with quiet hours,
  // so routing resolves schedules and preferences on every batch (issue 13's routing cost).
  let schedules: number[] = [];
  if (process.env.BENCH_PEOPLE === '1') {
    const s = await api(base, 'POST', '/v1/schedules', {
      name: `Bench ${opts.category}`, timezone: 'Europe/Berlin',
      rotations: [{ users: [person.id, boss.id], shift: 'daily', handoff: '09:00', starts_on: '2026-01-05' }],
    });
    schedules = [s.id];
    for (const u of [person.id, boss.id]) {
      await api(base, 'PUT', `/v1/users/${u}/preferences`, { channels: { normal: ['in_app'] }, quiet_hours: { start: '22:00', end: '07:00', except: ['critical'] }, digest: { frequency: 'daily', at: '08:00' } });
    }
  }
  await api(base, 'POST', '/v1/rules', {
    name: `Bench ${opts.category}`, position: 10,
    match: { category: opts.category, type: null },
    targets: { roles: ['bench'], schedules }, channels: ['in_app'], priority: 'normal',
    escalation: opts.escalateAfterMinutes
      ? { steps: [{ after_minutes: opts.escalateAfterMinutes, roles: ['bench_manager'] }], repeat: 0 }
      : { steps: [], repeat: 0 },
  });
  await api(base, 'POST', '/v1/webhooks', { url: opts.hookUrl, events: opts.events });
}
