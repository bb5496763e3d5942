// Finding people by what a provider tells us (the phone a text came from, the user a signed link names),
// and mirroring a phone's SMS opt-out (Twilio's STOP/START, error 21610) on every user with that phone.
import type { Sql } from '../platform/sql';

export interface ActingUser {
  id: number;
  orgId: number;
  name: string;
  roles: string[];
  permissions: string[];
  email: string;
  phone: string | null;
  smsOptedOut: boolean;
}

const toActing = (r: Record<string, any>): ActingUser => ({
  id: Number(r.id), orgId: Number(r.org_id), name: r.name, roles: r.roles, permissions: r.permissions, email: r.email, phone: r.phone, smsOptedOut: r.sms_opted_out,
});

/** Live users with this E.164 phone, one per org at most (users_phone is unique per org). */
export async function findUsersByPhone(sql: Sql, phone: string): Promise<ActingUser[]> {
  const rows = await sql`
    select id, org_id, name, roles, herald_permissions(org_id, roles) as permissions, email, phone, sms_opted_out from users
    where phone = ${phone} and deleted_at is null order by org_id, id`;
  return rows.map(toActing);
}

/** A live (not deleted) user by id. */
export async function findActiveUser(sql: Sql, id: number): Promise<ActingUser | null> {
  if (!Number.isSafeInteger(id) || id <= 0) return null;
  const [r] = await sql`select id, org_id, name, roles, herald_permissions(org_id, roles) as permissions, email, phone, sms_opted_out from users where id = ${id} and deleted_at is null`;
  return r ? toActing(r) : null;
}

/** Sets users.sms_opted_out for every live user with this phone; returns how many changed. */
export async function setSmsOptOut(sql: Sql, phone: string, optedOut: boolean): Promise<number> {
  const r = await sql`
    update users set sms_opted_out = ${optedOut}, updated_at = now()
    where phone = ${phone} and deleted_at is null and sms_opted_out <> ${optedOut}`;
  return r.count;
}
