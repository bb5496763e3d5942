// API key usage per day and status class, and where each key was last used from, counted off the request's path:
// a request adds to an in-process map (a few hash lookups); every HERALD_USAGE_FLUSH_MS the map is written in one
// statement per table (an upsert adding the counts). A crash loses at most the counts of the last flush interval
// (2 s by default) in that process; a stop flushes them.
import type { Pool } from '../platform/sql';
import { log } from '../platform/log';

const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

export class ApiKeyUsage {
  /** `${keyId}|${day}|${class}` → requests since the last flush. */
  private counts = new Map<string, number>();
  /** keyId → last use (time, address) since the last flush. */
  private lastUse = new Map<number, { at: number; address: string | null }>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;

  constructor(private readonly sql: Pool, private readonly flushMs: number) {}

  start() {
    if (this.timer) return;
    this.timer = setInterval(() => { void this.flush(); }, this.flushMs);
    this.timer.unref();
  }

  async stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }

  record(keyId: number, status: number, address: string | null, now = Date.now()) {
    const day = new Date(now).toISOString().slice(0, 10);
    const cls = CLASSES[Math.min(4, Math.max(0, Math.floor(status / 100) - 1))];
    const k = `${keyId}|${day}|${cls}`;
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
    this.lastUse.set(keyId, { at: now, address });
  }

  flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => this.flush());
    if (!this.counts.size && !this.lastUse.size) return Promise.resolve();
    const counts = this.counts;
    const lastUse = this.lastUse;
    this.counts = new Map();
    this.lastUse = new Map();
    this.flushing = this.write(counts, lastUse)
      .catch((e) => {
        log.warn('API key usage could not be written; kept for the next flush', { error: (e as Error).message });
        for (const [k, n] of counts) this.counts.set(k, (this.counts.get(k) ?? 0) + n);
        for (const [id, u] of lastUse) if (!this.lastUse.has(id)) this.lastUse.set(id, u);
      })
      .finally(() => { this.flushing = null; });
    return this.flushing;
  }

  private async write(counts: Map<string, number>, lastUse: Map<number, { at: number; address: string | null }>) {
    if (counts.size) {
      const ids: number[] = [], days: string[] = [], classes: string[] = [], ns: number[] = [];
      for (const [k, n] of counts) {
        const [id, day, cls] = k.split('|');
        ids.push(Number(id)); days.push(day); classes.push(cls); ns.push(n);
      }
      // Keys deleted meanwhile are skipped (the join), not an error.
      await this.sql`
        insert into api_key_usage (key_id, day, status_class, requests)
        select u.key_id, u.day, u.cls, u.n
        from unnest(${ids}::bigint[], ${days}::date[], ${classes}::text[], ${ns}::bigint[]) as u(key_id, day, cls, n)
        join api_keys k on k.id = u.key_id
        on conflict (key_id, day, status_class) do update set requests = api_key_usage.requests + excluded.requests`;
    }
    if (lastUse.size) {
      const ids: number[] = [], ats: string[] = [], addrs: (string | null)[] = [];
      for (const [id, u] of lastUse) { ids.push(id); ats.push(new Date(u.at).toISOString()); addrs.push(u.address); }
      await this.sql`
        update api_keys k set last_used_at = greatest(k.last_used_at, u.at), last_used_address = coalesce(u.address, k.last_used_address)
        from unnest(${ids}::bigint[], ${ats}::timestamptz[], ${addrs}::text[]) as u(id, at, address)
        where k.id = u.id`;
    }
  }
}
