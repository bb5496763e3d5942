// Accepting events durably at high rate.
//
// Invariant: an event is acknowledged (202) only after its row AND the job that routes it are committed
// in the same transaction. To afford that at thousands of requests per second, concurrent requests are
// grouped: each request queues its events and awaits the flush that carries them; a flush is one
// statement (events and their routing jobs) or, with idempotency keys, one transaction. A second flush
// runs beside the first only when a full batch is waiting (see pump).
import type { TaskName } from '../jobs/catalog';
import { randomUUID } from 'node:crypto';
import type { Pool, Sql } from '../platform/sql';
import type { EventInput } from './schema';
import { HeraldError } from '../errors';

export interface Accepted { event_id: number; dedup_key: string }

/**
 * An `Idempotency-Key` as stored: scoped to its sender (`owner`: the API key or user that sent it) and
 * bound to a hash of the request it came with.
 */
export interface IdempotencyClaim { key: string; owner: string; hash: string }

/**
 * Overload: this process already holds `pending` events it has not committed (or its oldest waiting request has
 * waited too long). Refused before anything is written, so nothing accepted is lost; the sender retries after
 * Retry-After.
 */
export const overloaded = (detail: string) => new HeraldError(503, 'Overloaded',
  `${detail}; nothing of this request was stored: send it again after Retry-After`, undefined, { 'Retry-After': '1' });

export const keyReused = () => new HeraldError(422, 'Idempotency key reused',
  'This Idempotency-Key was already used with a different request body; use a new key for a new request');

interface Pending {
  at: number;
  orgId: number;
  events: EventInput[];
  idempotencyKey: IdempotencyClaim | null;
  /** The integration the events came through (null: Herald's own API). */
  integrationId: number | null;
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
/** Queued events that justify a second concurrent flush. */
const PARALLEL_FLUSH_EVENTS = 500;

export class EventIngestor {
  private queue: Pending[] = [];
  private queuedEvents = 0;
  private inFlight = 0;
  /** Events taken but not yet committed (queued and in flushes in flight). */
  private pendingEvents = 0;
  /** When the oldest request of each flush in flight arrived (a flush stuck in the database counts as waiting). */
  private flushing = new Set<Pending[]>();

  /** Arrival of the oldest request not yet answered, queued or in a flush (now when none). */
  private oldestPending(): number {
    let t = this.queue.length ? this.queue[0].at : Date.now();
    for (const b of this.flushing) if (b[0].at < t) t = b[0].at;
    return t;
  }

  constructor(
    private sql: Pool,
    private opts: {
      maxConcurrentFlushes?: number; maxEventsPerFlush?: number; onAccepted?: (n: number) => void;
      /** Bounded intake (HERALD_INGEST_MAX_PENDING / _MAX_WAIT_MS): past either, accept() refuses with a 503. */
      maxPendingEvents?: number; maxWaitMs?: number;
    } = {},
  ) {}

  /** Resolves when the events are committed, or with the stored response of an earlier identical request. */
  accept(orgId: number, events: EventInput[], idempotencyKey: IdempotencyClaim | null, integrationId: number | null = null): Promise<Accepted[] | { replay: unknown }> {
    const { maxPendingEvents, maxWaitMs } = this.opts;
    // A lone request larger than the bound still goes in when nothing else is pending (a full batch is allowed).
    if (maxPendingEvents !== undefined && this.pendingEvents > 0 && this.pendingEvents + events.length > maxPendingEvents) {
      return Promise.reject(overloaded(`Herald is over capacity: ${this.pendingEvents} events are waiting to be stored`));
    }
    if (maxWaitMs !== undefined && Date.now() - this.oldestPending() > maxWaitMs) {
      return Promise.reject(overloaded(`Herald is over capacity: requests have waited over ${maxWaitMs} ms to be stored`));
    }
    this.pendingEvents += events.length;
    const done = () => { this.pendingEvents -= events.length; };
    return new Promise<Accepted[] | { replay: unknown }>((resolve, reject) => {
      this.queue.push({ at: Date.now(), orgId, events, idempotencyKey, integrationId, resolve: (r) => { done(); resolve(r); }, reject: (e) => { done(); reject(e); } });
      this.queuedEvents += events.length;
      this.pump();
    });
  }

