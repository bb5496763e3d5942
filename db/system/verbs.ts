// The System page's one read (GET /v1/system): processes, uptime, the readiness history, open incidents
// of Herald's own trouble and the queue. Needs `audit:read` (it is the operator's audit of Herald itself).
import type { Herald } from '../herald';
import { require, type Actor } from '../actor';
import { hourlyReadiness, listProcesses, recentChecks, uptimeSince } from './processes';
import { queueState } from './watch';
import { retentionSettings } from './retention';

const DAY = 86_400_000;

export async function systemStatusVerb(h: Herald, actor: Actor) {
  require(actor, 'audit:read');
  const now = Date.now();
  const [processes, day, week, hourly, checks, failures, incidents, queue] = await Promise.all([
    listProcesses(h.sql, new Date(now - DAY)),
    uptimeSince(h.sql, new Date(now - DAY)),
    uptimeSince(h.sql, new Date(now - 7 * DAY)),
    hourlyReadiness(h.sql, 24),
    recentChecks(h.sql, 30),
    recentChecks(h.sql, 20, true),
    h.sql<{ key: string; open: boolean; seq: number; detail: unknown; changed_at: Date }[]>`
      select key, open, seq, detail, changed_at from self_monitor_state order by open desc, changed_at desc limit 50`,
    queueState(h.sql),
  ]);
  const liveAfter = now - Math.max(3, 3 * h.config.HERALD_WATCH_INTERVAL_S) * 1000;
  return {
    now: new Date(now).toISOString(),
    processes: processes.map((p) => ({
      ...p, state: p.stopped_at ? 'stopped' : p.seen_at.getTime() >= liveAfter ? 'alive' : 'silent',
      uptime_s: Math.round(((p.stopped_at ?? new Date(now)).getTime() - p.started_at.getTime()) / 1000),
    })),
    uptime: { last_24h: day, last_7d: week },
    hourly,
    checks,
    failures,
    incidents,
    queue,
    retention: retentionSettings(h.config),
  };
}
