import type { Task } from './task';
import { deliverWebhooks } from '../db/webhooks/deliver';

/** Delivery attempts for a group of deliveries (or one retry); later retries are scheduled per delivery. */
export const webhook__deliver: Task<'webhook__deliver'> = async (h, p) => {
  if ('delivery_ids' in p) await deliverWebhooks(h, p.delivery_ids, p.manual ?? false, true);
  else await deliverWebhooks(h, [p.delivery_id], p.manual ?? false);
};
