// PWA sessions: a random token in an HttpOnly cookie, only its hash stored; a CSRF token per session
// that cookie-authenticated writes must echo in X-CSRF-Token.
import { z } from 'zod';
import { text } from '../platform/input';
import type { Sql } from '../sql';
import type { Actor } from '../actor';
import { parse, rateLimited, unauthenticated } from '../errors';
import { randomToken, sha256, verifyPassword } from '../platform/crypto';

export const SESSION_COOKIE = 'herald_session';
const SESSION_DAYS = 30;

export const LoginSchema = z.object({ email: text().trim().toLowerCase().max(320), password: text().max(200) }).strict();

/** Sign-in attempts: 10 per 15 minutes per email and per client address. */
const attempts = new Map<string, number[]>();
function limited(key: string): number {
  const now = Date.now();
  const list = (attempts.get(key) ?? []).filter((t) => t > now - 15 * 60_000);
  attempts.set(key, list);
  return list.length >= 10 ? Math.ceil((list[0] + 15 * 60_000 - now) / 1000) : 0;
}

export async function login(sql: Sql, input: unknown, client: string) {
  const { email, password } = parse(LoginSchema, input);
  for (const k of [`e:${email}`, `c:${client}`]) {
    const wait = limited(k);
    if (wait) throw rateLimited('Too many sign-in attempts; try again later', wait);
  }
  const [u] = await sql`select id, org_id, name, email, roles, password_hash from users where lower(email) = ${email} and deleted_at is null order by org_id limit 1`;
  const ok = await verifyPassword(password, u?.password_hash ?? null);
  if (!u || !ok) {
    for (const k of [`e:${email}`, `c:${client}`]) attempts.get(k)!.push(Date.now());
    throw unauthenticated('Email or password is wrong');
  }
  attempts.delete(`e:${email}`);
  const token = randomToken(32);
  const csrf = randomToken(24);
  await sql`insert into sessions (org_id, user_id, token_hash, csrf_token, expires_at)
    values (${u.org_id}, ${u.id}, ${sha256(token)}, ${csrf}, now() + make_interval(days => ${SESSION_DAYS}))`;
  return { token, csrf_token: csrf, user: { id: Number(u.id), name: u.name, email: u.email, roles: u.roles as string[] }, maxAge: SESSION_DAYS * 86400 };
}

export async function sessionActor(sql: Sql, token: string): Promise<{ actor: Actor; sessionId: number; csrf: string; user: { id: number; name: string; email: string; roles: string[] } } | null> {
  const [s] = await sql`
    select s.id, s.csrf_token, u.id as user_id, u.org_id, u.name, u.email, u.roles
    from sessions s join users u on u.id = s.user_id
    where s.token_hash = ${sha256(token)} and s.expires_at > now() and u.deleted_at is null`;
  if (!s) return null;
  return {
    actor: { kind: 'user', orgId: Number(s.org_id), userId: Number(s.user_id), name: s.name, roles: s.roles, via: 'pwa' },
    sessionId: Number(s.id), csrf: s.csrf_token,
    user: { id: Number(s.user_id), name: s.name, email: s.email, roles: s.roles },
  };
}

export async function logout(sql: Sql, sessionId: number) {
  await sql`delete from sessions where id = ${sessionId}`;
}
