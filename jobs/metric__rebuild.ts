import type { Task } from './task';
import { rebuildChunk } from '../db/metrics/rollup';

/** Rebuilds a (re)defined metric from events, chunk by chunk (each chunk its own transaction, progress kept). */
export const metric__rebuild: Task<'metric__rebuild'> = async (h, p) => {
  for (;;) {
    const r = await rebuildChunk(h.sql, p.metric_id, p.version);
    if (r !== 'more') return;
  }
};
