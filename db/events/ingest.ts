// Accepting events durably at high rate.
//
// Invariant: an event is acknowledged (202) only after its row AND the job that routes it are committed
// in the same transaction. To afford that at thousands of requests per second, concurrent requests are
// grouped: each request queues its events and awaits the flush that carries them; a flush is one
// transaction with one multi-row insert and one add_jobs call. Several flushes may run at once (one per
// pool connection) so a slow fsync does not stall the queue.
import { randomUUID } from 'node:crypto';
import type { Pool } from '../sql';
import type { EventInput } from './schema';
import { addJobs } from '../jobs/enqueue';

export interface Accepted { event_id: number; dedup_key: string }

interface Pending {
  orgId: number;
  events: EventInput[];
  idempotencyKey: string | null;
  resolve: (r: Accepted[] | { replay: unknown }) => void;
  reject: (e: unknown) => void;
}

/** A generated dedup key: stable for the same (category, type, entity) so repeats group; else unique. */
export function dedupKeyFor(e: EventInput): string {
  if (e.dedup_key) return e.dedup_key;
  if (e.entity) return `${e.category}/${e.type}/${e.entity.kind}:${e.entity.id}`;
  return `${e.category}/${e.type}/${randomUUID()}`;
}

export const ROUTE_BATCH = 500;

export class EventIngestor {
  private queue: Pending[] = [];
  private queuedEvents = 0;
  private inFlight = 0;

  constructor(
    private sql: Pool,
    private opts: { maxConcurrentFlushes?: number; maxEventsPerFlush?: number; onAccepted?: (n: number) => void } = {},
  ) {}

  /** Resolves when the events are committed, or with the stored response of an earlier identical request. */
  accept(orgId: number, events: EventInput[], idempotencyKey: string | null): Promise<Accepted[] | { replay: unknown }> {
    return new Promise((resolve, reject) => {
      this.queue.push({ orgId, events, idempotencyKey, resolve, reject });
      this.queuedEvents += events.length;
      this.pump();
    });
  }

  private pump() {
    const max = this.opts.maxConcurrentFlushes ?? 6;
    while (this.queue.length && this.inFlight < max) {
      const batch = this.take();
      this.inFlight++;
      this.flushWithRetry(batch)
        .catch((e) => batch.forEach((p) => p.reject(e)))
        .finally(() => {
          this.inFlight--;
          this.pump();
        });
    }
  }

  private take(): Pending[] {
    const limit = this.opts.maxEventsPerFlush ?? 5000;
    const out: Pending[] = [];
    let n = 0;
    while (this.queue.length && (n === 0 || n + this.queue[0].events.length <= limit)) {
      const p = this.queue.shift()!;
      n += p.events.length;
      out.push(p);
    }
    this.queuedEvents -= n;
    return out;
  }

