import type { Task } from './task';
import { runImport } from '../db/imports/run';

/** One import, batch by batch with progress (db/imports/run.ts); a stale job (import finished or gone) exits. */
export const import__run: Task<'import__run'> = async (h, p) => {
  await runImport(h, p.import_id);
};
