// Issue 15 #2: `npm start` with separate API and worker processes on the embedded PostgreSQL (no DATABASE_URL).
// A crash of any one process is repaired: the API process killed with SIGKILL is started again, the embedded
// PostgreSQL killed with SIGKILL is started again on the same data directory (and the processes with it), and
// events are accepted and routed after each; SIGINT (Ctrl-C) stops every process and PostgreSQL, exit code 0.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../db/embedded';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const KEY = 'hk_test_supervisor_key_0123456789abcdef';
const dataDir = mkdtempSync(path.join(tmpdir(), 'herald-sup-'));
const postgresPids = new Set<number>();
const pids = new Set<number>();

function alive(pid: number): boolean {
  try { process.kill(pid, 0); } catch { return false; }
  try { return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; }
}
const postmasterPid = () => { try { return Number(readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]); } catch { return 0; } };
function heraldChildren(pid: number): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((d) => {
    try {
      const s = readFileSync(`/proc/${d}/stat`, 'utf8');
      return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]) === pid && readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('api/main.ts');
    } catch { return false; }
  });
}

afterAll(async () => {
  for (const p of pids) if (alive(p)) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
  for (const p of postgresPids) if (alive(p)) { try { process.kill(p, 'SIGQUIT'); } catch { /* gone */ } }
  for (let i = 0; i < 50 && [...postgresPids].some(alive); i++) await new Promise((r) => setTimeout(r, 100));
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start: supervisor, API and worker processes, embedded PostgreSQL', () => {
  it('repairs a killed API process and a killed PostgreSQL, keeps routing, and stops everything on SIGINT', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env, HERALD_DATA_DIR: dataDir, HERALD_SECRET_KEY: 'test-secret', HERALD_ADMIN_API_KEY: KEY, LOG_LEVEL: 'warn',
      PORT: String(port), HOST: '127.0.0.1', HERALD_API_PROCESSES: '1', HERALD_WORKER_PROCESSES: '1', HERALD_INGEST_MAX_WAIT_MS: '60000',
    };
    delete env.DATABASE_URL;
    // detached: the supervisor leads a process group of its own, as `npm start` in a terminal does.
    const sup = spawn(process.execPath, ['--import', 'tsx', 'api/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    pids.add(sup.pid!);
    let out = '';
    sup.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
    sup.stderr!.on('data', (c: Buffer) => { out += c.toString(); });
    const exited = new Promise<number | null>((r) => sup.once('exit', (c) => r(c)));
    const waitFor = async (what: string, cond: () => boolean | Promise<boolean>, ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end) { if (await cond()) return; await new Promise((r) => setTimeout(r, 100)); }
      throw new Error(`${what} not within ${ms} ms:\n${out.slice(-3000)}`);
    };
    const post = async (key: string) => {
      const r = await fetch(`${base}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ category: 'ops', type: 'check', title: `Check ${key}`, dedup_key: key }) });
      expect(r.status).toBe(202);
      return ((await r.json()) as { event_id: number }).event_id;
    };
    const routed = (id: number) => waitFor(`event ${id} routed`, async () => {
      try {
        const r = await fetch(`${base}/v1/events/${id}`, { headers: { authorization: `Bearer ${KEY}` } });
        return r.status === 200 && ((await r.json()) as { status: string }).status !== 'accepted';
      } catch { return false; }
    }, 60_000);
    const healthy = () => waitFor('the API answering', async () => {
      try { return (await fetch(`${base}/healthz`)).status === 200; } catch { return false; }
    }, 120_000);

    await waitFor('the supervisor reporting its processes', () => out.includes('Ctrl-C stops them all'), 240_000);
    const pg1 = postmasterPid();
    postgresPids.add(pg1);
    const kids = heraldChildren(sup.pid!);
    kids.forEach((k) => pids.add(k));
    expect(kids.length).toBe(2);
    expect(out).toMatch(/1 API process\(es\) \(pid \d+\) and 1 worker process\(es\) \(pid \d+\)/);
    const firstId = await post('before');
    await routed(firstId);

    // The API process dies: started again, and serves.
    const apiPid = Number(/API process\(es\) \(pid (\d+)\)/.exec(out)![1]);
    process.kill(apiPid, 'SIGKILL');
    await waitFor('the API process started again', () => /api process 1 running again \(pid \d+\)/.test(out), 120_000);
    heraldChildren(sup.pid!).forEach((k) => pids.add(k));
    await healthy();
    await routed(await post('after-api-crash'));

    // PostgreSQL dies: started again on the same data, the processes with it; the data is still there.
    process.kill(pg1, 'SIGKILL');
    await waitFor('PostgreSQL and the processes started again', () => /running again on PostgreSQL pid \d+/.test(out), 180_000);
    const pg2 = postmasterPid();
    postgresPids.add(pg2);
    expect(pg2).not.toBe(pg1);
    expect(alive(pg2)).toBe(true);
    heraldChildren(sup.pid!).forEach((k) => pids.add(k));
    await healthy();
    await routed(await post('after-postgres-crash'));
    const r = await fetch(`${base}/v1/events/${firstId}`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { dedup_key: string }).dedup_key).toBe('before');

    // Ctrl-C as a terminal sends it: SIGINT to the whole process group (supervisor, API, worker). PostgreSQL
    // runs in a group of its own, so it is stopped by the supervisor, last: every process and PostgreSQL stop,
    // exit code 0, and nothing was cut under a process still stopping.
    const last = heraldChildren(sup.pid!);
    expect(Number(readFileSync(`/proc/${pg2}/stat`, 'utf8').split(') ')[1].split(' ')[2])).not.toBe(sup.pid);
    const before = out.length;
    process.kill(-sup.pid!, 'SIGINT');
    expect(await exited).toBe(0);
    await waitFor('children and PostgreSQL gone', () => last.every((k) => !alive(k)) && !alive(pg2), 20_000);
    const stopping = out.slice(before);
    expect(stopping).toContain('stopping (SIGINT)');
    expect(stopping).not.toMatch(/CONNECTION_CLOSED|TypeError|job failed|terminating connection/);
  }, 600_000);
});
