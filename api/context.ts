import type { Herald } from '../db/herald';
import type { Adapters } from '../bot/adapter';
import type { EventIngestor } from '../db/events/ingest';
import type { Actor } from '../db/actor';
import type { MinuteLimiter } from '../db/limits/limiter';
import type { ApiKeyUsage } from '../db/api-keys/usage';

/** Everything a router needs: the engine, the channels, the ingestor. */
export interface ApiContext extends Herald {
  adapters: Adapters;
  ingestor: EventIngestor;
  /** Set when this process runs a worker (for /readyz). */
  workerAlive?: () => boolean;
  roles: { api: boolean; worker: boolean };
  /** Rate limits per key, session and address (db/limits/limiter.ts). */
  limiter: MinuteLimiter;
  /** API key usage counters, flushed in batches (db/api-keys/usage.ts). */
  usage: ApiKeyUsage;
}

export type AppEnv = { Variables: { actor: Actor; session?: { id: number; csrf: string; secondFactor?: 'pending' | 'enrol' | null } } };
