// Boots Herald: database (embedded unless DATABASE_URL), migrations, first admin, channels, worker and
// HTTP server, in the roles asked for. Returns a handle whose stop() shuts everything down in order.
import { serve, type ServerType } from '@hono/node-server';
import path from 'node:path';
import { loadConfig, type Config } from '../db/platform/config';
import { connect, type Pool } from '../db/platform/sql';
import { migrate } from '../db/migrate';
import { freePort, startEmbeddedPostgres, type EmbeddedHandle } from '../db/embedded';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { systemActor } from '../db/actor';
import { loadInstanceKey, randomToken } from '../db/platform/crypto';
import { ensureAdmin } from '../db/users/repo';
import { createApiKey, ensureEnvAdminKey } from '../db/api-keys/repo';
import { EventIngestor } from '../db/events/ingest';
import type { Herald } from '../db/herald';
import { createAdapters } from '../bot/registry';
import type { Adapters } from '../bot/adapter';
import { startWorker, type WorkerHandle } from '../jobs/worker';
import { createApp, type Mount } from './app';
import type { ApiContext } from './context';
import { log } from '../db/platform/log';
import { MOUNTS } from './mounts';
import { DEFAULT_ORG_ID } from '../db/model/org';
import { ensurePresets } from '../db/metrics/presets';
import { ensureHeraldRule } from '../db/system/presets';
import { startWatcher, type Watcher } from './watcher';
import { startMetricsServer } from './metrics-server';
import { MinuteLimiter } from '../db/limits/limiter';
import { ApiKeyUsage } from '../db/api-keys/usage';

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  roles?: { api: boolean; worker: boolean };
  /** Extra routers (tests); the standard ones come from api/mounts.ts. */
  mounts?: Mount[];
  /** Override adapters (tests that bring their own). */
  adapters?: (config: Config) => Adapters;
}

export interface HeraldHandle {
  config: Config;
  ctx: ApiContext;
  sql: Pool;
  url: string;
  databaseUrl: string;
  worker: WorkerHandle | null;
  server: ServerType | null;
  /** The port of a worker-only process's /metrics server (HERALD_METRICS_PORT), else null. */
  metricsPort: number | null;
  /** This process's watcher (readiness history, self-monitoring); tick() runs one round now. */
  watcher: Watcher;
  admin: { email: string; password: string | null; created: boolean; apiKey: string | null };
  stop: () => Promise<void>;
}

