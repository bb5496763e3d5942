import type { Task } from './task';
import { deliverWebhooks, resumeWebhook } from '../db/webhooks/deliver';

/**
 * Delivery attempts for a group of deliveries (or one retry); later retries are scheduled per delivery. Runs in
 * the webhook's own queue (db/webhooks/fanout.ts `deliveryJob`) in the delivery runner (jobs/worker.ts).
 */
export const webhook__deliver: Task<'webhook__deliver'> = async (h, p) => {
  if ('resume' in p) return resumeWebhook(h, p.webhook_id);
  const manual = p.manual ?? false;
  if ('delivery_ids' in p) await deliverWebhooks(h, p.delivery_ids, { manual, firstOnly: true });
  else await deliverWebhooks(h, [p.delivery_id], { manual });
};
