import type { Task } from './task';
import { trainScore } from '../db/scoring/train';
import { finishRun } from '../db/scoring/recompute';
import { log } from '../db/platform/log';

/** Trains a model score and predicts for its open entities (db/scoring/train.ts). */
export const model__train: Task<'model__train'> = async (h, p) => {
  try {
    await trainScore(h.sql, p.score_id, p.run_id);
  } catch (e) {
    log.warn('model training failed', { score_id: p.score_id, error: (e as Error).message });
    await finishRun(h.sql, p.run_id, 'failed', null, (e as Error).message);
    throw e;
  }
};
