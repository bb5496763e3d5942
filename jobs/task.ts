import type { Herald } from '../db/herald';
import type { Adapters } from '../bot/adapter';

/** A Herald task: parses its payload first (old jobs outlive code) and exits quietly when stale. */
export type Task = (h: Herald, payload: unknown, adapters: Adapters) => Promise<void>;
