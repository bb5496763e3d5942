// PWA sessions: a random token in an HttpOnly cookie, only its hash stored; a CSRF token per session
// that cookie-authenticated writes must echo in X-CSRF-Token.
import { z } from 'zod';
import { text } from '../platform/input';
import type { Pool, Sql } from '../platform/sql';
import type { Actor } from '../actor';
import { HeraldError, parse, rateLimited, unauthenticated } from '../errors';
import { hashPassword, randomToken, sha256, verifyPassword } from '../platform/crypto';
import type { SecurityLimits } from '../platform/config';
import { DEFAULT_ORG_ID } from '../model/org';
import { recordAudit } from '../audit/record';
import { signedIn, signInFailed } from '../audit/suspicious';

export const SESSION_COOKIE = 'herald_session';
const SESSION_DAYS = 30;

export const LoginSchema = z.object({ email: text().trim().toLowerCase().max(320), password: text().max(200) }).strict();

/**
 * Sign-in limits (README, "Sign-in limits"), counted in Postgres so they hold across processes and under concurrency:
 * - per account (the email as typed, known or not, so a lock tells nothing about whether it exists): 10 failed
 *   attempts in 10 minutes lock it for everyone until enough of them are older than 10 minutes;
 * - per client address: 100 failed attempts in 10 minutes refuse further attempts from it, except for an account
 *   that has signed in successfully from that address in the last 30 days (so one person's or an attacker's
 *   failures behind a shared NAT or proxy never lock out the others, the admin included).
 * An attempt is reserved (a `pending` row) under per-account and per-address advisory locks before its password
 * is checked, so concurrent attempts beyond a limit are refused with 429 without hashing.
 */
export const LOGIN_LIMITS = { windowMinutes: 10, perAccount: 10, perAddress: 100, knownAddressDays: 30 } as const;
const LOCK_ACCOUNT = 0x68_6c_61; // advisory lock namespaces: account and address never collide
const LOCK_ADDRESS = 0x68_6c_62;

async function reserveAttempt(sql: Pool, email: string, address: string): Promise<number> {
  const { windowMinutes: w, perAccount, perAddress, knownAddressDays } = LOGIN_LIMITS;
  return sql.begin(async (tx) => {
    // Always account first, then address: no two sign-ins wait on each other in a cycle.
    await tx`select pg_advisory_xact_lock(${LOCK_ACCOUNT}, hashtext(${email}))`;
    await tx`select pg_advisory_xact_lock(${LOCK_ADDRESS}, hashtext(${address}))`;
    // The wait is until the limit-th newest counted attempt leaves the window.
    const [acc] = await tx<{ n: number; wait: number | null }[]>`
      select (select count(*)::int from login_attempts where email = ${email} and at > now() - make_interval(mins => ${w})) as n,
             (select extract(epoch from at + make_interval(mins => ${w}) - clock_timestamp())::float8 from login_attempts
               where email = ${email} and at > now() - make_interval(mins => ${w}) order by at desc offset ${perAccount - 1} limit 1) as wait`;
    if (acc.n >= perAccount) throw rateLimited('Too many failed sign-ins for this account; try again later', acc.wait ?? w * 60);
    const [adr] = await tx<{ n: number; wait: number | null; known: boolean }[]>`
      select (select count(*)::int from login_attempts where address = ${address} and at > now() - make_interval(mins => ${w})) as n,
             (select extract(epoch from at + make_interval(mins => ${w}) - clock_timestamp())::float8 from login_attempts
               where address = ${address} and at > now() - make_interval(mins => ${w}) order by at desc offset ${perAddress - 1} limit 1) as wait,
             exists (select 1 from login_known_addresses where email = ${email} and address = ${address}
               and last_at > now() - make_interval(days => ${knownAddressDays})) as known`;
    if (adr.n >= perAddress && !adr.known) throw rateLimited('Too many failed sign-ins from your address; try again later', adr.wait ?? w * 60);
    const [row] = await tx<{ id: number }[]>`insert into login_attempts (email, address) values (${email}, ${address}) returning id`;
    return row.id;
  });
}

/**
 * A hash of a random password with the same scrypt cost as real ones: an unknown email (or a user without a
 * password) is checked against it, so it answers as slowly as a known one and the answer is the same.
 */
const DUMMY_HASH = hashPassword(randomToken(16));

/**
 * Every outcome that checked a password is audited (`auth.signed_in`, `auth.sign_in_failed`) in the transaction
 * that records it; bursts of failures and sign-ins from a new address post `security/*` events (db/audit/suspicious.ts).
 */
