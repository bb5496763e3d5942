// Inbound chat interactions already taken (Slack trigger ids, Discord interaction ids). A provider may
// deliver the same request twice (Slack retries with X-Slack-Retry-Num, Socket Mode redelivers an envelope
// that was not acknowledged in time, a request can be replayed): the first delivery claims the key by
// insert, every later one finds it taken and changes nothing. Without this a retried click would run the
// verb again — harmless for acknowledge (409), but a second snooze would move the timer.
import type { Sql } from '../platform/sql';

export type ChatProvider = 'slack' | 'discord';

let claims = 0;

/** True when this call is the first to see `key`; false for a repeat. */
export async function claimInteraction(sql: Sql, orgId: number, provider: ChatProvider, key: string): Promise<boolean> {
  const rows = await sql`
    insert into chat_interactions (org_id, provider, key) values (${orgId}, ${provider}, ${key.slice(0, 300)})
    on conflict do nothing returning 1`;
  // Pruning rides along with claims (one in 500): no provider retries after a day.
  if (++claims % 500 === 0) await sql`delete from chat_interactions where received_at < now() - interval '1 day'`.catch(() => {});
  return rows.length === 1;
}
