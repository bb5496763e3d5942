import type { Task } from './task';

/** Idempotency keys answer repeats for 24 hours; older ones are deleted. */
export const idempotency__cleanup: Task<'idempotency__cleanup'> = async (h) => {
  await h.sql`delete from idempotency_keys where created_at < now() - interval '25 hours'`;
};
