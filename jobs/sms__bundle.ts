import { z } from 'zod';
import type { Task } from './task';
import { isSmsAdapter } from '../bot/sms/adapter';

const Payload = z.object({ phone: z.string().min(2).max(20), attempt: z.number().int().positive().optional() });

/** Sends the one text that covers every SMS held back by a phone's rate limit ("3 more alerts for you: …"). */
export const sms__bundle: Task = async (h, raw, adapters) => {
  const p = Payload.safeParse(raw);
  if (!p.success) return;
  const sms = adapters.sms;
  // SMS switched off since the hold: the held messages stay held until it is configured again.
  if (!sms.enabled || !isSmsAdapter(sms)) return;
  await sms.flushBundle(h, p.data.phone, p.data.attempt ?? 1);
};
