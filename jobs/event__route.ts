import { z } from 'zod';
import type { Task } from './task';
import { routeEvents } from '../db/events/route';

const Payload = z.object({ event_ids: z.array(z.number().int().positive()).min(1) });

/** Routes a batch of accepted events (see db/events/route.ts). Already-routed ids are skipped there. */
export const event__route: Task = async (h, raw) => {
  const p = Payload.safeParse(raw);
  if (!p.success) return;
  await routeEvents(h, p.data.event_ids);
};
