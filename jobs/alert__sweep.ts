import type { Task } from './task';
import { sweepTimers } from '../db/escalation/escalate';
import { sweepHeartbeats } from '../db/integrations/heartbeats';

/**
 * Crontab safety net: re-creates missing escalation and heartbeat timers and re-routes events whose job was
 * lost. (An expectation's pending timer exists only as its job, so there is nothing to re-create it from.)
 */
export const alert__sweep: Task<'alert__sweep'> = async (h) => {
  await sweepTimers(h);
  await sweepHeartbeats(h.sql);
};
