// PWA sessions: a random token in an HttpOnly cookie, only its hash stored; a CSRF token per session
// that cookie-authenticated writes must echo in X-CSRF-Token. A session ends after HERALD_SESSION_IDLE_MINUTES
// without a request (last_seen_at, refreshed at most once a minute) or HERALD_SESSION_MAX_DAYS after sign-in,
// whichever comes first. With TOTP on, a password sign-in opens a session that owes its second factor
// (`second_factor = 'pending'`, five minutes, five tries) and is good for nothing but POST /v1/auth/totp.
import { z } from 'zod';
import { text } from '../platform/input';
import type { Pool, Sql } from '../platform/sql';
import type { Actor } from '../actor';
import type { Herald } from '../herald';
import { HeraldError, notFound, parse, rateLimited, unauthenticated } from '../errors';
import { checkSecondFactor, CodeSchema, hasTotp, isAdminRoles } from './totp';
import { hashPassword, randomToken, sha256, verifyPassword } from '../platform/crypto';
import type { SecurityLimits } from '../platform/config';
import { DEFAULT_ORG_ID } from '../model/org';
import { recordAudit } from '../audit/record';
import { signedIn, signInFailed } from '../audit/suspicious';

export const SESSION_COOKIE = 'herald_session';
/** The session lifetimes in force (HERALD_SESSION_IDLE_MINUTES, HERALD_SESSION_MAX_DAYS). */
export interface SessionTimeouts { idleMinutes: number; maxDays: number }
export const DEFAULT_TIMEOUTS: SessionTimeouts = { idleMinutes: 720, maxDays: 30 };
export const timeoutsOf = (c: { HERALD_SESSION_IDLE_MINUTES: number; HERALD_SESSION_MAX_DAYS: number }): SessionTimeouts =>
  ({ idleMinutes: c.HERALD_SESSION_IDLE_MINUTES, maxDays: c.HERALD_SESSION_MAX_DAYS });
const SECOND_FACTOR_MINUTES = 5;
const SECOND_FACTOR_TRIES = 5;

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

export interface LoginOptions { userAgent?: string | null; timeouts?: SessionTimeouts; require2fa?: boolean; security?: SecurityLimits }

/**
 * Every outcome that checked a password is audited (`auth.signed_in`, `auth.sign_in_failed`) in the transaction
 * that records it; bursts of failures and sign-ins from a new address post `security/*` events (db/audit/suspicious.ts).
 */
export async function login(sql: Pool, input: unknown, client: string, o: LoginOptions = {}) {
  const t = o.timeouts ?? DEFAULT_TIMEOUTS;
  const security = o.security;
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
  const second = (await hasTotp(sql, Number(u.id))) ? 'pending' : o.require2fa && isAdminRoles(u.roles) ? 'enrol' : null;
  const seconds = second === 'pending' ? SECOND_FACTOR_MINUTES * 60 : Math.round(t.maxDays * 86400);
  const agent = o.userAgent ? o.userAgent.replace(/[\u0000-\u001f\u007f]/g, '').toWellFormed().slice(0, 400) : null;
  const permissions = await sql.begin(async (tx) => {
    const [p] = await tx<{ permissions: string[] }[]>`select herald_permissions(${u.org_id}, ${u.roles}::text[]) as permissions`;
    await tx`insert into sessions (org_id, user_id, token_hash, csrf_token, expires_at, user_agent, address, second_factor)
      values (${u.org_id}, ${u.id}, ${sha256(token)}, ${csrf}, now() + make_interval(secs => ${seconds}), ${agent}, ${client}, ${second})`;
    await signedIn(tx, { kind: 'user', orgId: Number(u.org_id), userId: Number(u.id), name: u.name, roles: u.roles, permissions: p.permissions, via: 'pwa', address: client }, u.email);
    return p.permissions;
  });
  return {
    token, csrf_token: csrf, user: { id: Number(u.id), name: u.name, email: u.email, roles: u.roles as string[], permissions },
    maxAge: Math.round(t.maxDays * 86400),
    /** `totp`: send a code to POST /v1/auth/totp; `enrol`: this admin must turn on TOTP before anything else. */
    second_factor: second === 'pending' ? 'totp' as const : second,
  };
}

