// Herald watches itself: its own trouble becomes ordinary events (category `herald`) posted through the
// normal ingest, which the preset rule "Herald itself" (migration) routes to the admins like any alert.
//
// Conditions (thresholds in the README's Configuration table):
//   herald/queue_stuck      the oldest runnable graphile-worker job waits longer than HERALD_WATCH_QUEUE_AGE_S
//   herald/channel_failing  a channel had HERALD_WATCH_CHANNEL_FAILURES failed sends in 15 minutes and no
//                           success; or a webhook endpoint failed that many times in a row
//   herald/worker_gone      a worker process stopped refreshing its row (no clean stop) for
//                           HERALD_WATCH_WORKER_GONE_S; clears when a worker process started after it vanished
//   herald/disk_full        the embedded cluster's file system is HERALD_WATCH_DISK_PCT% full
//
// Once per incident: a condition's row in self_monitor_state is `open` while it holds; the trigger is posted
// when it opens and a `resolve` (same dedup key) when it clears, each with an idempotency key made from the
// incident number, so a crash between the post and the state change re-posts nothing new. One process at a
// time evaluates (a transaction-scoped advisory lock); every process records its own readiness.
import { statfsSync } from 'node:fs';
import type { Pool, Sql } from '../platform/sql';
import type { EventIngestor } from '../events/ingest';
import type { EventInput } from '../events/schema';
import { log } from '../platform/log';
import { DEFAULT_ORG_ID } from '../model/org';

const WATCH_LOCK = 0x68657277; // 'herw'
const CHANNEL_WINDOW = '15 minutes';

export interface WatchLimits {
  queueAgeS: number;
  channelFailures: number;
  workerGoneS: number;
  diskPct: number;
  /** The embedded cluster's data directory (null with an external database: its disk is not ours to see). */
  diskPath: string | null;
}

/** A condition that holds now. */
export interface Trouble {
  key: string;
  type: 'queue_stuck' | 'channel_failing' | 'worker_gone' | 'disk_full';
  title: string;
  severity: 'warning' | 'error' | 'critical';
  metadata: Record<string, unknown>;
  entity?: { kind: string; id: string; name?: string };
}

/** The oldest runnable job's age and how many wait (the same definition as /metrics). */
export async function queueState(sql: Sql): Promise<{ depth: number; oldest_s: number }> {
  const [q] = await sql<{ depth: number; oldest: number | null }[]>`
    select count(*)::int as depth,
      extract(epoch from now() - min(run_at))::float8 as oldest
    from graphile_worker._private_jobs
    where run_at <= now() and locked_at is null and attempts < max_attempts`;
  return { depth: q.depth, oldest_s: q.oldest ?? 0 };
}

export function diskUsage(path: string): { used_pct: number; free_bytes: number; total_bytes: number } {
  const s = statfsSync(path);
  const total = s.blocks * s.bsize;
  const free = s.bavail * s.bsize;
  // "Used" as df shows it: blocks not available to an unprivileged writer.
  return { used_pct: total ? Math.round(((total - free) / total) * 1000) / 10 : 0, free_bytes: free, total_bytes: total };
}

/** Everything wrong now. */
export async function findTrouble(sql: Sql, l: WatchLimits): Promise<Trouble[]> {
  const out: Trouble[] = [];
  const q = await queueState(sql);
  if (q.depth > 0 && q.oldest_s > l.queueAgeS) {
    out.push({
      key: 'queue', type: 'queue_stuck', severity: 'critical',
      title: `Herald's job queue is stuck: the oldest runnable job has waited ${Math.round(q.oldest_s)} s (${q.depth} waiting)`,
      metadata: { oldest_runnable_age_s: Math.round(q.oldest_s), depth: q.depth, limit_s: l.queueAgeS },
    });
  }
  const channels = await sql<{ channel: string; failed: number; ok: number; last_error: string | null }[]>`
    select channel,
      count(*) filter (where status in ('failed', 'failed_temp'))::int as failed,
      count(*) filter (where status in ('sent', 'delivered'))::int as ok,
      (array_agg(last_error order by updated_at desc) filter (where last_error is not null))[1] as last_error
    from messages where updated_at > now() - ${CHANNEL_WINDOW}::interval
    group by channel`;
  for (const c of channels) {
    if (c.failed >= l.channelFailures && c.ok === 0) {
      out.push({
        key: `channel:${c.channel}`, type: 'channel_failing', severity: 'error',
        entity: { kind: 'channel', id: c.channel },
        title: `Channel ${c.channel} is failing: ${c.failed} failed sends in ${CHANNEL_WINDOW}, none got through`,
        metadata: { channel: c.channel, failed: c.failed, window: CHANNEL_WINDOW, last_error: c.last_error?.slice(0, 500) ?? null },
      });
    }
  }
  const hooks = await sql<{ id: number; url: string; failure_streak: number }[]>`
    select id, url, failure_streak from webhooks where enabled and failure_streak >= ${l.channelFailures}`;
  for (const w of hooks) {
    out.push({
      key: `webhook:${w.id}`, type: 'channel_failing', severity: 'error',
      entity: { kind: 'webhook', id: String(w.id), name: new URL(w.url).host },
      title: `Webhook ${w.id} (${new URL(w.url).host}) is failing: ${w.failure_streak} failed deliveries in a row`,
      metadata: { webhook_id: w.id, failure_streak: w.failure_streak },
    });
  }
  const gone = await sql<{ id: string; host: string; pid: number; seen_at: Date }[]>`
    select p.id, p.host, p.pid, p.seen_at from herald_processes p
    where 'worker' = any(p.roles) and p.stopped_at is null and p.seen_at < now() - make_interval(secs => ${l.workerGoneS})
      and p.seen_at > now() - interval '1 day'
      and not exists (select 1 from herald_processes n where 'worker' = any(n.roles) and n.started_at > p.seen_at
        and n.stopped_at is null and n.seen_at > now() - make_interval(secs => ${l.workerGoneS}))`;
  for (const g of gone) {
    out.push({
      key: `worker:${g.id}`, type: 'worker_gone', severity: 'error',
      entity: { kind: 'process', id: g.id, name: `${g.host} pid ${g.pid}` },
      title: `A Herald worker is gone: ${g.host} pid ${g.pid} last seen ${g.seen_at.toISOString()}`,
      metadata: { process: g.id, host: g.host, pid: g.pid, last_seen: g.seen_at.toISOString() },
    });
  }
  if (l.diskPath) {
    try {
      const d = diskUsage(l.diskPath);
      if (d.used_pct >= l.diskPct) {
        out.push({
          key: 'disk', type: 'disk_full', severity: 'critical',
          title: `The embedded database's disk is ${d.used_pct}% full (${Math.round(d.free_bytes / 1048576)} MiB free)`,
          metadata: { ...d, path: l.diskPath, limit_pct: l.diskPct },
        });
      }
    } catch (e) { log.warn('disk check failed', { error: (e as Error).message }); }
  }
  return out;
}

