// Live metric changes for open dashboards (the PWA's server-sent events). The rollup job notifies
// `herald_metric` with "<org>:<key>,…" in the transaction that moved the numbers (db/metrics/rollup.ts), so a
// notification means the new figures are committed and readable.
//
// Keys are gathered for COALESCE_MS per org (db/platform/org-channel.ts) and handed to that org's subscribers
// together, so a burst of events becomes one reload.
import type { Pool } from '../platform/sql';
import { METRIC_CHANNEL } from '../model/metric-live';
import { log } from '../platform/log';
import { OrgChannelHub } from '../platform/org-channel';

export type MetricListener = (keys: string[]) => void;

const COALESCE_MS = 250;

export class MetricHub extends OrgChannelHub<MetricListener> {
  private pending = new Map<number, Set<string>>();

  constructor(sql: Pool) {
    super(sql, METRIC_CHANNEL, COALESCE_MS);
  }

  protected take(org: number, key: string) {
    let keys = this.pending.get(org);
    if (!keys) this.pending.set(org, (keys = new Set()));
    keys.add(key);
  }

  protected flush() {
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
}

const hubs = new WeakMap<Pool, MetricHub>();

/** The process's hub for this database (one per pool, so several Heralds in one process stay apart). */
export function metricHub(sql: Pool): MetricHub {
  let hub = hubs.get(sql);
  if (!hub) hubs.set(sql, (hub = new MetricHub(sql)));
  return hub;
}
