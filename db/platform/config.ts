// Herald's configuration, read once from the environment (docs/design.md "Environment").
import { z } from 'zod';

const emptyToUndefined = (v: unknown) => (v === '' ? undefined : v);
const opt = z.preprocess(emptyToUndefined, z.string().optional());
const num = (min: number, max: number, def: number) => z.preprocess(emptyToUndefined, z.coerce.number().int().min(min).max(max).default(def));

const EnvSchema = z.object({
  PORT: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(65535).default(8080)),
  HOST: z.preprocess(emptyToUndefined, z.string().default('127.0.0.1')),
  PUBLIC_URL: opt,
  DATABASE_URL: opt,
  HERALD_DATA_DIR: z.preprocess(emptyToUndefined, z.string().default('./.herald')),
  HERALD_ADMIN_EMAIL: opt,
  HERALD_ADMIN_PASSWORD: opt,
  HERALD_ADMIN_API_KEY: opt,
  HERALD_SECRET_KEY: opt,
  SLACK_BOT_TOKEN: opt,
  SLACK_SIGNING_SECRET: opt,
  SLACK_APP_TOKEN: opt,
  SLACK_API_URL: opt,
  DISCORD_BOT_TOKEN: opt,
  DISCORD_APPLICATION_ID: opt,
  DISCORD_PUBLIC_KEY: opt,
  DISCORD_API_URL: opt,
  DISCORD_GUILD_ID: opt,
  TWILIO_ACCOUNT_SID: opt,
  TWILIO_AUTH_TOKEN: opt,
  TWILIO_FROM_NUMBER: opt,
  TWILIO_API_URL: opt,
  SMTP_URL: opt,
  EMAIL_FROM: opt,
  VAPID_PUBLIC_KEY: opt,
  VAPID_PRIVATE_KEY: opt,
  VAPID_SUBJECT: opt,
  HERALD_DEFAULT_REGION: z.preprocess(emptyToUndefined, z.string().length(2).default('US')),
  HERALD_WEBHOOK_ALLOW_PRIVATE: z.preprocess(emptyToUndefined, z.enum(['0', '1']).default('0')),
  /** Worker tuning (not part of the public contract). */
  HERALD_WORKER_CONCURRENCY: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).default(24)),
  HERALD_POLL_INTERVAL_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(10).default(50)),
  /** Webhook deliveries run in their own job runner with this many slots (never routing's). */
  HERALD_WEBHOOK_CONCURRENCY: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).default(16)),
  /**
   * `npm start` (no --role): how many API and worker processes to run. Unset: one of each on a machine with more
   * than one core, everything in one process on a single core (api/supervisor.ts). 0 API processes is refused.
   */
  HERALD_API_PROCESSES: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(64).optional()),
  HERALD_WORKER_PROCESSES: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(64).optional()),
  /**
   * Overload: events accepted by this process but not yet committed (queued or being written). Past it, or when
   * the oldest waiting request has waited HERALD_INGEST_MAX_WAIT_MS, ingest answers 503 with Retry-After.
   */
  HERALD_INGEST_MAX_PENDING: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).default(20_000)),
  HERALD_INGEST_MAX_WAIT_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).default(2_000)),
  /** A worker-only process serves /metrics, /healthz and /readyz on this port (unset: none; 0: any free port); see deploy/. */
  HERALD_METRICS_PORT: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(65535).optional()),
  /** Self-monitoring (db/system/watch.ts): how often each process records its readiness and checks Herald's trouble (0: off). */
  HERALD_WATCH_INTERVAL_S: num(0, 3600, 15),
  /** `0` records readiness but raises no herald/* alerts (the test harness). */
  HERALD_WATCH_ALERTS: z.preprocess(emptyToUndefined, z.enum(['0', '1']).default('1')),
  HERALD_WATCH_QUEUE_AGE_S: num(1, 86_400, 120),
  HERALD_WATCH_CHANNEL_FAILURES: num(1, 1_000_000, 5),
  HERALD_WATCH_WORKER_GONE_S: num(10, 86_400, 60),
  HERALD_WATCH_DISK_PCT: num(1, 100, 90),
  /** Retention (db/system/retention.ts), in days; 0 keeps forever. */
  HERALD_RETAIN_EVENTS_DAYS: num(0, 36_500, 90),
  HERALD_RETAIN_DELIVERIES_DAYS: num(0, 36_500, 30),
  HERALD_RETAIN_TIMELINE_DAYS: num(0, 36_500, 365),
  /** Analytics (db/analytics/alerts.ts): up to this many alerts in range, exact percentiles; above, rollups and histograms. */
  HERALD_ANALYTICS_EXACT_ALERTS: num(0, 100_000_000, 5_000),
  /** Analytics: the rollups answer only while at most this many of a range's alerts lie outside its stored hours. */
  HERALD_ANALYTICS_LIVE_ALERTS: num(0, 100_000_000, 20_000),
  HERALD_RETAIN_NOTIFICATIONS_DAYS: num(0, 36_500, 90),
  HERALD_RETAIN_READINESS_DAYS: num(0, 36_500, 14),
  /** The audit trail is kept forever unless an operator bounds it (compliance usually asks for a year or more). */
  HERALD_RETAIN_AUDIT_DAYS: num(0, 36_500, 0),
  HERALD_RETAIN_BATCH: num(10, 100_000, 1000),
  /** Suspicious activity (README "Audit"): the window in which bursts are counted, and their thresholds. */
  HERALD_SECURITY_WINDOW_MINUTES: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(24 * 60).default(10)),
  HERALD_SECURITY_FAILED_SIGNINS_PER_ACCOUNT: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).default(10)),
  HERALD_SECURITY_FAILED_SIGNINS_PER_ADDRESS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).default(20)),
  HERALD_SECURITY_EXPORTS_PER_WINDOW: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).default(1)),
  /** Sessions (README "Sessions and two-factor sign-in"). */
  HERALD_SESSION_IDLE_MINUTES: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).default(720)),
  HERALD_SESSION_MAX_DAYS: z.preprocess(emptyToUndefined, z.coerce.number().min(0.001).default(30)),
  HERALD_REQUIRE_2FA: z.preprocess(emptyToUndefined, z.enum(['0', '1']).default('0')),
  /** Rate limits per calendar minute (README "Rate limits"). */
  HERALD_RATE_LIMIT_API_KEY_PER_MINUTE: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).default(600_000)),
  HERALD_RATE_LIMIT_SESSION_PER_MINUTE: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).default(1_200)),
  HERALD_RATE_LIMIT_ADDRESS_PER_MINUTE: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).default(600)),
  HERALD_RATE_LIMIT_PROVIDER_PER_MINUTE: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).default(6_000)),
  HERALD_RATE_LIMIT_SYNC_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(10).default(1_000)),
  HERALD_USAGE_FLUSH_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(10).default(2_000)),
  /** The largest file `POST /v1/imports` stores (bytes; the 1 MiB JSON body limit does not apply to imports). */
  HERALD_IMPORT_MAX_BYTES: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1024).default(256 * 1024 * 1024)),
});

