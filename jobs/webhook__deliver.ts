import { z } from 'zod';
import type { Task } from './task';
import { deliverWebhook } from '../db/webhooks/deliver';

const Payload = z.object({ delivery_id: z.number().int().positive(), manual: z.boolean().optional() });

/** One webhook delivery attempt; retries are scheduled by deliverWebhook itself, with the same webhook-id. */
export const webhook__deliver: Task = async (h, raw) => {
  const p = Payload.safeParse(raw);
  if (!p.success) return;
  await deliverWebhook(h, p.data.delivery_id, p.data.manual ?? false);
};
