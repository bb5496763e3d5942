import { z } from 'zod';
import type { Task } from './task';
import { addJobs } from '../db/jobs/enqueue';
import { loadMessage, retryDelayMs } from '../db/messages/deliver';
import { log } from '../db/platform/log';

const Payload = z.object({ message_id: z.number().int().positive(), attempt: z.number().int().optional() });

/** Edits a posted message (Slack chat.update, Discord PATCH) so it shows the alert's current state. */
export const message__update: Task = async (h, raw, adapters) => {
  const p = Payload.safeParse(raw);
  if (!p.success) return;
  const m = await loadMessage(h, h.sql, p.data.message_id);
  if (!m || !m.providerRef) return;
  const adapter = adapters[m.channel];
  if (!adapter.enabled || !adapter.update) return;
  const r = await adapter.update(m, { sql: h.sql, config: h.config, key: h.key }).catch((e: Error) => ({ outcome: 'failed_temp' as const, error: e.message }));
  if (r.outcome === 'sent') {
    if (r.providerState !== undefined) await h.sql`update messages set provider_state = ${r.providerState as never}, updated_at = now() where id = ${m.id}`;
    return;
  }
  const attempt = (p.data.attempt ?? 0) + 1;
  if (r.outcome === 'failed_perm' || attempt >= 6) {
    log.warn('message update failed', { message_id: m.id, channel: m.channel, error: r.error });
    return;
  }
  await addJobs(h.sql, [{ identifier: 'message__update', payload: { message_id: m.id, attempt }, job_key: `message:${m.id}:update`,
    run_at: new Date(Date.now() + retryDelayMs(attempt, 'retryAfterMs' in r ? r.retryAfterMs : undefined)) }]);
};
