// What a provider accepted, written down the moment it accepted it (before the send job records its
// outcome): a retry of a message that already has a provider_ref must not send it again.
import type { Sql } from '../platform/sql';

export async function saveProviderRef(sql: Sql, messageId: number, providerRef: string, providerState: unknown): Promise<void> {
  await sql`
    update messages set provider_ref = ${providerRef}, provider_state = ${(providerState ?? null) as never}, updated_at = now()
    where id = ${messageId}`;
}

/** The same reference on several messages (one SMS bundle text covers every message it bundles). */
export async function saveProviderRefs(sql: Sql, messageIds: number[], providerRef: string, providerState: unknown): Promise<void> {
  if (!messageIds.length) return;
  await sql`
    update messages set provider_ref = ${providerRef}, provider_state = ${(providerState ?? null) as never}, updated_at = now()
    where id = any(${messageIds}::bigint[]) and provider_ref is null`;
}
