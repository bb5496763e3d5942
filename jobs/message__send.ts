import { z } from 'zod';
import type { Task } from './task';
import { loadMessage, recordSend } from '../db/messages/deliver';

const Payload = z.object({ message_id: z.number().int().positive() });

/** Sends one message through its channel's adapter. Messages already sent or failed are left alone. */
export const message__send: Task = async (h, raw, adapters) => {
  const p = Payload.safeParse(raw);
  if (!p.success) return;
  const m = await loadMessage(h, h.sql, p.data.message_id);
  if (!m || m.status === 'sent' || m.status === 'delivered' || m.status === 'failed') return;
  const adapter = adapters[m.channel];
  const r = adapter.enabled
    ? await adapter.send(m, { sql: h.sql, config: h.config, key: h.key }).catch((e: Error) => ({ outcome: 'failed_temp' as const, error: e.message }))
    : { outcome: 'failed_perm' as const, error: `${m.channel} is not configured` };
  await recordSend(h, m, r);
};
