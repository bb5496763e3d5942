import type { Task } from './task';
import { rebuildChunk } from '../db/metrics/rollup';
import { addJobs, job } from '../db/jobs/enqueue';

/**
 * Rebuilds a (re)defined metric from events, chunk by chunk (each chunk its own transaction, progress kept).
 * When it has caught up it makes sure the incremental chain runs (metric__rollup, keyed: one pending job),
 * so a first start or a new metric does not wait for the minute cron.
 */
export const metric__rebuild: Task<'metric__rebuild'> = async (h, p) => {
  for (;;) {
    const r = await rebuildChunk(h.sql, p.metric_id, p.version);
    if (r === 'more') continue;
    if (r === 'done') await addJobs(h.sql, [job('metric__rollup', {})]);
    return;
  }
};
