import { z } from 'zod';
import type { Task } from './task';
import { deliverWebhooks, resumeWebhook } from '../db/webhooks/deliver';

const Payload = z.union([
  // A fan-out group (first attempts only).
  z.object({ delivery_ids: z.array(z.number().int().positive()).min(1), manual: z.boolean().optional(), webhook_id: z.number().optional() }),
  // One delivery's retry, or a manual one.
  z.object({ delivery_id: z.number().int().positive(), manual: z.boolean().optional() }),
  // The end of a circuit-breaker pause: the webhook's deliveries that are due.
  z.object({ webhook_id: z.number().int().positive(), resume: z.literal(true) }),
]);

/**
 * Delivery attempts for a group of deliveries (or one retry); later retries are scheduled per delivery. Runs in
 * the webhook's own queue (db/webhooks/fanout.ts `deliveryJob`) in the delivery runner (jobs/worker.ts).
 */
export const webhook__deliver: Task = async (h, raw) => {
  const p = Payload.safeParse(raw);
  if (!p.success) return;
  if ('resume' in p.data) return resumeWebhook(h, p.data.webhook_id);
  const manual = p.data.manual ?? false;
  if ('delivery_ids' in p.data) await deliverWebhooks(h, p.data.delivery_ids, { manual, firstOnly: true });
  else await deliverWebhooks(h, [p.data.delivery_id], { manual });
};
