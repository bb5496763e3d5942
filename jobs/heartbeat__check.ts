import type { Task } from './task';
import { checkHeartbeat } from '../db/integrations/heartbeats';

/** A heartbeat monitor's timer: no ping since interval + grace posts its `missed` event. Stale timers exit quietly. */
export const heartbeat__check: Task<'heartbeat__check'> = async (h, p) => {
  await checkHeartbeat(h, p.heartbeat_id);
};
