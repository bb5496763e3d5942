// People and roles. Phones are validated and stored in E.164 (libphonenumber-js) when a user is saved.
import { z } from 'zod';
import { text } from '../platform/input';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import type { Herald } from '../herald';
import type { Pool, Sql } from '../platform/sql';
import { can, require, systemActor, type Actor } from '../actor';
import { conflict, invalid, notFound, parse } from '../errors';
import { hashPassword, verifyPassword } from '../platform/crypto';
import { revokeUserSessions } from '../sessions/repo';
import { DEFAULT_ORG_ID } from '../model/org';
import { CUSTOM_ROLE_DEFAULT, PERMISSIONS } from '../model/permissions';
import { recordAudit } from '../audit/record';
import { permissionsChanged } from '../audit/suspicious';

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().join() === [...b].sort().join();

const roleKey = text().regex(/^[a-z][a-z0-9_]{0,39}$/, 'a role key is lowercase letters, digits and _');

export const UserInputSchema = z
  .object({
    name: text().trim().min(1).max(200),
    email: text().trim().toLowerCase().pipe(z.email()),
    phone: text().max(40).nullish(),
    roles: z.array(roleKey).max(20).default([]),
    slack_user_id: text().max(40).nullish(),
    discord_user_id: text().regex(/^\d{5,25}$/, 'a Discord user id is a number (snowflake)').nullish(),
    timezone: text().max(64).refine((tz) => { try { new Intl.DateTimeFormat('en', { timeZone: tz }); return true; } catch { return false; } }, 'unknown IANA time zone').default('UTC'),
    password: text().min(8).max(200).optional(),
  })
  .strict();

export interface UserView {
  id: number; name: string; email: string; phone: string | null; roles: string[]; slack_user_id: string | null;
  discord_user_id: string | null; timezone: string; sms_opted_out: boolean; created_at: string;
}

export const userView = (r: Record<string, any>): UserView => ({
  id: Number(r.id), name: r.name, email: r.email, phone: r.phone, roles: r.roles, slack_user_id: r.slack_user_id,
  discord_user_id: r.discord_user_id, timezone: r.timezone, sms_opted_out: r.sms_opted_out, created_at: r.created_at.toISOString(),
});

/** What a reader who is not an admin sees of other people: no contact details (phone, email, chat ids). */
export interface PublicUserView { id: number; name: string; roles: string[] }
export const publicUserView = (r: Record<string, any>): PublicUserView => ({ id: Number(r.id), name: r.name, roles: r.roles });

/** Admins see everyone's contact details; everybody else sees their own and only id, name and roles of others. */
const viewFor = (actor: Actor) => (r: Record<string, any>): UserView | PublicUserView =>
  can(actor, 'users:write') || (actor.kind === 'user' && actor.userId === Number(r.id)) ? userView(r) : publicUserView(r);

export function normalisePhone(raw: string, region: string): string {
  const p = parsePhoneNumberFromString(raw, region as CountryCode);
  if (!p || !p.isValid()) throw invalid(`phone: ${raw} is not a valid phone number`, [{ path: 'phone', message: 'not a valid phone number' }]);
  return p.number;
}

async function checkRoles(sql: Sql, orgId: number, roles: string[]) {
  if (!roles.length) return;
  const known = await sql<{ key: string }[]>`select key from roles where org_id = ${orgId} and key = any(${roles}::text[])`;
  const missing = roles.filter((r) => !known.some((k) => k.key === r));
  if (missing.length) throw invalid(`roles: unknown role ${missing.join(', ')}`, missing.map((m) => ({ path: 'roles', message: `unknown role ${m}` })));
}

export async function createUser(h: Herald, actor: Actor, input: unknown): Promise<UserView> {
  require(actor, 'users:write');
  const u = parse(UserInputSchema, input);
  await checkRoles(h.sql, actor.orgId, u.roles);
  const phone = u.phone ? normalisePhone(u.phone, h.config.HERALD_DEFAULT_REGION) : null;
  const pw = u.password ? await hashPassword(u.password) : null;
  try {
    return await h.sql.begin(async (tx) => {
      const [row] = await tx`
        insert into users (org_id, name, email, phone, roles, slack_user_id, discord_user_id, timezone, password_hash)
        values (${actor.orgId}, ${u.name}, ${u.email}, ${phone}, ${u.roles}, ${u.slack_user_id ?? null}, ${u.discord_user_id ?? null}, ${u.timezone}, ${pw})
        returning *`;
      const view = userView(row);
      await recordAudit(tx, actor, 'user.created', { kind: 'user', id: view.id, label: view.email }, { after: view });
      return view;
    });
  } catch (e) {
    if ((e as { code?: string }).code === '23505') throw conflict(`A user with that ${String((e as { constraint_name?: string }).constraint_name).includes('phone') ? 'phone' : 'email'} already exists`);
    throw e;
  }
}

