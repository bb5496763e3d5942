import type { Task } from './task';
import { routeEvents } from '../db/events/route';

/** Routes a batch of accepted events (see db/events/route.ts). Already-routed ids are skipped there. */
export const event__route: Task<'event__route'> = async (h, p) => {
  await routeEvents(h, p.event_ids);
};