interface StateRow { key: string; open: boolean; seq: number; detail: Record<string, unknown> }

const CLEARED: Record<Trouble['type'], string> = {
  queue_stuck: 'Herald\'s job queue is moving again',
  channel_failing: 'is delivering again',
  worker_gone: 'A worker process took over',
  disk_full: 'The embedded database\'s disk has room again',
};

/**
 * One evaluation: opens incidents for new trouble, resolves those that cleared. Returns what changed.
 * Only one process evaluates at a time (the others return at once).
 */
export async function watchOnce(sql: Pool, ing: EventIngestor, l: WatchLimits): Promise<{ opened: string[]; resolved: string[] } | null> {
  return sql.begin(async (tx) => {
    const [{ got }] = await tx<{ got: boolean }[]>`select pg_try_advisory_xact_lock(${WATCH_LOCK}) as got`;
    if (!got) return null;
    const trouble = await findTrouble(tx, l);
    const states = new Map((await tx<StateRow[]>`select key, open, seq, detail from self_monitor_state`).map((s) => [s.key, s]));
    const opened: string[] = [];
    const resolved: string[] = [];
    for (const t of trouble) {
      const s = states.get(t.key);
      if (s?.open) continue;
      const seq = (s?.seq ?? 0) + 1;
      await post(sql, ing, {
        category: 'herald', type: t.type, action: 'trigger', dedup_key: `herald/${t.key}`, severity: t.severity,
        title: t.title.slice(0, 500), source: 'herald', metadata: { ...t.metadata, condition: t.key }, ...(t.entity ? { entity: t.entity } : {}),
      } as EventInput, `herald-${t.key}-${seq}-open`);
      await tx`
        insert into self_monitor_state (key, open, seq, detail, changed_at) values (${t.key}, true, ${seq}, ${tx.json({ type: t.type, entity: t.entity ?? null } as never)}, now())
        on conflict (key) do update set open = true, seq = ${seq}, detail = excluded.detail, changed_at = now()`;
      opened.push(t.key);
    }
    const now = new Set(trouble.map((t) => t.key));
    for (const s of states.values()) {
      if (!s.open || now.has(s.key)) continue;
      const type = (s.detail.type as Trouble['type']) ?? 'queue_stuck';
      const entity = (s.detail.entity as Trouble['entity'] | null) ?? undefined;
      const title = type === 'channel_failing' ? `${entity?.kind === 'webhook' ? 'Webhook' : 'Channel'} ${entity?.id ?? s.key} ${CLEARED[type]}` : CLEARED[type];
      await post(sql, ing, {
        category: 'herald', type, action: 'resolve', dedup_key: `herald/${s.key}`, severity: 'info', title, source: 'herald',
        metadata: { condition: s.key }, ...(entity ? { entity } : {}),
      } as EventInput, `herald-${s.key}-${s.seq}-clear`);
      await tx`update self_monitor_state set open = false, changed_at = now() where key = ${s.key}`;
      resolved.push(s.key);
    }
    if (opened.length || resolved.length) log.warn('herald self-monitoring', { opened, resolved });
    return { opened, resolved };
  }) as Promise<{ opened: string[]; resolved: string[] } | null>;
}

/**
 * Posts through the normal ingest (idempotent on the key), then moves the event's routing job to the front
 * of the queue: when the trouble is a backed-up queue, the alert about it must not wait behind the backlog.
 */
async function post(sql: Pool, ing: EventIngestor, e: EventInput, key: string) {
  const r = await ing.accept(DEFAULT_ORG_ID, [e], { key, owner: 'system:herald-watch', hash: key });
  if (!Array.isArray(r)) return;
  const id = r[0].event_id;
  await sql`
    update graphile_worker._private_jobs set priority = -100
    where locked_at is null and task_id = (select id from graphile_worker._private_tasks where identifier = 'event__route')
      and payload::jsonb -> 'event_ids' @> to_jsonb(${id}::bigint)`.catch((err: Error) => log.warn('could not move the herald event first', { error: err.message }));
}
