// API keys: `hk_<8 char prefix>_<secret>`; only the SHA-256 of the whole key is stored (keys are 190
// random bits, so a fast hash is safe); the key is shown once. Verification is cached for a few seconds
// so ingestion at thousands of requests per second does not query per request; `last_used_at` is
// written at most once a minute per key.
import { z } from 'zod';
import { text, instant } from '../platform/input';
import type { Herald } from '../herald';
import type { Sql } from '../platform/sql';
import { require, SCOPES, type Actor, type Scope } from '../actor';
import { notFound, parse } from '../errors';
import { randomToken, sha256 } from '../platform/crypto';
import { DEFAULT_ORG_ID } from '../model/org';
import { recordAudit } from '../audit/record';

export const ApiKeyInputSchema = z
  .object({
    name: text().trim().min(1).max(200),
    scopes: z.array(z.enum(SCOPES as [Scope, ...Scope[]])).min(1),
    expires_at: instant().refine((v) => Date.parse(v) > Date.now(), 'expires_at must be in the future').nullish(),
  })
  .strict();

const view = (r: Record<string, any>) => ({
  id: Number(r.id), name: r.name, prefix: r.prefix, scopes: r.scopes, expires_at: r.expires_at?.toISOString() ?? null,
  revoked_at: r.revoked_at?.toISOString() ?? null, last_used_at: r.last_used_at?.toISOString() ?? null, created_at: r.created_at.toISOString(),
});

export async function createApiKey(h: Herald, actor: Actor, input: unknown) {
  require(actor, 'api_keys:write');
  const k = parse(ApiKeyInputSchema, input);
  const prefix = randomToken(6).replace(/[-_]/g, 'x').slice(0, 8);
  const secret = `hk_${prefix}_${randomToken(24)}`;
  const row = await h.sql.begin(async (tx) => {
    const [row] = await tx`
      insert into api_keys (org_id, name, prefix, secret_hash, scopes, expires_at, created_by)
      values (${actor.orgId}, ${k.name}, ${prefix}, ${sha256(secret)}, ${k.scopes}, ${k.expires_at ?? null}, ${actor.kind === 'user' ? `user:${actor.userId}` : actor.kind})
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

/** HERALD_ADMIN_API_KEY: an admin key with exactly this secret exists (and is not revoked). */
export async function ensureEnvAdminKey(sql: Sql, secret: string): Promise<void> {
  const hash = sha256(secret);
  await sql`
    insert into api_keys (org_id, name, prefix, secret_hash, scopes, created_by)
    values (${DEFAULT_ORG_ID}, 'HERALD_ADMIN_API_KEY', 'env', ${hash}, ${['admin']}, 'environment')
    on conflict (secret_hash) do update set revoked_at = null, scopes = excluded.scopes, expires_at = null`;
}

interface Cached { actor: Actor | null; expiresAt: number | null; until: number }
const cache = new Map<string, Cached>();
const lastUsedWritten = new Map<number, number>();
const CACHE_MS = 5_000;

export function clearApiKeyCache() { cache.clear(); }

/** Returns the actor for a presented key, or null when it is unknown, revoked or expired. */
export async function verifyApiKey(sql: Sql, presented: string): Promise<Actor | null> {
  const now = Date.now();
  const hit = cache.get(presented);
  if (hit && hit.until > now) return hit.actor && (hit.expiresAt === null || hit.expiresAt > now) ? hit.actor : null;
  const [row] = await sql<{ id: number; org_id: number; name: string; scopes: Scope[]; expires_at: Date | null; revoked_at: Date | null }[]>`
    select id, org_id, name, scopes, expires_at, revoked_at from api_keys where secret_hash = ${sha256(presented)}`;
  const valid = row && !row.revoked_at && (!row.expires_at || row.expires_at.getTime() > now);
  const actor: Actor | null = valid ? { kind: 'api_key', orgId: Number(row.org_id), keyId: Number(row.id), name: row.name, scopes: row.scopes } : null;
  if (cache.size > 10_000) cache.clear();
  cache.set(presented, { actor, expiresAt: row?.expires_at?.getTime() ?? null, until: now + CACHE_MS });
  if (actor && actor.kind === 'api_key') touch(sql, actor.keyId);
  return actor;
}

function touch(sql: Sql, id: number) {
  const now = Date.now();
  if ((lastUsedWritten.get(id) ?? 0) > now - 60_000) return;
  lastUsedWritten.set(id, now);
  sql`update api_keys set last_used_at = now() where id = ${id}`.catch(() => {});
}
