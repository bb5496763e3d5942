import type { Task } from './task';
import { checkAll } from '../db/metrics/check';

/** Every minute: thresholds (with hysteresis) and seasonal anomalies post kpi/* events (db/metrics/check.ts). */
export const metric__check: Task<'metric__check'> = async (h) => {
  await checkAll(h);
};
