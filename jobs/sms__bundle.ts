import type { Task } from './task';
import { isSmsAdapter } from '../bot/sms/adapter';

/** Sends the one text that covers every SMS held back by a phone's rate limit ("3 more alerts for you: …"). */
export const sms__bundle: Task<'sms__bundle'> = async (h, p, adapters) => {
  const sms = adapters.sms;
  // SMS switched off since the hold: the held messages stay held until it is configured again.
  if (!sms.enabled || !isSmsAdapter(sms)) return;
  await sms.flushBundle(h, p.phone, p.attempt ?? 1);
};