  // A flush in flight gathers the next requests: another flush starts beside it only when enough events wait
  // to fill it (batch traffic), so single-event traffic makes few large transactions, not six small ones that
  // each pay the round trips and the fsync (measured: 7 events per flush and 17–34 ms each with six in flight;
  // 30 events per flush, 7–12 ms each with one).
  private pump() {
    const max = this.opts.maxConcurrentFlushes ?? 6;
    while (this.queue.length && this.inFlight < max && (this.inFlight === 0 || this.queuedEvents >= PARALLEL_FLUSH_EVENTS)) {
      const batch = this.take();
      this.inFlight++;
      this.flushing.add(batch);
      this.flushWithRetry(batch)
        .catch((e) => this.isolate(batch, e))
        .finally(() => {
          this.flushing.delete(batch);
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

  /**
   * A grouped flush failed (something validation let through that Postgres refuses, or the database was
   * briefly gone): nothing of it was committed, so each request is written again on its own, one after
   * another, and only a request that fails alone gets the error. No good request pays for a bad neighbour.
   * Only runs after a failure: in the normal case the flush stays one grouped write.
   */
  private async isolate(batch: Pending[], e: unknown): Promise<void> {
    if (batch.length === 1) return batch[0].reject(e);
    for (const p of batch) {
      try {
        await this.flushWithRetry([p]);
      } catch (alone) {
        p.reject(alone);
      }
    }
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
    if (batch.every((p) => !p.idempotencyKey)) return this.flushPlain(batch);
    return this.flushKeyed(batch);
  }

  /**
   * The common case: no idempotency keys, so the events and their routing jobs go in as one statement,
   * which Postgres runs atomically on its own: one round trip and one commit for the whole flush.
   */
  private async flushPlain(batch: Pending[]): Promise<void> {
    const rows = batch.flatMap((p) => p.events.map((e) => toRow(p.orgId, e, p.integrationId)));
    const ids = await insertWithRouteJobs(this.sql, rows);
    this.opts.onAccepted?.(rows.length);
    let i = 0;
    for (const p of batch) p.resolve(p.events.map(() => ({ event_id: ids[i], dedup_key: rows[i++].dedup_key })));
  }

  private async flushKeyed(batch: Pending[]): Promise<void> {
    const keyOf = (p: Pending) => `${p.orgId}\u0000${p.idempotencyKey!.owner}\u0000${p.idempotencyKey!.key}`;
    // The first request with each (sender, key) claims it for the flush; the others with that key are
    // answered after the claim: with the same body they get the first response, with another a 422.
    const owners = new Map<string, Pending>();
    for (const p of batch) if (p.idempotencyKey && !owners.has(keyOf(p))) owners.set(keyOf(p), p);
    const fresh = new Map<Pending, Accepted[]>();
    const mine = new Set<string>();
    const found = new Map<string, { request_hash: string | null; response: unknown }>();
    await this.sql.begin(async (tx) => {
      // Idempotency: claim each key first; a key already stored answers with its first response.
      const toInsert = batch.filter((p) => !p.idempotencyKey);
      if (owners.size) {
        // Claim each key with an insert: a concurrent flush holding the same key makes this wait until it
        // commits, then conflict; the loser answers with the stored response. Keys older than 24 h are void.
        const owned = [...owners.values()];
        const orgs = owned.map((p) => p.orgId);
        const who = owned.map((p) => p.idempotencyKey!.owner);
        const keys = owned.map((p) => p.idempotencyKey!.key);
        await tx`delete from idempotency_keys
          where (org_id, owner, key) in (select * from unnest(${orgs}::bigint[], ${who}::text[], ${keys}::text[]))
          and created_at < now() - interval '24 hours'`;
        const claimed = await tx<{ org_id: number; owner: string; key: string }[]>`
          insert into idempotency_keys (org_id, owner, key, request_hash, response)
          select o, w, k, h, 'null'::jsonb
          from unnest(${orgs}::bigint[], ${who}::text[], ${keys}::text[], ${owned.map((p) => p.idempotencyKey!.hash)}::text[]) as t(o, w, k, h)
          order by o, w, k
          on conflict (org_id, owner, key) do nothing returning org_id, owner, key`;
        for (const r of claimed) mine.add(`${r.org_id}\u0000${r.owner}\u0000${r.key}`);
        const taken = owned.filter((p) => !mine.has(keyOf(p)));
        const stored = taken.length ? await tx<{ org_id: number; owner: string; key: string; request_hash: string | null; response: unknown }[]>`
          select org_id, owner, key, request_hash, response from idempotency_keys
          where (org_id, owner, key) in (select * from unnest(${taken.map((p) => p.orgId)}::bigint[],
            ${taken.map((p) => p.idempotencyKey!.owner)}::text[], ${taken.map((p) => p.idempotencyKey!.key)}::text[]))` : [];
        for (const r of stored) found.set(`${r.org_id}\u0000${r.owner}\u0000${r.key}`, r);
        for (const [k, p] of owners) if (mine.has(k)) toInsert.push(p);
      }
      const rows = toInsert.flatMap((p) => p.events.map((e) => toRow(p.orgId, e, p.integrationId)));
      if (rows.length) {
        const ids = await insertWithRouteJobs(tx, rows);
        let i = 0;
        for (const p of toInsert) fresh.set(p, p.events.map(() => ({ event_id: ids[i], dedup_key: rows[i++].dedup_key })));
      }
      const keyRows = toInsert.filter((p) => p.idempotencyKey);
      if (keyRows.length) {
        await tx`
          update idempotency_keys i set response = t.r::jsonb
          from unnest(${keyRows.map((p) => p.orgId)}::bigint[], ${keyRows.map((p) => p.idempotencyKey!.owner)}::text[],
            ${keyRows.map((p) => p.idempotencyKey!.key)}::text[], ${keyRows.map((p) => JSON.stringify(fresh.get(p)))}::text[]) as t(o, w, k, r)
          where i.org_id = t.o and i.owner = t.w and i.key = t.k`;
      }
    });
    this.opts.onAccepted?.([...fresh].reduce((n, [p]) => n + p.events.length, 0));
    for (const p of batch) {
      const own = fresh.get(p);
      if (own) { p.resolve(own); continue; }
      const k = keyOf(p);
      // The key's first request: claimed in this flush (by its first request here), or stored earlier.
      const first = mine.has(k)
        ? { request_hash: owners.get(k)!.idempotencyKey!.hash, response: fresh.get(owners.get(k)!) }
        : found.get(k);
      if (first?.request_hash && first.request_hash !== p.idempotencyKey!.hash) p.reject(keyReused());
      else p.resolve({ replay: first?.response ?? [] });
    }
  }
}

type Row = { org_id: number; category: string; type: string; title: string; severity: string; body: string | null;
  source: string | null; dedup_key: string; action: string; metadata: unknown; entity: unknown; occurred_at: string | null;
  integration_id: number | null };

function toRow(orgId: number, e: EventInput, integrationId: number | null = null): Row {
  return {
    integration_id: integrationId,
    org_id: orgId, category: e.category, type: e.type, title: e.title, severity: e.severity, body: e.body ?? null,
    source: e.source ?? null, dedup_key: dedupKeyFor(e), action: e.action, metadata: e.metadata, entity: e.entity ?? null,
    occurred_at: e.occurred_at ?? null,
  };
}

/**
 * Events written by Herald itself inside a transaction of its own (a heartbeat's missed/resolved event with
 * the monitor's state change): the same statement as the grouped commit, so they are routed like any event.
 */
export async function insertEvents(tx: Sql, orgId: number, events: EventInput[], integrationId: number | null = null): Promise<Accepted[]> {
  const rows = events.map((e) => toRow(orgId, e, integrationId));
  const ids = await insertWithRouteJobs(tx, rows);
  return rows.map((r, i) => ({ event_id: ids[i], dedup_key: r.dedup_key }));
}

/**
 * Inserts the events and one `event__route` job per ROUTE_BATCH of them in a single statement (atomic by
 * itself, or part of the caller's transaction). Ids come back in input order: identity values are drawn
 * in the order json_to_recordset yields the array's elements.
 */
async function insertWithRouteJobs(sql: Sql, rows: Row[]): Promise<number[]> {
  const out = await sql<{ id: number }[]>`
    with ins as (
      insert into events (org_id, category, type, title, severity, body, source, dedup_key, action, metadata, entity, occurred_at, integration_id)
      select org_id, category, type, title, severity, body, source, dedup_key, action, metadata, entity, occurred_at, integration_id
      from json_to_recordset(${JSON.stringify(rows)}::text::json) as t(org_id bigint, category text, type text, title text,
        severity text, body text, source text, dedup_key text, action text, metadata jsonb, entity jsonb, occurred_at timestamptz,
        integration_id bigint)
      returning id
    ), groups as (
      select json_build_object('event_ids', array_agg(id order by id)) as payload
      from (select id, (row_number() over (order by id) - 1) / ${ROUTE_BATCH} as g from ins) x group by g
    ), jobs as (
      select count(*) as n from graphile_worker.add_jobs(array(
        select row(${'event__route' satisfies TaskName}::text, payload, null, null, null, null, null, null)::graphile_worker.job_spec from groups))
    )
    select ins.id from ins, jobs order by ins.id`;
  return out.map((r) => Number(r.id));
}

