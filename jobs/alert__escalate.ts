import type { Task } from './task';
import { runAlertTimer } from '../db/escalation/escalate';

/** The alert's timer: the next escalation level, or the end of a snooze. Stale timers exit quietly. */
export const alert__escalate: Task<'alert__escalate'> = async (h, p) => {
  await runAlertTimer(h, p.alert_id, p);
};
