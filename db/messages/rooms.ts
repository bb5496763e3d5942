// What a room message (a rule's Slack or Discord channel) needs to know about its siblings: the people the
// same notify step reached on that channel (to mention them in the room), and whether a room message
// exists at all (then a person is reached by the mention instead of a second, private copy).
import type { Sql } from '../platform/sql';
import type { ChannelKind } from '../model/channels';

/** Chat ids of the people with a message on `channel` at this alert level (e.g. Discord user ids to mention). */
export async function recipientChatIds(sql: Sql, alertId: number, level: number, channel: ChannelKind, field: 'slack_user_id' | 'discord_user_id'): Promise<string[]> {
  const rows = await sql<{ chat_id: string }[]>`
    select u.${sql(field)} as chat_id from messages m join users u on u.id = m.user_id
    where m.alert_id = ${alertId} and m.level = ${level} and m.channel = ${channel} and m.user_id is not null
      and u.${sql(field)} is not null and u.deleted_at is null
    order by m.id`;
  return rows.map((r) => r.chat_id);
}

/** The room recipients ('room:<id>') of the alert on `channel` at this level. */
export async function roomRecipients(sql: Sql, alertId: number, level: number, channel: ChannelKind): Promise<string[]> {
  const rows = await sql<{ recipient: string }[]>`
    select recipient from messages
    where alert_id = ${alertId} and level = ${level} and channel = ${channel} and recipient like 'room:%'
    order by id`;
  return rows.map((r) => r.recipient.slice(5));
}

/** The alert's messages that a provider accepted on these channels (they have a thread to reply in). */
export async function postedMessageIds(sql: Sql, alertId: number, channels: ChannelKind[]): Promise<number[]> {
  if (!channels.length) return [];
  const rows = await sql<{ id: number }[]>`
    select id from messages where alert_id = ${alertId} and channel = any(${channels}::text[]) and provider_ref is not null
    order by id`;
  return rows.map((r) => Number(r.id));
}