/**
 * A new password ends every other session of that user (all of them when an admin changes someone else's;
 * all but `opts.sessionId`, the caller's own, when a user changes their own), in the same transaction.
 */
export async function updateUser(h: Herald, actor: Actor, id: number, input: unknown, opts: { sessionId?: number } = {}): Promise<UserView> {
  require(actor, 'users:write');
  const u = parse(UserInputSchema.partial(), input);
  // partial() keeps the schema's defaults (roles [], timezone UTC): a field the PATCH did not send must stay as it is.
  for (const k of ['roles', 'timezone'] as const) if (!input || typeof input !== 'object' || !(k in input)) delete u[k];
  if (u.roles) await checkRoles(h.sql, actor.orgId, u.roles);
  const phone = u.phone === undefined ? undefined : u.phone === null ? null : normalisePhone(u.phone, h.config.HERALD_DEFAULT_REGION);
  const pw = u.password ? await hashPassword(u.password) : null;
  try {
    const row = await h.sql.begin(async (tx) => {
      const [old] = await tx`select * from users where org_id = ${actor.orgId} and id = ${id} and deleted_at is null for update`;
      if (!old) return undefined;
      const [row] = await tx`
        update users set
          name = coalesce(${u.name ?? null}, name), email = coalesce(${u.email ?? null}, email),
          phone = case when ${phone === undefined} then phone else ${phone ?? null} end,
          roles = coalesce(${u.roles ?? null}::text[], roles),
          slack_user_id = case when ${u.slack_user_id === undefined} then slack_user_id else ${u.slack_user_id ?? null} end,
          discord_user_id = case when ${u.discord_user_id === undefined} then discord_user_id else ${u.discord_user_id ?? null} end,
          timezone = coalesce(${u.timezone ?? null}, timezone), password_hash = coalesce(${pw}, password_hash), updated_at = now()
        where org_id = ${actor.orgId} and id = ${id} and deleted_at is null returning *`;
      if (row && pw) await revokeUserSessions(tx, id, actor.kind === 'user' && actor.userId === id ? opts.sessionId : null);
      const before = userView(old), after = userView(row);
      // A new password is a security event: the same one row says so (the password itself is never stored here).
      await recordAudit(tx, actor, pw ? 'user.password_changed' : 'user.updated', { kind: 'user', id, label: after.email },
        { before, after: pw ? { ...after, password_changed: true } : after });
      if (!sameSet(before.roles, after.roles)) await permissionsChanged(tx, actor, { kind: 'user', id, label: after.email }, { roles: before.roles }, { roles: after.roles });
      return row;
    });
    if (!row) throw notFound(`User ${id}`);
    return userView(row);
  } catch (e) {
    if ((e as { code?: string }).code === '23505') throw conflict('Another user already has that email or phone');
    throw e;
  }
}

export async function listUsers(h: Herald, actor: Actor): Promise<Array<UserView | PublicUserView>> {
  require(actor, 'users:read');
  const rows = await h.sql`select * from users where org_id = ${actor.orgId} and deleted_at is null order by id`;
  return rows.map(viewFor(actor));
}

export async function getUser(h: Herald, actor: Actor, id: number): Promise<UserView | PublicUserView> {
  require(actor, 'users:read');
  const [row] = await h.sql`select * from users where org_id = ${actor.orgId} and id = ${id} and deleted_at is null`;
  if (!row) throw notFound(`User ${id}`);
  return viewFor(actor)(row);
}

export async function deleteUser(h: Herald, actor: Actor, id: number): Promise<void> {
  require(actor, 'users:write');
  await h.sql.begin(async (tx) => {
    const [row] = await tx`update users u set deleted_at = now() from users old
      where u.org_id = ${actor.orgId} and u.id = ${id} and u.deleted_at is null and old.id = u.id returning old.*`;
    if (!row) throw notFound(`User ${id}`);
    await recordAudit(tx, actor, 'user.deleted', { kind: 'user', id, label: row.email }, { before: userView(row) });
  });
}

const PermissionList = z.array(z.enum(PERMISSIONS)).max(PERMISSIONS.length).transform((ps) => [...new Set(ps)].sort());
export const RoleInputSchema = z.object({ key: roleKey, name: text().trim().min(1).max(100), permissions: PermissionList.optional() }).strict();
export const RolePatchSchema = z.object({ name: text().trim().min(1).max(100).optional(), permissions: PermissionList.optional() }).strict();

