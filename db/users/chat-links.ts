// Which Herald user is behind a Slack or Discord account. A chat id belongs to at most one live user of an
// org: linking moves it (the previous holder loses it), so a click can never be attributed to two people.
import type { Pool, Sql } from '../platform/sql';

export type ChatIdField = 'slack_user_id' | 'discord_user_id';

export interface ChatUser {
  id: number;
  org_id: number;
  name: string;
  email: string;
  roles: string[];
  permissions: string[];
  slack_user_id: string | null;
  discord_user_id: string | null;
}

const columns = (sql: Sql) => sql`id, org_id, name, email, roles, herald_permissions(org_id, roles) as permissions, slack_user_id, discord_user_id`;

export async function findUserByChatId(sql: Sql, orgId: number, field: ChatIdField, chatId: string): Promise<ChatUser | null> {
  const [u] = await sql<ChatUser[]>`
    select ${columns(sql)} from users
    where org_id = ${orgId} and ${sql(field)} = ${chatId} and deleted_at is null
    order by id limit 1`;
  return u ?? null;
}

/** A live user with this email who has no Slack id yet (a Slack profile email may match a Herald user). */
export async function findUnlinkedUserByEmail(sql: Sql, orgId: number, field: ChatIdField, email: string): Promise<ChatUser | null> {
  const [u] = await sql<ChatUser[]>`
    select ${columns(sql)} from users
    where org_id = ${orgId} and lower(email) = lower(${email}) and ${sql(field)} is null and deleted_at is null
    order by id limit 1`;
  return u ?? null;
}

/** Ties the chat id to the user, taking it from whoever had it before; returns the updated user. */
export async function linkChatId(sql: Pool, orgId: number, userId: number, field: ChatIdField, chatId: string): Promise<ChatUser | null> {
  return sql.begin(async (tx) => {
    await tx`update users set ${tx(field)} = null, updated_at = now()
      where org_id = ${orgId} and ${tx(field)} = ${chatId} and id <> ${userId}`;
    const [u] = await tx<ChatUser[]>`
      update users set ${tx(field)} = ${chatId}, updated_at = now()
      where org_id = ${orgId} and id = ${userId} and deleted_at is null
      returning ${columns(tx)}`;
    return u ?? null;
  });
}

/** Remembers a Slack id found by email for a user who had none (a concurrent link wins). */
export async function rememberChatId(sql: Sql, userId: number, field: ChatIdField, chatId: string): Promise<void> {
  await sql`update users set ${sql(field)} = ${chatId}, updated_at = now() where id = ${userId} and ${sql(field)} is null`;
}
