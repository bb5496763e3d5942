// Live metric changes for open dashboards (the PWA's server-sent events). The rollup job notifies
// `herald_metric` with "<org>:<key>,…" in the transaction that moved the numbers (db/metrics/rollup.ts), so a
// notification means the new figures are committed and readable.
//
// One LISTEN per process (postgres.js multiplexes listens on one connection). Keys are gathered for
// COALESCE_MS per org and handed to that org's subscribers together, so a burst of events becomes one reload.
import type { Pool } from '../platform/sql';
import { METRIC_CHANNEL } from '../model/metric-live';
import { log } from '../platform/log';

export type MetricListener = (keys: string[]) => void;

const COALESCE_MS = 250;

export class MetricHub {
  private subscribers = new Map<number, Set<MetricListener>>();
  private listening: Promise<void> | null = null;
  private unlisten: (() => Promise<void>) | null = null;
  private pending = new Map<number, Set<string>>();
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private sql: Pool) {}

  /** Resolves once this process LISTENs (the first call starts it; a failure lets the next call retry). */
  ready(): Promise<void> {
    this.listening ??= this.sql
      .listen(METRIC_CHANNEL, (payload) => this.onNotify(payload))
      .then((l) => { this.unlisten = l.unlisten; })
      .catch((e: Error) => {
        this.listening = null;
        throw e;
      });
    return this.listening;
  }

  subscribe(orgId: number, fn: MetricListener): () => void {
    let set = this.subscribers.get(orgId);
    if (!set) this.subscribers.set(orgId, (set = new Set()));
    set.add(fn);
    return () => {
      set!.delete(fn);
      if (!set!.size) this.subscribers.delete(orgId);
    };
  }

  private onNotify(payload: string) {
    for (const part of payload.split(',')) {
      const i = part.indexOf(':');
      const org = Number(part.slice(0, i));
      const key = part.slice(i + 1);
      if (!key || !this.subscribers.has(org)) continue;
      let keys = this.pending.get(org);
      if (!keys) this.pending.set(org, (keys = new Set()));
      keys.add(key);
    }
    if (this.pending.size && !this.timer) this.timer = setTimeout(() => this.flush(), COALESCE_MS);
  }

  private flush() {
    this.timer = null;
    const batch = [...this.pending];
    this.pending.clear();
    for (const [org, keys] of batch) {
      for (const fn of this.subscribers.get(org) ?? []) {
        try {
          fn([...keys]);
        } catch (e) {
          log.warn('live metric listener failed', { error: (e as Error).message });
        }
      }
    }
  }

  async stop() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.unlisten?.().catch(() => {});
    this.listening = null;
    this.unlisten = null;
  }
}

const hubs = new WeakMap<Pool, MetricHub>();

/** The process's hub for this database (one per pool, so several Heralds in one process stay apart). */
export function metricHub(sql: Pool): MetricHub {
  let hub = hubs.get(sql);
  if (!hub) hubs.set(sql, (hub = new MetricHub(sql)));
  return hub;
}
