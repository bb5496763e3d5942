// API keys: `hk_<8 char prefix>_<secret>`; only the SHA-256 of the whole key is stored (keys are 190
// random bits, so a fast hash is safe); the key is shown once. Verification is cached for a few seconds
// so ingestion at thousands of requests per second does not query per request; `last_used_at`, its address
// and the usage per day are counted in memory and written in batches (usage.ts).
// Rotation (POST /v1/api-keys/:id/rotate {overlap_minutes}) gives the key a new secret, shown once, and keeps
// the previous one working until the overlap ends; a later rotation replaces the previous secret.
import { z } from 'zod';
import { text, instant } from '../platform/input';
import type { Herald } from '../herald';
import type { Sql } from '../platform/sql';
import { require, SCOPES, type Actor, type Scope } from '../actor';
import { conflict, notFound, parse } from '../errors';
import { randomToken, sha256 } from '../platform/crypto';
import { DEFAULT_ORG_ID } from '../model/org';
import { recordAudit } from '../audit/record';

export const ApiKeyInputSchema = z
  .object({
    name: text().trim().min(1).max(200),
    scopes: z.array(z.enum(SCOPES as [Scope, ...Scope[]])).min(1),
    expires_at: instant().refine((v) => Date.parse(v) > Date.now(), 'expires_at must be in the future').nullish(),
    rate_limit_per_minute: z.number().int().min(1).max(100_000_000).nullish(),
  })
  .strict();

export const ApiKeyPatchSchema = z
  .object({
    name: text().trim().min(1).max(200).optional(),
    rate_limit_per_minute: z.number().int().min(1).max(100_000_000).nullable().optional(),
  })
  .strict();

/** At most 30 days of overlap; 0 ends the old secret at once. */
export const RotateSchema = z.object({ overlap_minutes: z.number().int().min(0).max(43_200).default(60) }).strict();

const view = (r: Record<string, any>) => ({
  id: Number(r.id), name: r.name, prefix: r.prefix, scopes: r.scopes, expires_at: r.expires_at?.toISOString() ?? null,
  revoked_at: r.revoked_at?.toISOString() ?? null, last_used_at: r.last_used_at?.toISOString() ?? null, created_at: r.created_at.toISOString(),
  last_used_address: r.last_used_address ?? null, rate_limit_per_minute: r.rate_limit_per_minute ?? null,
  rotated_at: r.rotated_at?.toISOString() ?? null,
  previous_expires_at: r.previous_expires_at && r.previous_expires_at.getTime() > Date.now() ? r.previous_expires_at.toISOString() : null,
});

export async function createApiKey(h: Herald, actor: Actor, input: unknown) {
  require(actor, 'api_keys:write');
  const k = parse(ApiKeyInputSchema, input);
  const prefix = randomToken(6).replace(/[-_]/g, 'x').slice(0, 8);
  const secret = `hk_${prefix}_${randomToken(24)}`;
  const row = await h.sql.begin(async (tx) => {
    const [row] = await tx`
      insert into api_keys (org_id, name, prefix, secret_hash, scopes, expires_at, created_by, rate_limit_per_minute)
      values (${actor.orgId}, ${k.name}, ${prefix}, ${sha256(secret)}, ${k.scopes}, ${k.expires_at ?? null}, ${actor.kind === 'user' ? `user:${actor.userId}` : actor.kind}, ${k.rate_limit_per_minute ?? null})
      returning *`;
    await recordAudit(tx, actor, 'api_key.created', { kind: 'api_key', id: Number(row.id), label: row.name }, { after: view(row) });
    return row;
  });
  return { ...view(row), key: secret };
}

export async function listApiKeys(h: Herald, actor: Actor) {
  require(actor, 'api_keys:write');
  const rows = await h.sql`select * from api_keys where org_id = ${actor.orgId} order by id`;
  return rows.map(view);
}

export async function revokeApiKey(h: Herald, actor: Actor, id: number) {
  require(actor, 'api_keys:write');
  const row = await h.sql.begin(async (tx) => {
    const [old] = await tx`select * from api_keys where org_id = ${actor.orgId} and id = ${id} for update`;
    if (!old) throw notFound(`API key ${id}`);
    const [row] = await tx`update api_keys set revoked_at = coalesce(revoked_at, now()) where id = ${id} returning *`;
    await recordAudit(tx, actor, 'api_key.revoked', { kind: 'api_key', id, label: row.name }, { before: view(old), after: view(row) });
    return row;
  });
  cache.clear();
  return view(row);
}

export async function updateApiKey(h: Herald, actor: Actor, id: number, input: unknown) {
  require(actor, 'api_keys:write');
  const p = parse(ApiKeyPatchSchema, input);
  const row = await h.sql.begin(async (tx) => {
    const [old] = await tx`select * from api_keys where org_id = ${actor.orgId} and id = ${id} for update`;
    if (!old) throw notFound(`API key ${id}`);
    const [row] = await tx`
      update api_keys set name = coalesce(${p.name ?? null}, name),
        rate_limit_per_minute = case when ${p.rate_limit_per_minute !== undefined} then ${p.rate_limit_per_minute ?? null}::int else rate_limit_per_minute end
      where id = ${id} returning *`;
    await recordAudit(tx, actor, 'api_key.updated', { kind: 'api_key', id, label: row.name }, { before: view(old), after: view(row) });
    return row;
  });
  cache.clear();
  return view(row);
}

/**
 * A new secret for the key (returned once); the current one keeps working for `overlap_minutes`. A revoked or
 * expired key cannot be rotated (409).
 */