export async function startHerald(opts: StartOptions = {}): Promise<HeraldHandle> {
  const config = loadConfig(opts.env ?? process.env);
  const roles = opts.roles ?? { api: true, worker: true };
  let embedded: EmbeddedHandle | null = null;
  let databaseUrl = config.DATABASE_URL;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres({
      dataDir: config.HERALD_DATA_DIR, port: await embeddedPort(config), log: (l) => log.warn('postgres', { line: l }),
      onRecovered: (message, detail) => log.warn(message, detail),
    });
    databaseUrl = embedded.url('postgres');
  }
  const sql = connect(databaseUrl, { max: 24 });
  await migrate(sql, databaseUrl);
  await ensurePresets(sql);
  if (config.HERALD_WATCH_ALERTS === '1') await ensureHeraldRule(sql);
  const key = await loadInstanceKey(sql, config.HERALD_SECRET_KEY);

  const adminEmail = config.HERALD_ADMIN_EMAIL ?? 'admin@herald.local';
  const envPassword = config.HERALD_ADMIN_PASSWORD ?? null;
  const generate = !envPassword && !(await adminHasPassword(sql, adminEmail));
  const password = envPassword ?? (generate ? randomToken(12) : null);
  const { created } = await ensureAdmin(sql, adminEmail, password);
  if (config.HERALD_ADMIN_API_KEY) await ensureEnvAdminKey(sql, config.HERALD_ADMIN_API_KEY);

  const adapters = (opts.adapters ?? createAdapters)(config);
  const h: Herald = { sql, config, key, channels: adapters };
  // First start without HERALD_ADMIN_API_KEY: an admin key for the printed curl, shown this once.
  const firstKey = created && !config.HERALD_ADMIN_API_KEY
    ? (await createApiKey(h, systemActor(DEFAULT_ORG_ID, 'first start'), { name: 'Getting started (created on first start)', scopes: ['admin'] })).key
    : null;
  const ingestor = new EventIngestor(sql, { maxPendingEvents: config.HERALD_INGEST_MAX_PENDING, maxWaitMs: config.HERALD_INGEST_MAX_WAIT_MS });

  let worker: WorkerHandle | null = null;
  if (roles.worker) worker = await startWorker(h, adapters, databaseUrl);
  const limiter = new MinuteLimiter(databaseUrl, config.HERALD_RATE_LIMIT_SYNC_MS);
  const usage = new ApiKeyUsage(sql, config.HERALD_USAGE_FLUSH_MS);
  if (roles.api) { limiter.start(); usage.start(); }
  const ctx: ApiContext = { ...h, adapters, ingestor, roles, limiter, usage, workerAlive: () => worker !== null && Date.now() - worker.lastActivity() < 30_000 };
  for (const a of Object.values(adapters)) await a.start?.({ sql, config, key });

  let server: ServerType | null = null;
  let url = config.publicUrl;
  if (roles.api) {
    for (const a of Object.values(adapters)) a.takeInbound?.(ctx);
    const app = createApp(ctx, [...MOUNTS, ...(opts.mounts ?? [])]);
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, () => resolve(s));
    });
    const addr = server.address();
    if (addr && typeof addr === 'object') {
      url = `http://${config.HOST}:${addr.port}`;
      if (!config.PUBLIC_URL) { config.publicUrl = url; }
    }
  }

  const watcher: Watcher = await startWatcher(ctx, { diskPath: embedded ? config.HERALD_DATA_DIR : null });
  const metricsServer = !roles.api && config.HERALD_METRICS_PORT !== undefined ? await startMetricsServer(ctx, config.HERALD_METRICS_PORT, config.HOST) : null;

  for (const [kind, a] of Object.entries(adapters)) {
    const hth = a.health();
    if (hth.status !== 'ok') log.info(`channel ${kind} is ${hth.status}`, { detail: hth.detail });
  }

  let stopped = false;
  return {
    config, ctx, sql, url, databaseUrl, worker, server, watcher, metricsPort: metricsServer?.port ?? null,
    // The password is reported only when generated now (it cannot be shown again) or given in the environment.
    admin: { email: adminEmail, password: generate ? password : envPassword ? '(from HERALD_ADMIN_PASSWORD)' : null, created, apiKey: firstKey },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      if (server) await new Promise<void>((r) => { server!.close(() => r()); (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.(); });
      for (const a of Object.values(adapters)) await a.stop?.().catch(() => {});
      await watcher.stop();
      await metricsServer?.stop();
      if (worker) await worker.stop().catch(() => {});
      await usage.stop().catch(() => {});
      await limiter.stop().catch(() => {});
      await sql.end({ timeout: 5 });
      if (embedded) await embedded.stop();
    },
  };
}

async function adminHasPassword(sql: Pool, email: string): Promise<boolean> {
  const [row] = await sql`select password_hash is not null as has from users where org_id = ${DEFAULT_ORG_ID} and lower(email) = lower(${email}) and deleted_at is null`;
  return Boolean(row?.has);
}

/** The embedded cluster keeps its port across restarts (stored beside the data) so URLs stay stable. */
export async function embeddedPort(config: Config): Promise<number> {
  const file = path.join(config.HERALD_DATA_DIR, 'pg-port');
  try { return Number(readFileSync(file, 'utf8').trim()) || (await freePort()); } catch {
    const p = await freePort();
    mkdirSync(config.HERALD_DATA_DIR, { recursive: true });
    writeFileSync(file, String(p));
    return p;
  }
}
