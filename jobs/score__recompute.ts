import type { Task } from './task';
import { recomputeOnce, RECOMPUTE_BATCH } from '../db/scoring/recompute';
import { addJobs, job } from '../db/jobs/enqueue';

/** How soon the next run follows when the last one found the events drained (the scoring lag, at most). */
export const SCORE_INTERVAL_MS = 1000;

/**
 * Applies batches of settled events to their entities and rescores the touched ones (db/scoring/recompute.ts),
 * then schedules its next run (one pending job, keyed): at once while a full batch was found, else after
 * SCORE_INTERVAL_MS. No job per event: however many arrive, one run takes them in batches.
 */
export const score__recompute: Task<'score__recompute'> = async (h) => {
  let passed = 0;
  for (let i = 0; i < 4; i++) {
    passed = (await recomputeOnce(h.sql)).passed;
    if (passed < RECOMPUTE_BATCH) break;
  }
  const runAt = new Date(Date.now() + (passed >= RECOMPUTE_BATCH ? 0 : SCORE_INTERVAL_MS));
  await addJobs(h.sql, [job('score__recompute', {}, { run_at: runAt })]);
};
