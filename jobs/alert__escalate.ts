import { z } from 'zod';
import type { Task } from './task';
import { runAlertTimer } from '../db/escalation/escalate';

const Payload = z.object({ alert_id: z.number().int().positive(), level: z.number().int().positive().optional(), wake: z.boolean().optional() });

/** The alert's timer: the next escalation level, or the end of a snooze. Stale timers exit quietly. */
export const alert__escalate: Task = async (h, raw) => {
  const p = Payload.safeParse(raw);
  if (!p.success) return;
  await runAlertTimer(h, p.data.alert_id, p.data);
};