  /** Deadlocks and serialization failures between concurrent flushes are retried, never surfaced. */
  private async flushWithRetry(batch: Pending[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.flush(batch);
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (attempt >= 5 || (code !== '40P01' && code !== '40001')) throw e;
      }
    }
  }

  private async flush(batch: Pending[]): Promise<void> {
    type Row = { org_id: number; category: string; type: string; title: string; severity: string; body: string | null;
      source: string | null; dedup_key: string; action: string; metadata: unknown; entity: unknown; occurred_at: string | null };
    const results = new Map<Pending, Accepted[] | { replay: unknown }>();
    await this.sql.begin(async (tx) => {
      // Idempotency: claim each key first; a key already stored answers with its first response.
      const keyed = batch.filter((p) => p.idempotencyKey);
      const owners = new Map<string, Pending>();
      const toInsert: Pending[] = [];
      for (const p of batch) {
        if (!p.idempotencyKey) { toInsert.push(p); continue; }
        const k = `${p.orgId}\u0000${p.idempotencyKey}`;
        if (owners.has(k)) continue; // same key twice in one flush: the second waits for the first's answer
        owners.set(k, p);
      }
      if (keyed.length) {
        // Claim each key with an insert: a concurrent flush holding the same key makes this wait until it
        // commits, then conflict; the loser answers with the stored response. Keys older than 24 h are void.
        const owned = [...owners.values()];
        const orgs = owned.map((p) => p.orgId);
        const keys = owned.map((p) => p.idempotencyKey!);
        await tx`delete from idempotency_keys where (org_id, key) in (select * from unnest(${orgs}::bigint[], ${keys}::text[]))
          and created_at < now() - interval '24 hours'`;
        const claimed = await tx<{ org_id: number; key: string }[]>`
          insert into idempotency_keys (org_id, key, response)
          select o, k, 'null'::jsonb from unnest(${orgs}::bigint[], ${keys}::text[]) as t(o, k) order by o, k
          on conflict (org_id, key) do nothing returning org_id, key`;
        const mine = new Set(claimed.map((r) => `${r.org_id}\u0000${r.key}`));
        const taken = owned.filter((p) => !mine.has(`${p.orgId}\u0000${p.idempotencyKey}`));
        const stored = taken.length ? await tx<{ org_id: number; key: string; response: unknown }[]>`
          select org_id, key, response from idempotency_keys
          where (org_id, key) in (select * from unnest(${taken.map((p) => p.orgId)}::bigint[], ${taken.map((p) => p.idempotencyKey!)}::text[]))` : [];
        const found = new Map(stored.map((r) => [`${r.org_id}\u0000${r.key}`, r.response]));
        for (const [k, p] of owners) {
          if (mine.has(k)) toInsert.push(p);
          else results.set(p, { replay: found.get(k) ?? [] });
        }
      }
      const rows: Row[] = [];
      for (const p of toInsert) for (const e of p.events) rows.push({
        org_id: p.orgId, category: e.category, type: e.type, title: e.title, severity: e.severity, body: e.body ?? null,
        source: e.source ?? null, dedup_key: dedupKeyFor(e), action: e.action, metadata: e.metadata, entity: e.entity ?? null,
        occurred_at: e.occurred_at ?? null,
      });
      if (rows.length) {
        const ids = await tx<{ id: number }[]>`
          insert into events (org_id, category, type, title, severity, body, source, dedup_key, action, metadata, entity, occurred_at)
          select org_id, category, type, title, severity, body, source, dedup_key, action, metadata, entity, occurred_at
          from json_to_recordset(${JSON.stringify(rows)}::text::json) as t(org_id bigint, category text, type text, title text,
            severity text, body text, source text, dedup_key text, action text, metadata jsonb, entity jsonb, occurred_at timestamptz)
          returning id`;
        // A plain INSERT … SELECT from json_to_recordset inserts, numbers and returns rows in array order.
        let i = 0;
        for (const p of toInsert) {
          results.set(p, p.events.map(() => ({ event_id: Number(ids[i].id), dedup_key: rows[i++].dedup_key })));
        }
        const jobs = [];
        for (let j = 0; j < ids.length; j += ROUTE_BATCH) {
          jobs.push({ identifier: 'event__route', payload: { event_ids: ids.slice(j, j + ROUTE_BATCH).map((r) => Number(r.id)) } });
        }
        await addJobs(tx, jobs);
      }
      const keyRows = toInsert.filter((p) => p.idempotencyKey);
      if (keyRows.length) {
        await tx`
          update idempotency_keys i set response = t.r::jsonb
          from unnest(${keyRows.map((p) => p.orgId)}::bigint[], ${keyRows.map((p) => p.idempotencyKey!)}::text[],
            ${keyRows.map((p) => JSON.stringify(results.get(p)))}::text[]) as t(o, k, r)
          where i.org_id = t.o and i.key = t.k`;
      }
    });
    this.opts.onAccepted?.(batch.reduce((n, p) => n + (Array.isArray(results.get(p)) ? p.events.length : 0), 0));
    for (const p of batch) {
      const r = results.get(p);
      if (r) p.resolve(r);
      else {
        // Duplicate key within this flush: answer with the owner's result.
        const owner = batch.find((o) => o !== p && o.orgId === p.orgId && o.idempotencyKey === p.idempotencyKey && results.has(o));
        p.resolve({ replay: storedShape(owner ? results.get(owner)! : []) });
      }
    }
  }
}

function storedShape(r: Accepted[] | { replay: unknown }): unknown {
  return 'replay' in (r as object) ? (r as { replay: unknown }).replay : r;
}
