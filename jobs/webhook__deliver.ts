import { z } from 'zod';
import type { Task } from './task';
import { deliverWebhooks } from '../db/webhooks/deliver';

const Payload = z.union([
  z.object({ delivery_ids: z.array(z.number().int().positive()).min(1), manual: z.boolean().optional() }),
  z.object({ delivery_id: z.number().int().positive(), manual: z.boolean().optional() }),
]);

/** Delivery attempts for a group of deliveries (or one retry); later retries are scheduled per delivery. */
export const webhook__deliver: Task = async (h, raw) => {
  const p = Payload.safeParse(raw);
  if (!p.success) return;
  if ('delivery_ids' in p.data) await deliverWebhooks(h, p.data.delivery_ids, p.data.manual ?? false, true);
  else await deliverWebhooks(h, [p.data.delivery_id], p.data.manual ?? false);
};