export type Env = z.output<typeof EnvSchema>;

export interface Config extends Env {
  publicUrl: string;
  webhookAllowPrivate: boolean;
  security: SecurityLimits;
  require2fa: boolean;
}

/** When suspicious activity posts a `security/*` event (db/audit/suspicious.ts). */
export interface SecurityLimits {
  windowMinutes: number;
  failedPerAccount: number;
  failedPerAddress: number;
  exportsPerWindow: number;
}

export const DEFAULT_SECURITY_LIMITS: SecurityLimits = { windowMinutes: 10, failedPerAccount: 10, failedPerAddress: 20, exportsPerWindow: 1 };

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const r = EnvSchema.safeParse(env);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`Invalid configuration:\n${lines}`);
  }
  const e = r.data;
  const host = e.HOST === '0.0.0.0' || e.HOST === '::' ? 'localhost' : e.HOST;
  return {
    ...e,
    publicUrl: (e.PUBLIC_URL ?? `http://${host}:${e.PORT}`).replace(/\/+$/, ''),
    webhookAllowPrivate: e.HERALD_WEBHOOK_ALLOW_PRIVATE === '1',
    security: {
      windowMinutes: e.HERALD_SECURITY_WINDOW_MINUTES,
      failedPerAccount: e.HERALD_SECURITY_FAILED_SIGNINS_PER_ACCOUNT,
      failedPerAddress: e.HERALD_SECURITY_FAILED_SIGNINS_PER_ADDRESS,
      exportsPerWindow: e.HERALD_SECURITY_EXPORTS_PER_WINDOW,
    },
    require2fa: e.HERALD_REQUIRE_2FA === '1',
  };
}
