import type { Task } from './task';
import { sweepTimers } from '../db/escalation/escalate';

/** Crontab safety net: re-creates missing escalation timers and re-routes events whose job was lost. */
export const alert__sweep: Task<'alert__sweep'> = async (h) => {
  await sweepTimers(h);
};
