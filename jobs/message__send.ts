import type { Task } from './task';
import { dropHeldMessage, loadMessage, recordSend } from '../db/messages/deliver';
import { isFinal } from '../db/model/delivery';

/** Sends one message through its channel's adapter. Messages already sent or failed are left alone. */
export const message__send: Task<'message__send'> = async (h, p, adapters) => {
  const m = await loadMessage(h, h.sql, p.message_id);
  if (!m || isFinal(m.status)) return;
  // Quiet hours are over (this job was due when they end): send, unless the alert was handled meanwhile.
  if (m.status === 'held_quiet' && m.alertRow.status !== 'triggered') { await dropHeldMessage(h, m); return; }
  // Waiting for the digest: the digest job covers it, never this one.
  if (m.status === 'held_digest') return;
  const adapter = adapters[m.channel];
  const r = adapter.enabled
    ? await adapter.send(m, { sql: h.sql, config: h.config, key: h.key }).catch((e: Error) => ({ outcome: 'failed_temp' as const, error: e.message }))
    : { outcome: 'failed_perm' as const, error: `${m.channel} is not configured` };
  await recordSend(h, m, r);
};
