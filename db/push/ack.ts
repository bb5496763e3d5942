// One-tap acknowledgement from a push notification: the payload carries a signed URL that the service
// worker can POST without a session (the phone may have been signed out, or the cookie expired while
// the notification waited on the lock screen). The token is bound to the person and the alert, signed
// with the instance key under its own purpose (it cannot be replayed as another kind of token), and
// expires after 24 hours. It can only acknowledge; a second use answers 409 like any late acknowledgement.
import type { Herald } from '../herald';
import type { Actor } from '../actor';
import { signToken, verifyToken } from '../platform/crypto';
import { HeraldError, notFound } from '../errors';
import { acknowledge } from '../alerts/act';
import type { AlertView } from '../model/alert';

const PURPOSE = 'push-ack';
export const PUSH_ACK_TTL_SECONDS = 24 * 3600;

interface AckClaims {
  o: number;
  u: number;
  a: number;
  /** expiry, unix seconds */
  e: number;
}

export function pushAckToken(key: Buffer, orgId: number, userId: number, alertId: number, now = Date.now()): string {
  const claims: AckClaims = { o: orgId, u: userId, a: alertId, e: Math.floor(now / 1000) + PUSH_ACK_TTL_SECONDS };
  return signToken(key, PURPOSE, claims);
}

export function pushAckUrl(h: Pick<Herald, 'key' | 'config'>, orgId: number, userId: number, alertId: number): string {
  return `${h.config.publicUrl}/v1/push/ack/${pushAckToken(h.key, orgId, userId, alertId)}`;
}

const gone = (detail: string) => new HeraldError(410, 'Link expired', detail);

/** Acknowledges the token's alert as the token's person (via push). */
export async function acknowledgeByToken(h: Herald, token: string): Promise<AlertView> {
  const c = token.length <= 1000 ? verifyToken<AckClaims>(h.key, PURPOSE, token) : null;
  if (!c || ![c.o, c.u, c.a, c.e].every((n) => Number.isSafeInteger(n) && n > 0)) throw notFound('This acknowledgement link');
  if (c.e * 1000 < Date.now()) throw gone('This acknowledgement link has expired; open Herald to acknowledge the alert');
  const [u] = await h.sql<{ id: number; name: string; roles: string[]; permissions: string[] }[]>`
    select id, name, roles, herald_permissions(org_id, roles) as permissions from users where id = ${c.u} and org_id = ${c.o} and deleted_at is null`;
  if (!u) throw gone('The person this link was sent to no longer exists');
  const actor: Actor = { kind: 'user', orgId: c.o, userId: Number(u.id), name: u.name, roles: u.roles, permissions: u.permissions, via: 'push' };
  return acknowledge(h, actor, c.a);
}
