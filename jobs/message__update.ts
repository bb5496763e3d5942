import type { Task } from './task';
import { addJobs, job } from '../db/jobs/enqueue';
import { loadMessage, retryDelayMs } from '../db/messages/deliver';
import { log } from '../db/platform/log';

/** Edits a posted message (Slack chat.update, Discord PATCH) so it shows the alert's current state. */
export const message__update: Task<'message__update'> = async (h, p, adapters) => {
  const m = await loadMessage(h, h.sql, p.message_id);
  if (!m || !m.providerRef) return;
  const adapter = adapters[m.channel];
  if (!adapter.enabled || !adapter.update) return;
  const r = await adapter.update(m, { sql: h.sql, config: h.config, key: h.key }).catch((e: Error) => ({ outcome: 'failed_temp' as const, error: e.message }));
  if (r.outcome === 'sent') {
    if (r.providerState !== undefined) await h.sql`update messages set provider_state = ${r.providerState as never}, updated_at = now() where id = ${m.id}`;
    return;
  }
  const attempt = (p.attempt ?? 0) + 1;
  if (r.outcome === 'failed_perm' || attempt >= 6) {
    log.warn('message update failed', { message_id: m.id, channel: m.channel, error: r.error });
    return;
  }
  await addJobs(h.sql, [job('message__update', { message_id: m.id, attempt },
    { run_at: new Date(Date.now() + retryDelayMs(attempt, 'retryAfterMs' in r ? r.retryAfterMs : undefined)) })]);
};
