import type { Task } from './task';
import { rollupAnalyticsOnce } from '../db/analytics/rollup';
import { addJobs, job } from '../db/jobs/enqueue';

/** How soon the next run follows when the last one caught up (how stale a stored hour can be, at most, plus a run). */
export const ANALYTICS_ROLLUP_INTERVAL_MS = 5000;

/**
 * Keeps the analytics rollups current (db/analytics/rollup.ts) and schedules its next run (one pending job,
 * keyed): at once while work is waiting, else after ANALYTICS_ROLLUP_INTERVAL_MS. Requests never wait for it:
 * an hour changed since its last run is computed by the request itself.
 */
export const analytics__rollup: Task<'analytics__rollup'> = async (h) => {
  let more = false;
  for (let i = 0; i < 4; i++) {
    // Busy: another run holds the marks; try again after the interval.
    const r = await rollupAnalyticsOnce(h.sql, { skipIfBusy: true });
    more = r.more;
    if (r.busy || !more) break;
  }
  await addJobs(h.sql, [job('analytics__rollup', {}, { run_at: new Date(Date.now() + (more ? 0 : ANALYTICS_ROLLUP_INTERVAL_MS)) })]);
};
