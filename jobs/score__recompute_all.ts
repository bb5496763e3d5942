import type { Task } from './task';
import { finishRun, recomputeAll } from '../db/scoring/recompute';
import { nightlyRuns } from '../db/scoring/nightly';
import { log } from '../db/platform/log';

/**
 * `{score_id, run_id}`: recomputes every entity of one score, progress in its run. A run no longer queued or
 * running (superseded, finished) is stale: the job exits quietly. `{}` (nightly): a run for every score.
 */
export const score__recompute_all: Task<'score__recompute_all'> = async (h, p) => {
  if (!('score_id' in p)) return nightlyRuns(h.sql);
  const [run] = await h.sql<{ status: string }[]>`select status from score_runs where id = ${p.run_id} and score_id = ${p.score_id}`;
  if (!run || (run.status !== 'queued' && run.status !== 'running')) return;
  try {
    const r = await recomputeAll(h.sql, p.score_id, p.run_id);
    if (r) await finishRun(h.sql, p.run_id, 'succeeded', r);
  } catch (e) {
    log.warn('score recompute failed', { score_id: p.score_id, error: (e as Error).message });
    await finishRun(h.sql, p.run_id, 'failed', null, (e as Error).message);
    throw e;
  }
};
