import type { Task } from './task';
import { rollupOnce, ROLLUP_BATCH } from '../db/metrics/rollup';
import { addJobs, job } from '../db/jobs/enqueue';

/** How soon the next run follows when the last one found the events drained (the rollup lag, at most). */
export const ROLLUP_INTERVAL_MS = 1000;

/**
 * Applies batches of settled events to the metric rollups (db/metrics/rollup.ts) and schedules its next run
 * (one pending job, keyed): at once while a full batch was found, else after ROLLUP_INTERVAL_MS. The
 * minute cron restarts the chain if it was ever lost.
 */
export const metric__rollup: Task<'metric__rollup'> = async (h) => {
  let passed = 0;
  for (let i = 0; i < 4; i++) {
    // Busy: another run (or a metric being defined) holds the mark; try again after the interval.
    const r = await rollupOnce(h.sql, { skipIfBusy: true });
    passed = r.passed;
    if (r.busy) break;
    if (passed < ROLLUP_BATCH) break;
  }
  const runAt = new Date(Date.now() + (passed >= ROLLUP_BATCH ? 0 : ROLLUP_INTERVAL_MS));
  await addJobs(h.sql, [job('metric__rollup', {}, { run_at: runAt })]);
};
