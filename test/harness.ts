// Test harness: a fresh database cloned from the migrated template, and a real Herald (API + worker)
// on a random port. Nothing is mocked: tests talk HTTP to the server and read Postgres.
import { escalationKey } from '../db/jobs/catalog';
import { inject } from 'vitest';
import postgres from 'postgres';
import { randomBytes } from 'node:crypto';
import { startHerald, type HeraldHandle, type StartOptions } from '../api/server';
import { withDb } from './global-setup';

export const ADMIN_KEY = 'hk_test_admin_key_0123456789abcdef';

export async function freshDatabase(): Promise<string> {
  const adminUrl = inject('pgAdminUrl');
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  // Cloning needs the template to be idle; retry briefly when another file is cloning at the same moment.
  for (let i = 0; ; i++) {
    try {
      await admin.unsafe(`create database ${name} template ${inject('templateDb')}`);
      break;
    } catch (e) {
      if (i > 50) throw e;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    }
  }
  await admin.end();
  return withDb(adminUrl, name);
}

export interface TestHerald extends HeraldHandle {
  /** fetch against the server with the admin API key (or `key`) and JSON bodies. */
  api: (method: string, path: string, body?: unknown, opts?: { key?: string | null; headers?: Record<string, string>; raw?: string }) => Promise<{ status: number; body: any; headers: Headers }>;
  /** Moves the alert's escalation timer to now (as if its time had come). */
  fastForward: (alertId: number) => Promise<void>;
  /** Polls until fn returns a truthy value. */
  eventually: <T>(fn: () => Promise<T | null | undefined | false>, ms?: number) => Promise<T>;
}

export async function startTestHerald(env: Record<string, string> = {}, opts: Omit<StartOptions, 'env'> = {}): Promise<TestHerald> {
  const databaseUrl = await freshDatabase();
  const h = await startHerald({
    ...opts,
    env: {
      DATABASE_URL: databaseUrl, PORT: '0', HOST: '127.0.0.1', HERALD_ADMIN_API_KEY: ADMIN_KEY,
      HERALD_ADMIN_EMAIL: 'admin@example.com', HERALD_ADMIN_PASSWORD: 'correct horse battery',
      HERALD_WEBHOOK_ALLOW_PRIVATE: '1', HERALD_POLL_INTERVAL_MS: '50', HERALD_SECRET_KEY: 'test-secret', LOG_LEVEL: 'silent',
      // A busy shared test machine can stall a flush past the production overload bound; only overload.test.ts tests it.
      HERALD_INGEST_MAX_WAIT_MS: '60000',
      // Herald's own herald/* alerts (and their preset rule) would add alerts and a rule to tests that count them;
      // test/ops-watch.test.ts turns them on.
      HERALD_WATCH_ALERTS: '0', ...env,
    },
  });
  const api: TestHerald['api'] = async (method, path, body, o = {}) => {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    const key = o.key === undefined ? ADMIN_KEY : o.key;
    if (key) headers.authorization = `Bearer ${key}`;
    if (body !== undefined || o.raw !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(h.url + path, { method, headers, body: o.raw ?? (body === undefined ? undefined : JSON.stringify(body)) });
    const text = await res.text();
    let parsed: any = text;
    try { parsed = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  const fastForward = async (alertId: number) => {
    await h.sql`update alerts set created_at = created_at - (escalation_next_at - now()) - interval '1 second',
      escalation_next_at = now() - interval '1 second' where id = ${alertId} and escalation_next_at is not null`;
    await h.sql`update graphile_worker._private_jobs set run_at = now() where key = ${escalationKey(alertId)}`;
  };
  const eventually = async <T,>(fn: () => Promise<T | null | undefined | false>, ms = 10_000): Promise<T> => {
    const end = Date.now() + ms;
    let last: unknown;
    while (Date.now() < end) {
      try {
        const v = await fn();
        if (v) return v;
      } catch (e) { last = e; }
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`condition not met within ${ms} ms${last ? `: ${(last as Error).message}` : ''}`);
  };
  return Object.assign(h, { api, fastForward, eventually });
}

/** A local webhook receiver that records every delivery with its headers and raw body. */
import { createServer, type Server } from 'node:http';
export interface Receiver { url: string; hits: Array<{ headers: Record<string, string>; body: string; at: number }>; status: number; close: () => Promise<void> }
export async function startReceiver(status = 200): Promise<Receiver> {
  const rec: Receiver = { url: '', hits: [], status, close: async () => {} };
  const srv: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      rec.hits.push({ headers: req.headers as Record<string, string>, body, at: Date.now() });
      res.statusCode = rec.status;
      res.end('ok');
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  rec.url = `http://127.0.0.1:${(srv.address() as { port: number }).port}/hook`;
  rec.close = () => new Promise((r) => { srv.closeAllConnections(); srv.close(() => r()); });
  return rec;
}