/**
 * Sign-in's second step on a `pending` session: a TOTP or recovery code completes it (the session then lives
 * its normal lifetime); five wrong codes end it.
 */
export async function completeSecondFactor(h: Herald, token: string, input: unknown, t: SessionTimeouts = DEFAULT_TIMEOUTS, client?: string) {
  const { code } = parse(CodeSchema, input);
  return h.sql.begin(async (tx) => {
    const [s] = await tx`select s.id, s.user_id, s.second_factor_failures, u.org_id, u.name, u.email, u.roles from sessions s join users u on u.id = s.user_id
      where s.token_hash = ${sha256(token)} and s.second_factor = 'pending' and s.expires_at > now() for update of s`;
    if (!s) throw unauthenticated('No sign-in is waiting for a code; sign in with your password again');
    if (!(await checkSecondFactor(h, tx, Number(s.user_id), code))) {
      // A wrong code is a failed sign-in on the trail (never the code itself), so it counts toward the burst
      // that tells the admins, like a wrong password.
      const last = s.second_factor_failures + 1 >= SECOND_FACTOR_TRIES;
      await signInFailed(tx, h.config.security, {
        orgId: Number(s.org_id), email: s.email, address: client ?? 'unknown',
        reason: last ? 'too many wrong second-factor codes' : 'wrong second-factor code',
      });
      if (last) {
        await tx`delete from sessions where id = ${s.id}`;
        return { ok: false as const, detail: 'Too many wrong codes; sign in with your password again' };
      }
      await tx`update sessions set second_factor_failures = second_factor_failures + 1 where id = ${s.id}`;
      return { ok: false as const, detail: 'The code is wrong or expired' };
    }
    await tx`update sessions set second_factor = null, last_seen_at = now(),
      expires_at = now() + make_interval(secs => ${Math.round(t.maxDays * 86400)}) where id = ${s.id}`;
    const [p] = await tx<{ permissions: string[] }[]>`select herald_permissions(${s.org_id}, ${s.roles}::text[]) as permissions`;
    await recordAudit(tx, { kind: 'user', orgId: Number(s.org_id), userId: Number(s.user_id), name: s.name, roles: s.roles, permissions: p.permissions, via: 'pwa', address: client },
      'auth.second_factor_completed', { kind: 'user', id: Number(s.user_id), label: s.email }, { after: { session_id: Number(s.id) } });
    return { ok: true as const };
  }).then((r) => {
    if (!r.ok) throw unauthenticated(r.detail);
    return r;
  });
}

/**
 * Ends every session of a user, except `keep` (the session of a user who changed their own password). Called
 * in the same transaction as the password change.
 */
export async function revokeUserSessions(sql: Sql, userId: number, keep?: number | null): Promise<number> {
  const r = await sql`delete from sessions where user_id = ${userId} and id <> ${keep ?? 0}`;
  return r.count;
}

/**
 * The session behind a cookie, when it is within its idle and absolute timeouts; refreshes `last_seen_at` at
 * most once a minute (in the same statement). A session owing its second factor is null unless
 * `allowIncomplete` (the routes that complete it); `secondFactor` says what it owes.
 */
