import type { Task } from './task';
import { loadMessage, recordSend } from '../db/messages/deliver';
import { isFinal } from '../db/model/delivery';

/** Sends one message through its channel's adapter. Messages already sent or failed are left alone. */
export const message__send: Task<'message__send'> = async (h, p, adapters) => {
  const m = await loadMessage(h, h.sql, p.message_id);
  if (!m || isFinal(m.status)) return;
  const adapter = adapters[m.channel];
  const r = adapter.enabled
    ? await adapter.send(m, { sql: h.sql, config: h.config, key: h.key }).catch((e: Error) => ({ outcome: 'failed_temp' as const, error: e.message }))
    : { outcome: 'failed_perm' as const, error: `${m.channel} is not configured` };
  await recordSend(h, m, r);
};
