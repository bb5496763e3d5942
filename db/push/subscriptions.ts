// Web push subscriptions: a browser's PushSubscription (endpoint + p256dh + auth) registered for the
// signed-in person. Every change notifies `herald_push` with the person's id so each process's push
// adapter can keep its "who can be reached by push" set current (see bot/push/adapter.ts).
import { z } from 'zod';
import { text } from '../platform/input';
import { createPublicKey } from 'node:crypto';
import type { Herald } from '../herald';
import type { Pool, Sql } from '../platform/sql';
import { require, type Actor } from '../actor';
import { forbidden, invalid, parse } from '../errors';
import { checkWebhookUrl } from '../platform/outbound-guard';

export const PUSH_CHANNEL = 'herald_push';
/** Phones, laptops, browsers: more than this per person is a leak (the oldest are dropped). */
export const MAX_SUBSCRIPTIONS_PER_USER = 20;

export interface PushSubscriptionRow {
  id: number;
  org_id: number;
  user_id: number;
  endpoint: string;
  p256dh: string;
  auth: string;
}

const b64url = text().regex(/^[A-Za-z0-9_-]+={0,2}$/, 'must be URL-safe base64');

export const SubscribeSchema = z
  .object({
    endpoint: text().max(2048),
    keys: z.object({ p256dh: b64url.max(200), auth: b64url.max(100) }),
    expirationTime: z.number().nullable().optional(),
  })
  .strict();

export const UnsubscribeSchema = z.object({ endpoint: text().min(1).max(2048) }).strict();

function personOf(actor: Actor) {
  require(actor, 'alerts:read');
  if (actor.kind !== 'user') throw forbidden('Push subscriptions belong to people: sign in as a user on the device to subscribe');
  return { orgId: actor.orgId, userId: actor.userId };
}

/** A P-256 point the payload can be encrypted to (65 bytes, uncompressed, on the curve). */
function validP256(p256dh: string): boolean {
  const raw = Buffer.from(p256dh, 'base64url');
  if (raw.length !== 65 || raw[0] !== 4) return false;
  try {
    createPublicKey({ format: 'jwk', key: { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33).toString('base64url') } });
    return true;
  } catch {
    return false;
  }
}

/** The endpoint must be https (push services are), without credentials, and not a private address unless allowed. */
export function checkPushEndpoint(endpoint: string, allowPrivate: boolean): string | null {
  let u: URL;
  try {
    u = new URL(endpoint);
  } catch {
    return 'not a valid URL';
  }
  if (u.protocol !== 'https:') return 'push services are reached over https only';
  return checkWebhookUrl(endpoint, allowPrivate);
}

export async function subscribe(h: Herald, actor: Actor, input: unknown, userAgent: string | null): Promise<{ id: number; endpoint: string; created: boolean }> {
  const me = personOf(actor);
  const s = parse(SubscribeSchema, input);
  const bad = checkPushEndpoint(s.endpoint, h.config.webhookAllowPrivate);
  if (bad) throw invalid(`endpoint: ${bad}`, [{ path: 'endpoint', message: bad }]);
  const p256dh = s.keys.p256dh.replace(/=+$/, '');
  const auth = s.keys.auth.replace(/=+$/, '');
  if (!validP256(p256dh)) throw invalid('keys.p256dh: not an uncompressed P-256 public key', [{ path: 'keys.p256dh', message: 'not a P-256 public key' }]);
  if (Buffer.from(auth, 'base64url').length !== 16) throw invalid('keys.auth: the auth secret is 16 bytes', [{ path: 'keys.auth', message: 'must be 16 bytes' }]);
  return h.sql.begin(async (tx) => {
    const [row] = await tx<{ id: number; created: boolean; previous_user: number | null }[]>`
      with previous as (select user_id from push_subscriptions where endpoint = ${s.endpoint})
      insert into push_subscriptions (org_id, user_id, endpoint, p256dh, auth, user_agent)
      values (${me.orgId}, ${me.userId}, ${s.endpoint}, ${p256dh}, ${auth}, ${userAgent?.slice(0, 300) ?? null})
      on conflict (endpoint) do update set org_id = excluded.org_id, user_id = excluded.user_id, p256dh = excluded.p256dh,
        auth = excluded.auth, user_agent = excluded.user_agent, updated_at = now(), last_error = null
      returning id, (xmax = 0) as created, (select user_id from previous) as previous_user`;
    await tx`
      delete from push_subscriptions where user_id = ${me.userId} and id not in (
        select id from push_subscriptions where user_id = ${me.userId} order by id desc limit ${MAX_SUBSCRIPTIONS_PER_USER})`;
    await notifyChanged(tx, [me.userId, ...(row.previous_user && Number(row.previous_user) !== me.userId ? [Number(row.previous_user)] : [])]);
    return { id: Number(row.id), endpoint: s.endpoint, created: row.created };
  });
}

export async function unsubscribe(h: Herald, actor: Actor, input: unknown): Promise<{ deleted: number }> {
  const me = personOf(actor);
  const { endpoint } = parse(UnsubscribeSchema, input);
  return h.sql.begin(async (tx) => {
    const rows = await tx`delete from push_subscriptions where user_id = ${me.userId} and org_id = ${me.orgId} and endpoint = ${endpoint} returning id`;
    if (rows.length) await notifyChanged(tx, [me.userId]);
    return { deleted: rows.length };
  });
}

export async function subscriptionsOf(sql: Sql, userId: number): Promise<PushSubscriptionRow[]> {
  const rows = await sql<PushSubscriptionRow[]>`
    select id, org_id, user_id, endpoint, p256dh, auth from push_subscriptions where user_id = ${userId} order by id`;
  return rows.map((r) => ({ ...r, id: Number(r.id), org_id: Number(r.org_id), user_id: Number(r.user_id) }));
}

/** The push service said the subscription is gone (404/410): forget it. */
export async function dropSubscription(sql: Pool, id: number, userId: number): Promise<void> {
  await sql.begin(async (tx) => {
    const rows = await tx`delete from push_subscriptions where id = ${id} returning id`;
    if (rows.length) await notifyChanged(tx, [userId]);
  });
}

export async function recordPushResult(sql: Sql, id: number, error: string | null): Promise<void> {
  if (error) await sql`update push_subscriptions set last_error = ${error.slice(0, 500)} where id = ${id}`;
  else await sql`update push_subscriptions set last_sent_at = now(), last_error = null where id = ${id}`;
}

/** Everyone who has at least one subscription (loaded when a process starts listening). */
export async function subscribedUsers(sql: Sql): Promise<number[]> {
  const rows = await sql<{ user_id: number }[]>`select distinct user_id from push_subscriptions`;
  return rows.map((r) => Number(r.user_id));
}

export async function hasSubscription(sql: Sql, userId: number): Promise<boolean> {
  const [row] = await sql<{ has: boolean }[]>`select exists (select 1 from push_subscriptions where user_id = ${userId}) as has`;
  return Boolean(row?.has);
}

async function notifyChanged(sql: Sql, userIds: number[]): Promise<void> {
  for (const u of new Set(userIds)) await sql`select pg_notify(${PUSH_CHANNEL}, ${String(u)})`;
}