export async function rotateApiKey(h: Herald, actor: Actor, id: number, input: unknown) {
  require(actor, 'api_keys:write');
  const { overlap_minutes } = parse(RotateSchema, input ?? {});
  return h.sql.begin(async (tx) => {
    const [cur] = await tx`select * from api_keys where org_id = ${actor.orgId} and id = ${id} for update`;
    if (!cur) throw notFound(`API key ${id}`);
    if (cur.revoked_at || (cur.expires_at && cur.expires_at.getTime() <= Date.now())) throw conflict(`API key ${id} is revoked or expired; create a new key instead`);
    if (cur.prefix === 'env') throw conflict('The HERALD_ADMIN_API_KEY key is set by the environment; change the variable to rotate it');
    const secret = `hk_${cur.prefix}_${randomToken(24)}`;
    const [row] = await tx`
      update api_keys set previous_secret_hash = secret_hash, secret_hash = ${sha256(secret)}, rotated_at = now(),
        previous_expires_at = now() + make_interval(mins => ${overlap_minutes})
      where id = ${id} returning *`;
    // The view only: the new secret is returned once and never stored anywhere but as its hash.
    await recordAudit(tx, actor, 'api_key.rotated', { kind: 'api_key', id, label: row.name },
      { before: view(cur), after: { ...view(row), overlap_minutes } });
    cache.clear();
    return { ...view(row), key: secret };
  });
}

export const USAGE_DAYS_MAX = 90;

/** Requests per day (UTC) for the last `days` days, newest first, by status class. */
export async function apiKeyUsage(h: Herald, actor: Actor, id: number, query: Record<string, string | undefined> = {}) {
  require(actor, 'api_keys:write');
  const days = parse(z.object({ days: z.coerce.number().int().min(1).max(USAGE_DAYS_MAX).default(30) }), { days: query.days }, 'query');
  const [key] = await h.sql`select id from api_keys where org_id = ${actor.orgId} and id = ${id}`;
  if (!key) throw notFound(`API key ${id}`);
  const rows = await h.sql<{ day: string; status_class: string; requests: number }[]>`
    select to_char(day, 'YYYY-MM-DD') as day, status_class, requests from api_key_usage
    where key_id = ${id} and day > (now() at time zone 'UTC')::date - ${days.days}::int order by day desc`;
  const byDay = new Map<string, Record<string, number>>();
  for (const r of rows) {
    const d = byDay.get(r.day) ?? {};
    d[r.status_class] = Number(r.requests);
    byDay.set(r.day, d);
  }
  return {
    days: [...byDay].map(([date, by]) => ({ date, requests: Object.values(by).reduce((a, b) => a + b, 0), by_status: by })),
  };
}

/** HERALD_ADMIN_API_KEY: an admin key with exactly this secret exists (and is not revoked). */
export async function ensureEnvAdminKey(sql: Sql, secret: string): Promise<void> {
  const hash = sha256(secret);
  await sql`
    insert into api_keys (org_id, name, prefix, secret_hash, scopes, created_by)
    values (${DEFAULT_ORG_ID}, 'HERALD_ADMIN_API_KEY', 'env', ${hash}, ${['admin']}, 'environment')
    on conflict (secret_hash) do update set revoked_at = null, scopes = excluded.scopes, expires_at = null`;
}

interface Cached { actor: Actor | null; expiresAt: number | null; limit: number | null; until: number }
const cache = new Map<string, Cached>();
const CACHE_MS = 5_000;

export function clearApiKeyCache() { cache.clear(); }

/** Returns the actor for a presented key, or null when it is unknown, revoked or expired. */
export async function verifyApiKey(sql: Sql, presented: string): Promise<Actor | null> {
  return (await verifyApiKeyLimit(sql, presented))?.actor ?? null;
}

/**
 * The actor and the key's own rate limit (null: the default) for a presented key, or null when it is unknown,
 * revoked or expired. A rotated key's previous secret is valid until its overlap ends.
 */
export async function verifyApiKeyLimit(sql: Sql, presented: string): Promise<{ actor: Actor; limit: number | null } | null> {
  const now = Date.now();
  const hit = cache.get(presented);
  if (hit && hit.until > now) return hit.actor && (hit.expiresAt === null || hit.expiresAt > now) ? { actor: hit.actor, limit: hit.limit } : null;
  const hash = sha256(presented);
  const [row] = await sql<{ id: number; org_id: number; name: string; scopes: Scope[]; expires_at: Date | null; revoked_at: Date | null; rate_limit_per_minute: number | null; previous: boolean; previous_expires_at: Date | null }[]>`
    select id, org_id, name, scopes, expires_at, revoked_at, rate_limit_per_minute, secret_hash <> ${hash} as previous, previous_expires_at
    from api_keys where secret_hash = ${hash} or (previous_secret_hash = ${hash} and previous_expires_at > now())`;
  // The secret's end: the key's expiry, or the overlap's end when it is the previous secret (whichever is first).
  const ends = [row?.expires_at?.getTime(), row?.previous ? row.previous_expires_at?.getTime() : undefined].filter((x): x is number => x !== undefined);
  const expiresAt = ends.length ? Math.min(...ends) : null;
  const valid = row && !row.revoked_at && (expiresAt === null || expiresAt > now);
  const actor: Actor | null = valid ? { kind: 'api_key', orgId: Number(row.org_id), keyId: Number(row.id), name: row.name, scopes: row.scopes } : null;
  const limit = row?.rate_limit_per_minute ?? null;
  if (cache.size > 10_000) cache.clear();
  cache.set(presented, { actor, expiresAt, limit, until: now + CACHE_MS });
  return actor ? { actor, limit } : null;
}
