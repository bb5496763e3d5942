// One Postgres LISTEN per process and channel, fanned out to in-process subscribers by organisation. Senders
// NOTIFY "<org>:<item>,<org>:<item>…" in the transaction that made the change, so a notification means it is
// committed. Items of orgs nobody here listens to are dropped at once; the rest are gathered for `batchMs` and
// handed to `flush` together (postgres.js multiplexes every listen of a pool on one connection).
import type { Pool } from './sql';

export abstract class OrgChannelHub<Listener> {
  protected subscribers = new Map<number, Set<Listener>>();
  private listening: Promise<void> | null = null;
  private unlisten: (() => Promise<void>) | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(protected sql: Pool, private channel: string, private batchMs: number) {}

  /** Keeps one item of an org someone here listens to until the next flush. */
  protected abstract take(org: number, item: string): void;
  /** Hands what was taken since the last flush to the subscribers. */
  protected abstract flush(): void;

  /** Resolves once this process LISTENs (the first call starts it; a failure lets the next call retry). */
  ready(): Promise<void> {
    this.listening ??= this.sql
      .listen(this.channel, (payload) => this.onNotify(payload))
      .then((l) => { this.unlisten = l.unlisten; })
      .catch((e: Error) => {
        this.listening = null;
        throw e;
      });
    return this.listening;
  }

  subscribe(orgId: number, fn: Listener): () => void {
    let set = this.subscribers.get(orgId);
    if (!set) this.subscribers.set(orgId, (set = new Set()));
    set.add(fn);
    return () => {
      set!.delete(fn);
      if (!set!.size) this.subscribers.delete(orgId);
    };
  }

  get connected(): number {
    let n = 0;
    for (const s of this.subscribers.values()) n += s.size;
    return n;
  }

  private onNotify(payload: string) {
    let took = false;
    for (const part of payload.split(',')) {
      const i = part.indexOf(':');
      const org = Number(part.slice(0, i));
      const item = part.slice(i + 1);
      if (!item || !this.subscribers.has(org)) continue;
      this.take(org, item);
      took = true;
    }
    if (took && !this.timer) this.timer = setTimeout(() => { this.timer = null; this.flush(); }, this.batchMs);
  }

  async stop() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.unlisten?.().catch(() => {});
    this.listening = null;
    this.unlisten = null;
  }
}
