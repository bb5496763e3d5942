// Rate limits that hold across processes: counts per calendar minute kept in Postgres by rate-limiter-flexible's
// RateLimiterPostgres (the `rate_limits` table), with an in-process layer in front so that a check costs no
// database round trip on the hot path (POST /v1/events).
//
// How a check works (README "Rate limits"):
// - the first request of a key in a minute consumes one point in Postgres and waits for it (exact, so a second
//   process sees at once what the first one counted);
// - the following requests of that minute are counted in memory against `global count at the last sync +
//   local count since` and answered at once;
// - every HERALD_RATE_LIMIT_SYNC_MS the local counts are added to Postgres in one consume per key used this
//   minute (zero points when nothing new), which returns the global count.
// So a limit can be overshot by what the *other* processes accept between two syncs (their rate × the sync
// interval) and never by this process alone. When Postgres is unreachable the limiter fails open (counts
// locally) and logs it: a database hiccup must not turn into 429s for everyone.
//
// rate-limiter-flexible's Postgres store speaks node-postgres (`pg` Pool/Client), Knex, Sequelize or TypeORM, not
// postgres.js, so the limiter gets its own small `pg` pool (2 connections; `pg` is already installed for
// graphile-worker).
import pg from 'pg';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import { log } from '../platform/log';

export interface LimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the current calendar minute ends (when the count starts again). */
  reset: number;
}

/** synced: the global count Postgres last returned; inflight: local requests being added now; pending: since. */
interface Entry { minute: number; limit: number; synced: number; inflight: number; pending: number; first?: Promise<void> }

const MINUTE_MS = 60_000;

export class MinuteLimiter {
  private readonly pool: pg.Pool;
  private readonly stores = new Map<number, RateLimiterPostgres>();
  private readonly entries = new Map<string, Entry>();
  private timer: NodeJS.Timeout | null = null;
  private syncing: Promise<void> | null = null;
  private lastCleanup = 0;
  /** For tests and the bench: the clock. */
  now: () => number = Date.now;

  constructor(databaseUrl: string, private readonly syncMs: number) {
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: 2, idleTimeoutMillis: 30_000, application_name: 'herald-ratelimit' });
    this.pool.on('error', (e) => log.warn('rate limit store connection error', { error: e.message }));
  }

  start() {
    if (this.timer) return;
    this.timer = setInterval(() => { void this.sync(); }, this.syncMs);
    this.timer.unref();
    // Connect now, so that the first request of a minute does not also wait for a connection.
    this.pool.query('select 1').catch(() => {});
  }

  async stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.sync().catch(() => {});
    await this.pool.end().catch(() => {});
  }

  /** One rate-limiter-flexible store per distinct limit (points), all on the one table. */
  private store(limit: number): RateLimiterPostgres {
    let s = this.stores.get(limit);
    if (!s) {
      s = new RateLimiterPostgres({
        storeClient: this.pool, storeType: 'pool', tableName: 'rate_limits', tableCreated: true,
        clearExpiredByTimeout: false, keyPrefix: 'rl', points: limit, duration: 60,
      });
      this.stores.set(limit, s);
    }
    return s;
  }

  /** Adds `n` points to `key` in the minute in Postgres; returns the global count (or null when the store failed). */
  private async consume(key: string, minute: number, limit: number, n: number): Promise<number | null> {
    try {
      const r = await this.store(limit).consume(`${key}@${minute}`, n);
      return r.consumedPoints;
    } catch (e) {
      if (e instanceof RateLimiterRes) return e.consumedPoints; // over the limit: the points are counted anyway
      log.warn('rate limit store unavailable; counting in this process only', { error: (e as Error).message });
      return null;
    }
  }

  /**
   * Counts one request of `key` against `limit` per calendar minute. Synchronous (a returned decision) on the hot
   * path; a promise only for the first request of a key in a minute in this process (unless `optimistic`).
   */
  check(key: string, limit: number, o: { optimistic?: boolean } = {}): LimitDecision | Promise<LimitDecision> {
    const now = this.now();
    const minute = Math.floor(now / MINUTE_MS);
    let e = this.entries.get(key);
    if (!e || e.minute !== minute) {
      // The last minute's unsynced counts still go to its row (for the record; they limit nothing any more).
      if (e && !e.first && e.pending) void this.consume(key, e.minute, e.limit, e.pending);
      const fresh: Entry = { minute, limit, synced: 0, inflight: 0, pending: 0 };
      this.entries.set(key, fresh);
      // Optimistic (the generous provider limits): never wait; the first sync brings the other processes' count.
      if (o.optimistic) return this.decide(fresh, now, false);
      fresh.first = this.consume(key, minute, limit, 1).then((total) => { fresh.synced = total ?? fresh.synced + 1; fresh.first = undefined; });
      return fresh.first.then(() => this.decide(fresh, now, true));
    }
    if (e.first) return e.first.then(() => this.check(key, limit));
    e.limit = limit;
    return this.decide(e, now, false);
  }

  private decide(e: Entry, now: number, counted: boolean): LimitDecision {
    const used = e.synced + e.inflight + e.pending + (counted ? 0 : 1);
    const reset = Math.max(1, Math.ceil(((e.minute + 1) * MINUTE_MS - now) / 1000));
    if (used > e.limit) return { allowed: false, limit: e.limit, remaining: 0, reset };
    if (!counted) e.pending++;
    return { allowed: true, limit: e.limit, remaining: Math.max(0, e.limit - used), reset };
  }

  /**
   * Pushes local counts to Postgres and reads back the global ones. Never runs twice at once: a call during a
   * sync waits for it and then syncs again, so it covers every count made before the call.
   */
  sync(): Promise<void> {
    if (this.syncing) return this.syncing.then(() => this.sync());
    this.syncing = this.doSync().finally(() => { this.syncing = null; });
    return this.syncing;
  }

  private async doSync() {
    const minute = Math.floor(this.now() / MINUTE_MS);
    const work: Promise<void>[] = [];
    for (const [key, e] of this.entries) {
      if (e.minute !== minute) { if (!e.pending) { this.entries.delete(key); continue; } }
      if (e.first) continue;
      const n = e.pending;
      e.pending = 0;
      e.inflight = n;
      work.push(this.consume(key, e.minute, e.limit, n).then((total) => {
        e.inflight = 0;
        if (total === null) e.pending += n; // retried next time
        else e.synced = total;
        if (e.minute !== minute && !e.pending) this.entries.delete(key);
      }));
    }
    await Promise.all(work);
    if (this.now() - this.lastCleanup > 5 * MINUTE_MS) {
      this.lastCleanup = this.now();
      await this.pool.query('delete from rate_limits where expire < $1', [this.now()]).catch(() => {});
    }
  }
}

/** The draft IETF headers (draft-ietf-httpapi-ratelimit-headers): the policy and the current state of one limit. */
export function rateLimitHeaders(d: LimitDecision, policy: string): Record<string, string> {
  return {
    'RateLimit-Policy': `"${policy}";q=${d.limit};w=60`,
    RateLimit: `"${policy}";r=${d.remaining};t=${d.reset}`,
  };
}
