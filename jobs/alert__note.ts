import type { Task } from './task';
import { addJobs, job } from '../db/jobs/enqueue';
import { loadMessage, retryDelayMs } from '../db/messages/deliver';
import { timelineRow } from '../db/timeline/append';
import { log } from '../db/platform/log';

/**
 * Posts one note as a reply in the thread of one posted message (Slack thread_ts, Discord message
 * reference). Stale work (note or message gone, channel switched off) exits quietly; a temporary failure
 * is retried under the same key with the provider's Retry-After, at most 6 attempts.
 */
export const alert__note: Task<'alert__note'> = async (h, p, adapters) => {
  const note = await timelineRow(h.sql, p.alert_id, p.note_id);
  if (!note || note.kind !== 'noted' || typeof note.detail?.text !== 'string') return;
  const m = await loadMessage(h, h.sql, p.message_id);
  if (!m || !m.providerRef || m.alert.id !== p.alert_id) return;
  const adapter = adapters[m.channel];
  if (!adapter.enabled || !adapter.reply) return;
  const by = typeof note.actor?.name === 'string' ? note.actor.name : 'Someone';
  const r = await adapter.reply(m, { text: note.detail.text, by }).catch((e: Error) => ({ outcome: 'failed_temp' as const, error: e.message }));
  if (r.outcome === 'sent') return;
  const attempt = (p.attempt ?? 0) + 1;
  if (r.outcome === 'failed_perm' || attempt >= 6) {
    log.warn('note reply failed', { note_id: p.note_id, message_id: m.id, channel: m.channel, error: r.error });
    return;
  }
  await addJobs(h.sql, [job('alert__note', { ...p, attempt },
    { run_at: new Date(Date.now() + retryDelayMs(attempt, 'retryAfterMs' in r ? r.retryAfterMs : undefined)) })]);
};