export async function login(sql: Pool, input: unknown, client: string, security?: SecurityLimits) {
  const { email, password } = parse(LoginSchema, input);
  const attempt = await reserveAttempt(sql, email, client).catch(async (e) => {
    // Refused by the limits before any password was checked: still a failed sign-in on the trail (and it counts
    // toward the burst that tells the admins).
    if (e instanceof HeraldError && e.status === 429) {
      await sql.begin((tx) => signInFailed(tx, security, { orgId: DEFAULT_ORG_ID, email, address: client, reason: 'too many attempts' }));
    }
    throw e;
  });
  let u: Record<string, any> | undefined;
  let ok = false;
  try {
    [u] = await sql`select id, org_id, name, email, roles, password_hash from users where lower(email) = ${email} and deleted_at is null order by org_id limit 1`;
    const stored = u?.password_hash as string | null | undefined;
    ok = (await verifyPassword(password, stored ?? (await DUMMY_HASH))) && !!stored;
  } finally {
    if (!ok) {
      await sql.begin(async (tx) => {
        await tx`update login_attempts set outcome = 'failed', at = now() where id = ${attempt}`;
        await tx`delete from login_attempts where at < now() - interval '1 day'`;
        await signInFailed(tx, security, {
          orgId: u ? Number(u.org_id) : DEFAULT_ORG_ID, email, address: client,
          reason: !u ? 'unknown account' : u.password_hash ? 'wrong password' : 'no password set',
        });
      });
    }
  }
  if (!u || !ok) throw unauthenticated('Email or password is wrong');
  await sql`delete from login_attempts where id = ${attempt} or (email = ${email} and outcome = 'failed')`;
  await sql`insert into login_known_addresses (email, address) values (${email}, ${client})
    on conflict (email, address) do update set last_at = now()`;
  await sql`delete from login_known_addresses where email = ${email} and last_at < now() - make_interval(days => ${LOGIN_LIMITS.knownAddressDays})`;
  const token = randomToken(32);
  const csrf = randomToken(24);
  const permissions = await sql.begin(async (tx) => {
    const [p] = await tx<{ permissions: string[] }[]>`select herald_permissions(${u.org_id}, ${u.roles}::text[]) as permissions`;
    await tx`insert into sessions (org_id, user_id, token_hash, csrf_token, expires_at)
      values (${u.org_id}, ${u.id}, ${sha256(token)}, ${csrf}, now() + make_interval(days => ${SESSION_DAYS}))`;
    await signedIn(tx, { kind: 'user', orgId: Number(u.org_id), userId: Number(u.id), name: u.name, roles: u.roles, permissions: p.permissions, via: 'pwa', address: client }, u.email);
    return p.permissions;
  });
  return { token, csrf_token: csrf, user: { id: Number(u.id), name: u.name, email: u.email, roles: u.roles as string[], permissions }, maxAge: SESSION_DAYS * 86400 };
}

/**
 * Ends every session of a user, except `keep` (the session of a user who changed their own password). Called
 * in the same transaction as the password change.
 */
export async function revokeUserSessions(sql: Sql, userId: number, keep?: number | null): Promise<number> {
  const r = await sql`delete from sessions where user_id = ${userId} and id <> ${keep ?? 0}`;
  return r.count;
}

export async function sessionActor(sql: Sql, token: string): Promise<{ actor: Actor; sessionId: number; csrf: string; user: { id: number; name: string; email: string; roles: string[] } } | null> {
  const [s] = await sql`
    select s.id, s.csrf_token, u.id as user_id, u.org_id, u.name, u.email, u.roles, herald_permissions(u.org_id, u.roles) as permissions
    from sessions s join users u on u.id = s.user_id
    where s.token_hash = ${sha256(token)} and s.expires_at > now() and u.deleted_at is null`;
  if (!s) return null;
  return {
    actor: { kind: 'user', orgId: Number(s.org_id), userId: Number(s.user_id), name: s.name, roles: s.roles, permissions: s.permissions, via: 'pwa' },
    sessionId: Number(s.id), csrf: s.csrf_token,
    user: { id: Number(s.user_id), name: s.name, email: s.email, roles: s.roles },
  };
}

export async function logout(sql: Pool, sessionId: number, actor?: Actor) {
  await sql.begin(async (tx) => {
    const r = await tx`delete from sessions where id = ${sessionId}`;
    if (r.count && actor) await recordAudit(tx, actor, 'auth.signed_out', { kind: 'session', id: sessionId, label: actor.kind === 'user' ? actor.name : null });
  });
}