export interface RoleView { key: string; name: string; built_in: boolean; permissions: string[] }

export async function listRoles(h: Herald, actor: Actor) {
  require(actor, 'users:read');
  return h.sql<RoleView[]>`select key, name, built_in, permissions from roles where org_id = ${actor.orgId} order by built_in desc, key`;
}

export async function createRole(h: Herald, actor: Actor, input: unknown) {
  require(actor, 'users:write');
  const r = parse(RoleInputSchema, input);
  const permissions = r.permissions ?? [...CUSTOM_ROLE_DEFAULT];
  return h.sql.begin(async (tx) => {
    const [row] = await tx<RoleView[]>`insert into roles (org_id, key, name, permissions) values (${actor.orgId}, ${r.key}, ${r.name}, ${permissions})
      on conflict do nothing returning key, name, built_in, permissions`;
    if (!row) throw conflict(`Role ${r.key} already exists`);
    await recordAudit(tx, actor, 'role.created', { kind: 'role', id: row.key, label: row.name }, { after: row });
    return row;
  });
}

/**
 * `PATCH /v1/roles/:key {name?, permissions?}`: a role's name and permission set (built-in roles too, they
 * start from sensible defaults). The admin role always holds every permission, so nobody can lock the
 * organisation out of its own settings.
 */
export async function patchRole(h: Herald, actor: Actor, key: string, input: unknown): Promise<RoleView> {
  require(actor, 'users:write');
  const p = parse(RolePatchSchema, input);
  if (key === 'admin' && p.permissions && p.permissions.length !== PERMISSIONS.length) {
    throw conflict('The admin role always has every permission');
  }
  return h.sql.begin(async (tx) => {
    const [old] = await tx<RoleView[]>`select key, name, built_in, permissions from roles where org_id = ${actor.orgId} and key = ${key} for update`;
    if (!old) throw notFound(`Role ${key}`);
    const [row] = await tx<RoleView[]>`
      update roles set name = coalesce(${p.name ?? null}, name), permissions = coalesce(${p.permissions ?? null}::text[], permissions)
      where org_id = ${actor.orgId} and key = ${key}
      returning key, name, built_in, permissions`;
    const changed = !sameSet(old.permissions, row.permissions);
    await recordAudit(tx, actor, changed ? 'role.permissions_changed' : 'role.updated', { kind: 'role', id: key, label: row.name }, { before: { ...old }, after: { ...row } });
    if (changed) await permissionsChanged(tx, actor, { kind: 'role', id: key, label: row.name }, { permissions: old.permissions }, { permissions: row.permissions });
    return row;
  });
}

export async function deleteRole(h: Herald, actor: Actor, key: string) {
  require(actor, 'users:write');
  await h.sql.begin(async (tx) => {
    const [row] = await tx`select key, name, built_in, permissions from roles where org_id = ${actor.orgId} and key = ${key} for update`;
    if (!row) throw notFound(`Role ${key}`);
    if (row.built_in) throw conflict(`Role ${key} is built in and cannot be deleted`);
    await tx`delete from roles where org_id = ${actor.orgId} and key = ${key}`;
    await recordAudit(tx, actor, 'role.deleted', { kind: 'role', id: key, label: row.name }, { before: { ...row } });
  });
}

/** First start: the admin user, from the environment or generated. */
export async function ensureAdmin(sql: Pool, email: string, password: string | null): Promise<{ created: boolean }> {
  const [existing] = await sql`select id, password_hash from users where org_id = ${DEFAULT_ORG_ID} and lower(email) = lower(${email}) and deleted_at is null`;
  if (existing) {
    // Every start with HERALD_ADMIN_PASSWORD lands here: only a different password is a change (and a reset
    // ends the admin's sessions); the same one leaves the hash and the sessions alone.
    if (password && !(await verifyPassword(password, existing.password_hash))) {
      const hash = await hashPassword(password);
      await sql.begin(async (tx) => {
        await tx`update users set password_hash = ${hash}, updated_at = now() where id = ${existing.id}`;
        await revokeUserSessions(tx, Number(existing.id));
        await recordAudit(tx, systemActor(DEFAULT_ORG_ID, 'HERALD_ADMIN_PASSWORD at start'), 'user.password_changed',
          { kind: 'user', id: Number(existing.id), label: email }, { after: { password_changed: true } });
      });
    }
    return { created: false };
  }
  await sql`insert into users (org_id, name, email, roles, password_hash) values (${DEFAULT_ORG_ID}, 'Admin', ${email}, ${['admin']}, ${password ? await hashPassword(password) : null})`;
  return { created: true };
}
