// Optional TOTP second factor (RFC 6238 through otplib): enrol (a secret and its otpauth:// URI, shown as a QR
// code), confirm with a first code (which turns it on and returns ten one-time recovery codes, shown once, only
// their SHA-256 stored), sign in with a code or a recovery code, turn it off with a code. The secret is sealed
// with the instance key. A code is accepted once (the time step is remembered) within ±30 s of clock drift.
import { z } from 'zod';
import QRCode from 'qrcode';
import { generateSecret, generateURI, verify } from 'otplib';
import type { Herald } from '../herald';
import type { Sql } from '../platform/sql';
import type { Actor } from '../actor';
import { conflict, forbidden, invalid, parse } from '../errors';
import { decrypt, encrypt, randomToken, sha256 } from '../platform/crypto';
import { text } from '../platform/input';
import { recordAudit } from '../audit/record';

export const CodeSchema = z.object({ code: text().trim().min(6).max(40) }).strict();
const RECOVERY_CODES = 10;

function userOf(actor: Actor): number {
  if (actor.kind !== 'user') throw forbidden('Only a signed-in person has a second factor');
  return actor.userId;
}

/** Is the user an admin for HERALD_REQUIRE_2FA (holds the built-in `admin` role)? */
export const isAdminRoles = (roles: string[]) => roles.includes('admin');

export async function totpStatus(h: Herald, actor: Actor) {
  const userId = userOf(actor);
  const [row] = await h.sql`
    select t.enabled_at, (select count(*)::int from user_recovery_codes r where r.user_id = ${userId} and r.used_at is null) as left
    from user_totp t where t.user_id = ${userId}`;
  const admin = actor.kind === 'user' && isAdminRoles(actor.roles);
  return {
    enabled: !!row?.enabled_at, enabled_at: row?.enabled_at?.toISOString() ?? null,
    recovery_codes_left: row?.enabled_at ? row.left : 0,
    required: h.config.require2fa && admin,
  };
}

