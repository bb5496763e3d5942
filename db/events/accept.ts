// The ingestion verb: permission, validation of every event, then the grouped durable commit.
import { createHash } from 'node:crypto';
import type { Actor } from '../actor';
import { require } from '../actor';
import { HeraldError, parse, refusedByDatabase } from '../errors';
import { EventBatchSchema, EventInputSchema, type EventInput } from './schema';
import type { Accepted, EventIngestor, IdempotencyClaim } from './ingest';
import { eventsIngested } from '../platform/metrics';
import { log } from '../platform/log';

/** Who an Idempotency-Key belongs to: the API key or the signed-in user (or integration) that sent it. */
export function idempotencyOwner(a: Actor): string {
  switch (a.kind) {
    case 'api_key': return `key:${a.keyId}`;
    case 'user': return `user:${a.userId}`;
    case 'integration': return `integration:${a.name}`;
    case 'system': return 'system';
  }
}

/** JSON with object keys sorted, so the same body hashes the same whatever its key order or spacing. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** The key as stored: scoped to its sender, with the hash of the request (endpoint and body) it came with. */
export function idempotencyClaim(actor: Actor, key: string | null, endpoint: string, body: unknown): IdempotencyClaim | null {
  if (key === null) return null;
  const hash = createHash('sha256').update(endpoint).update('\n').update(canonical(body)).digest('base64url');
  return { key, owner: idempotencyOwner(actor), hash };
}

export async function acceptEvent(ing: EventIngestor, actor: Actor, body: unknown, idempotencyKey: string | null): Promise<Accepted> {
  require(actor, 'events:write');
  const e = parse(EventInputSchema, body);
  const r = await ing.accept(actor.orgId, [e], idempotencyClaim(actor, idempotencyKey, 'POST /v1/events', body));
  if ('replay' in r) return (r.replay as Accepted[])[0];
  eventsIngested.inc();
  return r[0];
}

export type BatchResult = Accepted | { error: { status: number; detail: string; errors: Array<{ path: string; message: string }> } };

/** Valid events are accepted together; each invalid one gets its error in place. */
export async function acceptBatch(ing: EventIngestor, actor: Actor, body: unknown, idempotencyKey: string | null): Promise<BatchResult[]> {
  require(actor, 'events:write');
  const b = parse(EventBatchSchema, body);
  const results: BatchResult[] = new Array(b.events.length);
  const valid: EventInput[] = [];
  const slots: number[] = [];
  b.events.forEach((raw, i) => {
    const r = EventInputSchema.safeParse(raw);
    if (r.success) { valid.push(r.data); slots.push(i); return; }
    const errors = r.error.issues.map((x) => ({ path: x.path.map(String).join('.') || '(root)', message: x.message }));
    results[i] = { error: { status: 400, detail: errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors } };
  });
  if (valid.length) {
    const claim = idempotencyClaim(actor, idempotencyKey, 'POST /v1/events/batch', body);
    let r: Awaited<ReturnType<EventIngestor['accept']>>;
    try {
      r = await ing.accept(actor.orgId, valid, claim);
    } catch (e) {
      // The batch failed as a whole even after the ingestor retried it alone: write each event on its own so
      // that only the ones that fail alone get an error in their slot. Not with an idempotency key: the key is
      // stored with the response of one write, and a retry of the request must not write the events twice.
      // Overload (503) refused the whole request before anything was written: answer it as such.
      if (claim || valid.length === 1 || (e instanceof HeraldError && e.status === 503)) throw e;
      return acceptOneByOne(ing, actor.orgId, valid, slots, results, e);
    }
    // A replay has the same body, so the same events are invalid; the stored results are the valid ones', in order.
    const accepted = 'replay' in r ? (r.replay as Accepted[]) : r;
    accepted.forEach((a, j) => { results[slots[j]] = a; });
    if (!('replay' in r)) eventsIngested.inc(valid.length);
  }
  return results;
}

async function acceptOneByOne(ing: EventIngestor, orgId: number, valid: EventInput[], slots: number[], results: BatchResult[], first: unknown): Promise<BatchResult[]> {
  const outcomes = await Promise.allSettled(valid.map((e) => ing.accept(orgId, [e], null)));
  // Nothing went in (the database is down, say): the request fails as it would have.
  if (outcomes.every((o) => o.status === 'rejected')) throw first;
  let ok = 0;
  outcomes.forEach((o, j) => {
    if (o.status === 'fulfilled') {
      results[slots[j]] = (o.value as Accepted[])[0];
      ok++;
      return;
    }
    const err = o.reason instanceof HeraldError ? o.reason : refusedByDatabase(o.reason);
    if (!err) log.error('event in a batch could not be stored', { error: (o.reason as Error)?.message, stack: (o.reason as Error)?.stack });
    const detail = err ? err.message : 'This event could not be stored; it has been logged';
    results[slots[j]] = { error: { status: err?.status ?? 500, detail, errors: err?.errors ?? [] } };
  });
  eventsIngested.inc(ok);
  return results;
}
