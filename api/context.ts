import type { Herald } from '../db/herald';
import type { Adapters } from '../bot/adapter';
import type { EventIngestor } from '../db/events/ingest';
import type { Actor } from '../db/actor';

/** Everything a router needs: the engine, the channels, the ingestor. */
export interface ApiContext extends Herald {
  adapters: Adapters;
  ingestor: EventIngestor;
  /** Set when this process runs a worker (for /readyz). */
  workerAlive?: () => boolean;
  roles: { api: boolean; worker: boolean };
}

export type AppEnv = { Variables: { actor: Actor; session?: { id: number; csrf: string } } };
