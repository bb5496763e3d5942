// The ingestion verb: permission, validation of every event, then the grouped durable commit.
import type { Actor } from '../actor';
import { require } from '../actor';
import { parse } from '../errors';
import { EventBatchSchema, EventInputSchema, type EventInput } from './schema';
import type { Accepted, EventIngestor } from './ingest';
import { eventsIngested } from '../platform/metrics';

export async function acceptEvent(ing: EventIngestor, actor: Actor, body: unknown, idempotencyKey: string | null): Promise<Accepted> {
  require(actor, 'events:write');
  const e = parse(EventInputSchema, body);
  const r = await ing.accept(actor.orgId, [e], idempotencyKey);
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
    const r = await ing.accept(actor.orgId, valid, idempotencyKey);
    if ('replay' in r) return r.replay as BatchResult[];
    r.forEach((a, j) => { results[slots[j]] = a; });
    eventsIngested.inc(valid.length);
  }
  return results;
}