export async function sessionActor(sql: Sql, token: string, t: SessionTimeouts = DEFAULT_TIMEOUTS, o: { allowIncomplete?: boolean } = {}): Promise<{ actor: Actor; sessionId: number; csrf: string; secondFactor: 'pending' | 'enrol' | null; user: { id: number; name: string; email: string; roles: string[] } } | null> {
  const [s] = await sql`
    with s as (
      select s.id, s.csrf_token, s.second_factor, s.last_seen_at, u.id as user_id, u.org_id, u.name, u.email, u.roles, herald_permissions(u.org_id, u.roles) as permissions
      from sessions s join users u on u.id = s.user_id
      where s.token_hash = ${sha256(token)} and s.expires_at > now() and u.deleted_at is null
        and s.created_at > now() - make_interval(secs => ${Math.round(t.maxDays * 86400)})
        and s.last_seen_at > now() - make_interval(mins => ${t.idleMinutes})
    ), touched as (
      update sessions set last_seen_at = now() where id = (select id from s) and last_seen_at < now() - interval '1 minute'
    )
    select * from s`;
  if (!s) return null;
  if (s.second_factor && !o.allowIncomplete) return null;
  return {
    actor: { kind: 'user', orgId: Number(s.org_id), userId: Number(s.user_id), name: s.name, roles: s.roles, permissions: s.permissions, via: 'pwa' },
    sessionId: Number(s.id), csrf: s.csrf_token, secondFactor: s.second_factor,
    user: { id: Number(s.user_id), name: s.name, email: s.email, roles: s.roles },
  };
}

/** The signed-in person's own sessions (complete ones), newest use first; `current` marks the caller's. */
export async function listMySessions(h: Herald, actor: Actor, currentId: number | null, t: SessionTimeouts = DEFAULT_TIMEOUTS) {
  if (actor.kind !== 'user') return [];
  const rows = await h.sql`
    select id, created_at, last_seen_at, user_agent, address,
      least(expires_at, created_at + make_interval(secs => ${Math.round(t.maxDays * 86400)}), last_seen_at + make_interval(mins => ${t.idleMinutes})) as ends_at
    from sessions where user_id = ${actor.userId} and second_factor is null and expires_at > now()
      and created_at > now() - make_interval(secs => ${Math.round(t.maxDays * 86400)})
      and last_seen_at > now() - make_interval(mins => ${t.idleMinutes})
    order by last_seen_at desc, id desc`;
  return rows.map((r) => ({
    id: Number(r.id), created_at: r.created_at.toISOString(), last_seen_at: r.last_seen_at.toISOString(), expires_at: r.ends_at.toISOString(),
    user_agent: r.user_agent ?? null, address: r.address ?? null, current: Number(r.id) === currentId,
  }));
}

/** Ends one of the caller's own sessions (another person's is 404, as if it did not exist). */
export async function revokeMySession(h: Herald, actor: Actor, id: number) {
  if (actor.kind !== 'user') throw notFound(`Session ${id}`);
  await h.sql.begin(async (tx) => {
    const [r] = await tx`delete from sessions where id = ${id} and user_id = ${actor.userId} returning created_at, last_seen_at, user_agent, address`;
    if (!r) throw notFound(`Session ${id}`);
    await recordAudit(tx, actor, 'auth.session_revoked', { kind: 'session', id, label: actor.name }, {
      before: { id, created_at: r.created_at, last_seen_at: r.last_seen_at, user_agent: r.user_agent ?? null, address: r.address ?? null },
    });
  });
}

/** Ends every session of the caller but the current one; returns how many. */
export async function revokeMyOtherSessions(h: Herald, actor: Actor, currentId: number | null) {
  if (actor.kind !== 'user') return 0;
  return h.sql.begin(async (tx) => {
    const n = await revokeUserSessions(tx, actor.userId, currentId);
    // One row for the lot (none when there was nothing to end).
    if (n) await recordAudit(tx, actor, 'auth.session_revoked', { kind: 'session', label: `${actor.name}: all other sessions` }, { after: { revoked: n, kept: currentId } });
    return n;
  });
}

export async function logout(sql: Pool, sessionId: number, actor?: Actor) {
  await sql.begin(async (tx) => {
    const r = await tx`delete from sessions where id = ${sessionId}`;
    if (r.count && actor) await recordAudit(tx, actor, 'auth.signed_out', { kind: 'session', id: sessionId, label: actor.kind === 'user' ? actor.name : null });
  });
}
