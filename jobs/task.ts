import type { Herald } from '../db/herald';
import type { Adapters } from '../bot/adapter';
import type { PayloadOf, TaskName } from '../db/jobs/catalog';

/**
 * A Herald task. The worker has already parsed the payload against the catalog (db/jobs/catalog.ts): old
 * jobs outlive code, and one whose payload no longer fits never reaches the task. A task re-reads the state
 * it acts on and exits quietly when the work is stale.
 */
export type Task<N extends TaskName> = (h: Herald, payload: PayloadOf<N>, adapters: Adapters) => Promise<void>;

/** Every task of the catalog, each with its own payload type: the compiler proves none is missing. */
export type TaskList = { [N in TaskName]: Task<N> };
