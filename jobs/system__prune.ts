import type { Task } from './task';
import { pruneOnce } from '../db/system/retention';

/** Every 10 minutes: deletes rows past their retention age in small batches (db/system/retention.ts). */
export const system__prune: Task<'system__prune'> = async (h) => {
  await pruneOnce(h.sql, h.config);
};
