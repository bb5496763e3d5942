// Herald's configuration, read once from the environment (docs/design.md "Environment").
import { z } from 'zod';

const emptyToUndefined = (v: unknown) => (v === '' ? undefined : v);
const opt = z.preprocess(emptyToUndefined, z.string().optional());

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
  /** The largest file `POST /v1/imports` stores (bytes; the 1 MiB JSON body limit does not apply to imports). */
  HERALD_IMPORT_MAX_BYTES: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1024).default(256 * 1024 * 1024)),
});

export type Env = z.output<typeof EnvSchema>;

export interface Config extends Env {
  publicUrl: string;
  webhookAllowPrivate: boolean;
}

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
  };
}
