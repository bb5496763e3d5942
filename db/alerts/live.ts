// Live alert changes for open views (the PWA's server-sent events). Every transition notifies
// `herald_alert` with "<org>:<id>,<org>:<id>…" in the transaction that made it (see effects.ts), so the
// notification arrives only once the change is committed, from whichever process made it.
//
// One LISTEN connection per process (postgres.js multiplexes every listen of a pool on one connection),
// however many browsers are connected: notifications are collected for a few milliseconds, the changed
// alerts are read in one query, and each subscriber of the alert's org receives its AlertView. Nothing is
// read while nobody of that org is connected.
import type { Pool } from '../platform/sql';
import type { Config } from '../platform/config';
import { ALERT_CHANNEL } from '../model/alert';
import { toAlertView } from '../model/alert';
import { type AlertRow, type AlertView } from '../model/alert';
import { sopCheckedMany } from '../sop/progress';
import { log } from '../platform/log';
import { OrgChannelHub } from '../platform/org-channel';

/** What a live view receives: the alert as the API returns it, plus its SOP ticks. */
export type LiveAlert = AlertView & { sop_progress: { checked: number[] } };
export type LiveListener = (alert: LiveAlert) => void;

const BATCH_MS = 15;
const MAX_IDS_PER_QUERY = 1000;

export class AlertHub extends OrgChannelHub<LiveListener> {
  private pending = new Set<number>();
  private flushing: Promise<void> = Promise.resolve();

  constructor(sql: Pool, private config: Pick<Config, 'publicUrl'>) {
    super(sql, ALERT_CHANNEL, BATCH_MS);
  }

  protected take(_org: number, item: string) {
    const id = Number(item);
    if (Number.isSafeInteger(id) && id > 0) this.pending.add(id);
  }

  protected flush() {
    const ids = [...this.pending];
    this.pending.clear();
    if (!ids.length) return;
    // One read at a time, in order: a later flush never overtakes an earlier one.
    this.flushing = this.flushing.then(() => this.deliver(ids)).catch((e: Error) => log.warn('live alert delivery failed', { error: e.message }));
  }

  private async deliver(ids: number[]) {
    for (let i = 0; i < ids.length; i += MAX_IDS_PER_QUERY) {
      const chunk = ids.slice(i, i + MAX_IDS_PER_QUERY);
      const rows = await this.sql<AlertRow[]>`select * from alerts where id = any(${chunk}::bigint[])`;
      // Ticks only for alerts someone still listens to (they may have disconnected while the batch waited).
      const wanted = rows.filter((row) => this.subscribers.get(Number(row.org_id))?.size);
      if (!wanted.length) continue;
      const ticks = await sopCheckedMany(this.sql, wanted.map((row) => Number(row.id)));
      for (const row of wanted) {
        const subs = this.subscribers.get(Number(row.org_id));
        if (!subs?.size) continue;
        const view: LiveAlert = { ...toAlertView(row, this.config.publicUrl), sop_progress: { checked: ticks.get(Number(row.id)) ?? [] } };
        for (const fn of subs) {
          try {
            fn(view);
          } catch (e) {
            log.warn('live alert listener failed', { error: (e as Error).message });
          }
        }
      }
    }
  }
}

const hubs = new WeakMap<Pool, AlertHub>();

/** The process's hub for this database (one per pool, so several Heralds in one process stay apart). */
export function alertHub(sql: Pool, config: Pick<Config, 'publicUrl'>): AlertHub {
  let hub = hubs.get(sql);
  if (!hub) hubs.set(sql, (hub = new AlertHub(sql, config)));
  return hub;
}