/** Starts (or restarts) enrolment: a new secret, not yet in force. Refused while TOTP is on (turn it off first). */
export async function enrolTotp(h: Herald, actor: Actor) {
  const userId = userOf(actor);
  const [u] = await h.sql`select email from users where id = ${userId}`;
  const secret = generateSecret();
  await h.sql.begin(async (tx) => {
    const [row] = await tx`
      insert into user_totp (user_id, secret) values (${userId}, ${encrypt(h.key, secret)})
      on conflict (user_id) do update set secret = excluded.secret, last_step = 0, created_at = now() where user_totp.enabled_at is null
      returning user_id`;
    if (!row) throw conflict('Two-factor sign-in is already on; turn it off before enrolling again');
    // Not in force until confirmed; the secret never reaches the trail.
    await recordAudit(tx, actor, 'auth.totp_enrolment_started', { kind: 'user', id: userId, label: u.email }, { after: { enabled: false } });
  });
  const issuer = 'Herald';
  const otpauth_uri = generateURI({ issuer, label: u.email, secret });
  const qr_svg = await QRCode.toString(otpauth_uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return { secret, otpauth_uri, qr_svg };
}

/** Checks a TOTP code against the user's secret and remembers its time step (so it works once). */
async function checkCode(h: Herald, sql: Sql, userId: number, code: string, enabled: boolean): Promise<boolean> {
  const [t] = await sql`select secret, last_step, enabled_at from user_totp where user_id = ${userId} for update`;
  if (!t || (enabled ? !t.enabled_at : !!t.enabled_at)) return false;
  if (!/^\d{6}$/.test(code)) return false;
  const r = await verify({ secret: decrypt(h.key, t.secret), token: code, epochTolerance: 30, afterTimeStep: Number(t.last_step) || undefined });
  if (!r.valid) return false;
  const step = 'timeStep' in r ? Number(r.timeStep) : 0;
  await sql`update user_totp set last_step = ${step} where user_id = ${userId}`;
  return true;
}

/** A one-time recovery code: used up when it matches. */
async function useRecoveryCode(sql: Sql, userId: number, code: string): Promise<boolean> {
  const normal = code.replace(/[\s-]/g, '').toLowerCase();
  const [r] = await sql`update user_recovery_codes set used_at = now()
    where id = (select id from user_recovery_codes where user_id = ${userId} and used_at is null and code_hash = ${sha256(normal)} limit 1)
    returning id`;
  return !!r;
}

/** Confirms enrolment with a first code: TOTP is on; returns the recovery codes (shown this once). */
export async function confirmTotp(h: Herald, actor: Actor, input: unknown) {
  const userId = userOf(actor);
  const { code } = parse(CodeSchema, input);
  return h.sql.begin(async (tx) => {
    if (!(await checkCode(h, tx, userId, code, false))) throw invalid('The code is wrong or expired; enter the current code from your authenticator app', [{ path: 'code', message: 'wrong or expired code' }]);
    await tx`update user_totp set enabled_at = now() where user_id = ${userId}`;
    await tx`delete from user_recovery_codes where user_id = ${userId}`;
    const codes = Array.from({ length: RECOVERY_CODES }, () => {
      const raw = randomToken(8).replace(/[^a-zA-Z0-9]/g, '').toLowerCase().padEnd(10, '0').slice(0, 10);
      return `${raw.slice(0, 5)}-${raw.slice(5)}`;
    });
    const hashes = codes.map((c) => sha256(c.replace('-', '')).toString('hex'));
    await tx`insert into user_recovery_codes (user_id, code_hash) select ${userId}, decode(h, 'hex') from unnest(${hashes}::text[]) as h`;
    // An admin who had to enrol (HERALD_REQUIRE_2FA) is now fully signed in.
    await tx`update sessions set second_factor = null where user_id = ${userId} and second_factor = 'enrol'`;
    // The recovery codes are shown once and never stored but as hashes: the row says how many, not which.
    await recordAudit(tx, actor, 'auth.totp_enabled', { kind: 'user', id: userId, label: actor.kind === 'user' ? actor.name : null },
      { before: { enabled: false }, after: { enabled: true, recovery_codes: codes.length } });
    return { enabled: true, recovery_codes: codes };
  });
}

/** Turns TOTP off, with a current code or a recovery code. Refused for an admin while HERALD_REQUIRE_2FA=1. */
export async function disableTotp(h: Herald, actor: Actor, input: unknown) {
  const userId = userOf(actor);
  const { code } = parse(CodeSchema, input);
  if (h.config.require2fa && actor.kind === 'user' && isAdminRoles(actor.roles))
    throw forbidden('Two-factor sign-in is required for admins here (HERALD_REQUIRE_2FA=1)');
  return h.sql.begin(async (tx) => {
    if (!(await checkCode(h, tx, userId, code, true)) && !(await useRecoveryCode(tx, userId, code)))
      throw invalid('The code is wrong or expired', [{ path: 'code', message: 'wrong or expired code' }]);
    await tx`delete from user_totp where user_id = ${userId}`;
    await tx`delete from user_recovery_codes where user_id = ${userId}`;
    await recordAudit(tx, actor, 'auth.totp_disabled', { kind: 'user', id: userId, label: actor.kind === 'user' ? actor.name : null },
      { before: { enabled: true }, after: { enabled: false } });
    return { enabled: false };
  });
}

/** Does the user have TOTP on? (sign-in asks for a code when so). */
export async function hasTotp(sql: Sql, userId: number): Promise<boolean> {
  const [r] = await sql`select 1 from user_totp where user_id = ${userId} and enabled_at is not null`;
  return !!r;
}

/** Sign-in's second step: a TOTP code or a recovery code. */
export async function checkSecondFactor(h: Herald, sql: Sql, userId: number, code: string): Promise<boolean> {
  return (await checkCode(h, sql, userId, code, true)) || (await useRecoveryCode(sql, userId, code));
}
