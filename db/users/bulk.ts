// Users in bulk: the import's batch insert (db/imports/run.ts) and the export (`GET /v1/users/export`).
// Rows are validated with the API's own schema (UserInputSchema) by the caller; this module owns the table.
import { Readable } from 'node:stream';
import { csvRecords } from '../platform/csv';
import type { z } from 'zod';
import type { Herald } from '../herald';
import type { Sql } from '../platform/sql';
import { require, type Actor } from '../actor';
import { invalid } from '../errors';
import { hashPassword } from '../platform/crypto';
import { normalisePhone, userView, type UserInputSchema } from './repo';
import { exported } from '../audit/suspicious';

export type UserInput = z.output<typeof UserInputSchema>;
export interface PreparedUser { name: string; email: string; phone: string | null; roles: string[]; slack_user_id: string | null;
  discord_user_id: string | null; timezone: string; password_hash: string | null }

/**
 * Phones normalised (E.164), roles checked against the organisation's (one query for the batch), passwords
 * hashed: each row becomes a PreparedUser or the reason it cannot.
 */
export async function prepareUsers(sql: Sql, orgId: number, region: string, rows: UserInput[]): Promise<Array<PreparedUser | { error: string }>> {
  const wanted = [...new Set(rows.flatMap((r) => r.roles))];
  const known = new Set(wanted.length ? (await sql<{ key: string }[]>`select key from roles where org_id = ${orgId} and key = any(${wanted}::text[])`).map((r) => r.key) : []);
  return Promise.all(rows.map(async (u) => {
    const unknown = u.roles.filter((r) => !known.has(r));
    if (unknown.length) return { error: `roles: unknown role ${unknown.join(', ')}` };
    let phone: string | null = null;
    try { phone = u.phone ? normalisePhone(u.phone, region) : null; } catch (e) { return { error: (e as Error).message }; }
    return {
      name: u.name, email: u.email, phone, roles: u.roles, slack_user_id: u.slack_user_id ?? null, discord_user_id: u.discord_user_id ?? null,
      timezone: u.timezone, password_hash: u.password ? await hashPassword(u.password) : null,
    };
  }));
}

/**
 * Inserts the users in one statement; a row whose email or phone another (live) user already has is not
 * inserted. Returns, per row, whether it went in (`conflict` names the taken field otherwise).
 */
export async function insertUsers(tx: Sql, orgId: number, users: PreparedUser[]): Promise<Array<true | string>> {
  if (!users.length) return [];
  const taken = await takenContacts(tx, orgId, users);
  const fresh = users.map((u, i) => ({ u, i, why: taken(u) })).filter((x) => !x.why);
  // Two rows of the same batch with one email: the first wins.
  const seen = new Set<string>();
  const dupes = new Map<number, string>();
  for (const x of fresh) {
    for (const k of [`e:${x.u.email.toLowerCase()}`, x.u.phone ? `p:${x.u.phone}` : '']) {
      if (!k) continue;
      if (seen.has(k)) dupes.set(x.i, `${k.startsWith('e:') ? 'email' : 'phone'}: another row of this file has the same one`);
      seen.add(k);
    }
  }
  const go = fresh.filter((x) => !dupes.has(x.i));
  const inserted = new Set<string>();
  if (go.length) {
    const rows = await tx<{ email: string }[]>`
      insert into users (org_id, name, email, phone, roles, slack_user_id, discord_user_id, timezone, password_hash)
      select ${orgId}, name, email, phone, roles, slack_user_id, discord_user_id, timezone, password_hash
      from json_to_recordset(${JSON.stringify(go.map((x) => x.u))}::text::json) as t(name text, email text, phone text, roles text[],
        slack_user_id text, discord_user_id text, timezone text, password_hash text)
      on conflict do nothing
      returning lower(email) as email`;
    for (const r of rows) inserted.add(r.email);
  }
  return users.map((u, i) => {
    const why = taken(u) ?? dupes.get(i);
    if (why) return why;
    return inserted.has(u.email.toLowerCase()) ? true : 'email or phone: another user already has it';
  });
}

/** Which rows' email or phone a live user already has (for the insert, and for a dry run). */
export async function takenContacts(sql: Sql, orgId: number, users: Array<{ email: string; phone: string | null }>): Promise<(u: { email: string; phone: string | null }) => string | null> {
  const emails = users.map((u) => u.email.toLowerCase());
  const phones = users.map((u) => u.phone).filter((p): p is string => !!p);
  const rows = await sql<{ email: string; phone: string | null }[]>`
    select lower(email) as email, phone from users where org_id = ${orgId} and deleted_at is null
      and (lower(email) = any(${emails}::text[]) or phone = any(${phones}::text[]))`;
  const e = new Set(rows.map((r) => r.email));
  const p = new Set(rows.map((r) => r.phone).filter(Boolean));
  return (u) => (e.has(u.email.toLowerCase()) ? 'email: a user with this email already exists' : u.phone && p.has(u.phone) ? 'phone: a user with this phone already exists' : null);
}

export const EXPORT_COLUMNS = ['id', 'name', 'email', 'phone', 'roles', 'slack_user_id', 'discord_user_id', 'timezone', 'sms_opted_out', 'created_at'] as const;

/**
 * `GET /v1/users/export?format=csv|json`: every live user with contact details (so it needs users:write, like
 * seeing them), streamed from a cursor. CSV columns are the API's field names (roles joined by `;`), so the
 * file imports again as it is (the read-only columns are ignored on import).
 */
export async function exportUsers(h: Herald, actor: Actor, format: string): Promise<{ contentType: string; filename: string; body: Readable }> {
  require(actor, 'users:write');
  if (format !== 'csv' && format !== 'json') throw invalid('format: must be csv or json', [{ path: 'format', message: 'must be csv or json' }]);
  // Audited (and a burst of exports is a security event) before the first row is read, like the alerts export.
  await h.sql.begin((tx) => exported(tx, h.config.security, actor, 'user', { format, filename: `users.${format}` }));
  const orgId = actor.orgId;
  async function* rows() {
    const cursor = h.sql`select * from users where org_id = ${orgId} and deleted_at is null order by id`.cursor(500);
    for await (const page of cursor) for (const r of page) yield userView(r);
  }
  if (format === 'json') {
    async function* json() {
      let first = true;
      yield '[';
      for await (const u of rows()) { yield (first ? '' : ',\n') + JSON.stringify(u); first = false; }
      yield ']\n';
    }
    return { contentType: 'application/json; charset=utf-8', filename: 'users.json', body: Readable.from(json()) };
  }
  // One record per line (LF, as this file always was); null is an empty cell.
  const csv = Readable.from((async function* () {
    yield csvRecords([[...EXPORT_COLUMNS]], '\n');
    for await (const u of rows()) {
      const x: Record<string, unknown> = { ...u, roles: u.roles.join(';'), sms_opted_out: String(u.sms_opted_out) };
      yield csvRecords([EXPORT_COLUMNS.map((k) => (x[k] == null ? '' : String(x[k])))], '\n');
    }
  })());
  return { contentType: 'text/csv; charset=utf-8', filename: 'users.csv', body: csv };
}
