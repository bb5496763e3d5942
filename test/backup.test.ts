// Backups (issue 15, item 8; docs/operations.md): a dump of a running Herald restored into a fresh cluster
// starts a Herald with the same alerts, rules and keys. The dump test needs PostgreSQL's client and server
// tools of one version (Debian's postgresql-15: /usr/lib/postgresql/<v>/bin) and is skipped with a note
// without them; the embedded cluster's cold copy needs nothing more.
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { startHerald, type HeraldHandle } from '../api/server';
import { freePort } from '../db/embedded';
import { ADMIN_KEY } from './harness';

/** The newest PostgreSQL install with server and dump tools. */
function pgTools(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  for (const v of readdirSync(root).sort((a, b) => Number(b) - Number(a))) {
    const bin = path.join(root, v, 'bin');
    if (['initdb', 'pg_ctl', 'postgres', 'pg_dump', 'pg_restore', 'createdb'].every((t) => existsSync(path.join(bin, t)))) return bin;
  }
  return null;
}
const BIN = pgTools();
if (!BIN) console.warn('backup.test: no PostgreSQL tools under /usr/lib/postgresql (apt-get install postgresql-15): the dump/restore test is skipped');

const asRoot = userInfo().uid === 0;
const run = (tool: string, args: string[]) =>
  execFileSync(asRoot ? 'runuser' : path.join(BIN!, tool), asRoot ? ['-u', 'postgres', '--', path.join(BIN!, tool), ...args] : args, { stdio: 'pipe' }).toString();

interface Cluster { dir: string; port: number; url: (db: string) => string; stop: () => void }
async function cluster(): Promise<Cluster> {
  const dir = mkdtempSync(path.join(tmpdir(), 'herald-pg-'));
  if (asRoot) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
  const port = await freePort();
  run('initdb', ['-D', dir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-instructions']);
  run('pg_ctl', ['-D', dir, '-w', '-l', path.join(dir, 'log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
  return {
    dir, port, url: (db) => `postgres://postgres@127.0.0.1:${port}/${db}`,
    stop: () => { try { run('pg_ctl', ['-D', dir, '-m', 'fast', '-w', 'stop']); } catch { /* already stopped */ } rmSync(dir, { recursive: true, force: true }); },
  };
}

const env = (extra: Record<string, string>) => ({
  PORT: '0', HOST: '127.0.0.1', HERALD_ADMIN_EMAIL: 'admin@example.com', HERALD_ADMIN_PASSWORD: 'correct horse battery',
  HERALD_ADMIN_API_KEY: ADMIN_KEY, HERALD_POLL_INTERVAL_MS: '50', HERALD_WATCH_ALERTS: '0', LOG_LEVEL: 'silent', ...extra,
});

async function call(h: HeraldHandle, method: string, p: string, body?: unknown, key = ADMIN_KEY) {
  const r = await fetch(h.url + p, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: r.status, body: await r.json().catch(() => null) as any };
}
async function eventually<T>(fn: () => Promise<T | null | false | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Rules, alerts (one acknowledged) and a second API key, as a running Herald has them. */
async function populate(h: HeraldHandle) {
  expect((await call(h, 'POST', '/v1/rules', { name: 'Finance', match: { category: 'finance' }, targets: { roles: ['admin'] }, channels: ['in_app'] })).status).toBe(201);
  const key = await call(h, 'POST', '/v1/api-keys', { name: 'erp', scopes: ['events:write', 'alerts:read'] });
  expect(key.status).toBe(201);
  for (const n of [1, 2, 3]) expect((await call(h, 'POST', '/v1/events', { category: 'finance', type: 'invoice_overdue', title: `Invoice ${n}`, severity: 'error', dedup_key: `inv-${n}` })).status).toBe(202);
  const alerts = await eventually(async () => { const r = await call(h, 'GET', '/v1/alerts?status=triggered'); return r.body?.items?.length === 3 ? r.body.items : null; });
  expect((await call(h, 'POST', `/v1/alerts/${alerts[0].id}/acknowledge`, {})).status).toBe(200);
  return { erpKey: key.body.key as string };
}

const summary = async (h: HeraldHandle) => ({
  alerts: (await h.sql`select id, status, title, dedup_key from alerts order by id`).map((r) => ({ ...r })),
  rules: (await h.sql`select id, name, match from rules order by id`).map((r) => ({ ...r })),
  keys: (await h.sql`select id, name, prefix, secret_hash, scopes from api_keys order by id`).map((r) => ({ ...r })),
});

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => { for (const c of cleanups.reverse()) await c(); });

describe.skipIf(!BIN)('pg_dump of a running Herald, restored into a fresh cluster', () => {
  it('starts with the same alerts, rules and keys', async () => {
    const a = await cluster(); cleanups.push(a.stop);
    run('createdb', ['-h', '127.0.0.1', '-p', String(a.port), '-U', 'postgres', 'herald']);
    const h1 = await startHerald({ env: env({ DATABASE_URL: a.url('herald') }) }); cleanups.push(() => h1.stop());
    const { erpKey } = await populate(h1);
    const before = await summary(h1);

    // The dump is taken while Herald runs (docs/operations.md, "External PostgreSQL").
    const dump = path.join(a.dir, 'herald.dump');
    run('pg_dump', ['--format=custom', `--file=${dump}`, a.url('herald')]);
    const b = await cluster(); cleanups.push(b.stop);
    run('createdb', ['-h', '127.0.0.1', '-p', String(b.port), '-U', 'postgres', 'herald']);
    run('pg_restore', ['--no-owner', '--exit-on-error', `--dbname=${b.url('herald')}`, dump]);
    await h1.stop();

    const h2 = await startHerald({ env: env({ DATABASE_URL: b.url('herald') }) }); cleanups.push(() => h2.stop());
    expect(await summary(h2)).toEqual(before);
    expect(h2.ctx.key.equals(h1.ctx.key)).toBe(true); // the instance key (webhook secrets, signed links) came along
    // The API key made before the backup works on the restored Herald, and so does everything else.
    const listed = await call(h2, 'GET', '/v1/alerts', undefined, erpKey);
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((x: { status: string }) => x.status).sort()).toEqual(['acknowledged', 'triggered', 'triggered']);
    expect((await call(h2, 'POST', '/v1/events', { category: 'finance', type: 'invoice_overdue', title: 'Invoice 4', severity: 'error', dedup_key: 'inv-4' }, erpKey)).status).toBe(202);
    await eventually(async () => (await h2.sql`select 1 from alerts where dedup_key = 'inv-4'`).length === 1);
  }, 120_000);
});

describe('the embedded cluster, copied while stopped', () => {
  it('starts from the copy with the same alerts, rules and keys', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'herald-embedded-'));
    const copy = `${dir}-copy`;
    cleanups.push(() => { rmSync(dir, { recursive: true, force: true }); rmSync(copy, { recursive: true, force: true }); });
    const h1 = await startHerald({ env: env({ HERALD_DATA_DIR: dir }) });
    let stopped = false;
    cleanups.push(() => (stopped ? undefined : h1.stop()));
    await populate(h1);
    const before = await summary(h1);
    const key = Buffer.from(h1.ctx.key);
    await h1.stop();
    stopped = true;
    execFileSync('cp', ['-a', dir, copy]); // docs/operations.md: `cp -a` (or tar) of the stopped data directory, owners kept
    const h2 = await startHerald({ env: env({ HERALD_DATA_DIR: copy }) }); cleanups.push(() => h2.stop());
    expect(await summary(h2)).toEqual(before);
    expect(h2.ctx.key.equals(key)).toBe(true);
  }, 120_000);
});
