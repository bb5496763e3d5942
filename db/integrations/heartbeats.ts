// Heartbeat monitors: something (a cron job, a backup script) pings a URL at least every interval; a missed
// ping (no ping for interval + grace) posts a `missed` event in the monitor's category (default `heartbeat`,
// hence `heartbeat/missed`) with the monitor as entity; the next ping posts the resolve.
//
// Invariant: each monitor has exactly one timer, the keyed graphile-worker job `heartbeat__check` due at
// `due_at`; a ping replaces it (same key) in the transaction that records the ping, so a thousand monitors
// cost a thousand idle rows between pings, and nothing polls. The missed event and the state change commit
// together (and so do the ping and its resolve event), through the same insert as every event
// (db/events/ingest.ts `insertEvents`), so they are routed like any event.
import { z } from 'zod';
import type { Herald } from '../herald';
import type { Sql } from '../platform/sql';
import { require, type Actor } from '../actor';
import { notFound, parse } from '../errors';
import { addJobs, job } from '../jobs/enqueue';
import { insertEvents } from '../events/ingest';
import { recordAudit } from '../audit/record';
import { deleteIntegration, endpointFor, heartbeatJobKey, insertIntegration, integrationByKey, rotateIntegrationKey, slug } from './repo';

const DAY = 86_400;

export const HeartbeatInputSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    interval_seconds: z.number().int().min(1).max(366 * DAY),
    grace_seconds: z.number().int().min(0).max(30 * DAY).default(0),
    category: slug.default('heartbeat'),
  })
  .strict();

export const HeartbeatPatchSchema = z
  .object({
    name: z.string().trim().min(1).max(200), interval_seconds: z.number().int().min(1).max(366 * DAY),
    grace_seconds: z.number().int().min(0).max(30 * DAY), category: slug,
  })
  .partial()
  .strict();

export const MISSED_TYPE = 'missed';
export const heartbeatDedupKey = (id: number) => `heartbeat:${id}:missed`;

interface Row {
  id: number; org_id: number; name: string; category: string; key_prefix: string; interval_seconds: number; grace_seconds: number;
  state: 'new' | 'up' | 'down'; last_ping_at: Date | null; due_at: Date; missed_at: Date | null; last_event_at: Date | null; created_at: Date;
}

const view = (r: Row) => ({
  id: Number(r.id), name: r.name, category: r.category, interval_seconds: r.interval_seconds, grace_seconds: r.grace_seconds,
  state: r.state, last_ping_at: r.last_ping_at?.toISOString() ?? null, due_at: r.due_at.toISOString(),
  missed_at: r.missed_at?.toISOString() ?? null, key_prefix: r.key_prefix, created_at: r.created_at.toISOString(),
});

const select = (sql: Sql, orgId: number, id: number | null, lock = false) => sql<Row[]>`
  select i.id, i.org_id, i.name, i.category, i.key_prefix, i.last_event_at, i.created_at,
    b.interval_seconds, b.grace_seconds, b.state, b.last_ping_at, b.due_at, b.missed_at
  from heartbeats b join integrations i on i.id = b.id
  where i.org_id = ${orgId} and (${id}::bigint is null or b.id = ${id}) order by i.id
  ${lock ? sql`for update of b` : sql``}`;

/** The monitor's timer, due at `due_at` (replaces the pending one: same key). */
const timer = (id: number, due: Date) => job('heartbeat__check', { heartbeat_id: id }, { run_at: due });

/**
 * POST /v1/heartbeats. The timer starts now: a monitor that is never pinged is missed after its first
 * interval + grace (a cron job that never ran is what it exists to catch).
 */
export async function createHeartbeat(h: Herald, actor: Actor, input: unknown) {
  require(actor, 'integrations:write');
  const b = parse(HeartbeatInputSchema, input);
  return h.sql.begin(async (tx) => {
    const { row, key } = await insertIntegration(tx, actor.orgId, { name: b.name, kind: 'heartbeat', category: b.category, defaults: {} });
    const [hb] = await tx<{ due_at: Date }[]>`
      insert into heartbeats (id, org_id, interval_seconds, grace_seconds, due_at)
      values (${row.id}, ${actor.orgId}, ${b.interval_seconds}, ${b.grace_seconds}, now() + make_interval(secs => ${b.interval_seconds + b.grace_seconds}))
      returning due_at`;
    await addJobs(tx, [timer(Number(row.id), hb.due_at)]);
    const [full] = await select(tx, actor.orgId, Number(row.id));
    await recordAudit(tx, actor, 'heartbeat.created', { kind: 'heartbeat', id: Number(row.id), label: full.name }, { after: view(full) });
    return { ...view(full), key, ping_url: endpointFor(h.config.publicUrl, 'heartbeat', key).url };
  });
}

export async function listHeartbeats(h: Herald, actor: Actor) {
  require(actor, 'integrations:write');
  return (await select(h.sql, actor.orgId, null)).map(view);
}

export async function getHeartbeat(h: Herald, actor: Actor, id: number) {
  require(actor, 'integrations:write');
  const [r] = await select(h.sql, actor.orgId, id);
  if (!r) throw notFound(`Heartbeat ${id}`);
  return view(r);
}

/** A new interval or grace moves the timer: due at the last ping (or creation) + interval + grace. */
export async function updateHeartbeat(h: Herald, actor: Actor, id: number, input: unknown) {
  require(actor, 'integrations:write');
  const p = parse(HeartbeatPatchSchema, input);
  return h.sql.begin(async (tx) => {
    const [cur] = await select(tx, actor.orgId, id, true);
    if (!cur) throw notFound(`Heartbeat ${id}`);
    await tx`update integrations set name = coalesce(${p.name ?? null}, name), category = coalesce(${p.category ?? null}, category),
      updated_at = now() where id = ${id}`;
    await tx`
      update heartbeats set interval_seconds = coalesce(${p.interval_seconds ?? null}, interval_seconds),
        grace_seconds = coalesce(${p.grace_seconds ?? null}, grace_seconds)
      where id = ${id}`;
    if (p.interval_seconds !== undefined || p.grace_seconds !== undefined) {
      const [u] = await tx<{ due_at: Date }[]>`
        update heartbeats set due_at = coalesce(last_ping_at, ${cur.created_at}) + make_interval(secs => interval_seconds + grace_seconds)
        where id = ${id} returning due_at`;
      if (cur.state !== 'down') await addJobs(tx, [timer(id, u.due_at)]);
    }
    const [r] = await select(tx, actor.orgId, id);
    await recordAudit(tx, actor, 'heartbeat.updated', { kind: 'heartbeat', id, label: r.name }, { before: view(cur), after: view(r) });
    return view(r);
  });
}

export async function deleteHeartbeat(h: Herald, actor: Actor, id: number) {
  await deleteIntegration(h, actor, id, 'heartbeat');
}

export async function rotateHeartbeatKey(h: Herald, actor: Actor, id: number) {
  await getHeartbeat(h, actor, id);
  const r = await rotateIntegrationKey(h, actor, id);
  return { id: r.id, key: r.key, key_prefix: r.key_prefix, ping_url: r.url };
}

/**
 * GET|POST the ping URL: the timer moves to now + interval + grace; a monitor that was down posts the
 * resolve of its missed alert in the same transaction. Unknown key: 404.
 */
export async function ping(h: Herald, key: string) {
  const integ = await integrationByKey(h.sql, key, 'heartbeat');
  if (!integ) throw notFound('The heartbeat for this ping URL');
  return h.sql.begin(async (tx) => {
    const [cur] = await select(tx, integ.org_id, integ.id, true);
    if (!cur) throw notFound('The heartbeat for this ping URL');
    const [b] = await tx<{ due_at: Date }[]>`
      update heartbeats set last_ping_at = now(), state = 'up', missed_at = null,
        due_at = now() + make_interval(secs => interval_seconds + grace_seconds)
      where id = ${cur.id} returning due_at`;
    await tx`update integrations set last_event_at = now() where id = ${cur.id}`;
    await addJobs(tx, [timer(Number(cur.id), b.due_at)]);
    if (cur.state === 'down') {
      await insertEvents(tx, integ.org_id, [{
        category: cur.category, type: MISSED_TYPE, title: `Heartbeat "${cur.name}" pinged again`, severity: 'info',
        source: 'heartbeat', dedup_key: heartbeatDedupKey(Number(cur.id)), action: 'resolve', metadata: { heartbeat_id: Number(cur.id) },
        entity: { kind: 'heartbeat', id: String(cur.id), name: cur.name.slice(0, 200) }, occurred_at: null, body: null,
      }], Number(cur.id));
    }
    return { status: 'ok', state: 'up', was: cur.state, next_due_at: b.due_at.toISOString() };
  });
}

const human = (s: number) => (s % 3600 === 0 && s >= 3600 ? `${s / 3600} h` : s % 60 === 0 && s >= 60 ? `${s / 60} min` : `${s} s`);

/**
 * The timer fired (jobs/heartbeat__check.ts). Stale when a ping moved `due_at` past now, or the monitor is
 * already down (its alert is open) or gone: then nothing happens.
 */
export async function checkHeartbeat(h: Herald, id: number): Promise<'missed' | 'stale'> {
  return h.sql.begin(async (tx) => {
    // Settled in the WHERE (database clock): not yet due (a ping moved it), already down, or gone → stale.
    const [cur] = await tx<(Row & { org_id: number })[]>`
      update heartbeats b set state = 'down', missed_at = now()
      from integrations i
      where b.id = ${id} and i.id = b.id and b.state <> 'down' and b.due_at <= now()
      returning i.id, i.org_id, i.name, i.category, b.interval_seconds, b.grace_seconds, b.last_ping_at, b.due_at`;
    if (!cur) return 'stale';
    const since = cur.last_ping_at ? `since ${cur.last_ping_at.toISOString()}` : 'since it was created';
    await insertEvents(tx, Number(cur.org_id), [{
      category: cur.category, type: MISSED_TYPE, severity: 'error', source: 'heartbeat', action: 'trigger',
      title: `Heartbeat "${cur.name}" missed: no ping ${since} (every ${human(cur.interval_seconds)}, grace ${human(cur.grace_seconds)})`.slice(0, 500),
      body: null, dedup_key: heartbeatDedupKey(id), occurred_at: null,
      metadata: { heartbeat_id: id, interval_seconds: cur.interval_seconds, grace_seconds: cur.grace_seconds,
        last_ping_at: cur.last_ping_at?.toISOString() ?? null, due_at: cur.due_at.toISOString() },
      entity: { kind: 'heartbeat', id: String(id), name: cur.name.slice(0, 200) },
    }], id);
    return 'missed';
  });
}

/**
 * The safety net for the one-timer invariant (crontab, jobs/alert__sweep.ts): a monitor past due, not down,
 * whose timer job is gone (an operator deleted jobs, a job ran out of attempts) gets it back, due now.
 */
export async function sweepHeartbeats(sql: Sql): Promise<number> {
  const overdue = await sql<{ id: number }[]>`
    select id from heartbeats where state <> 'down' and due_at < now() - interval '10 seconds' limit 1000`;
  if (!overdue.length) return 0;
  const keys = overdue.map((b) => heartbeatJobKey(Number(b.id)));
  const present = new Set((await sql<{ key: string }[]>`select key from graphile_worker._private_jobs where key = any(${keys}::text[])`).map((r) => r.key));
  const lost = overdue.filter((b) => !present.has(heartbeatJobKey(Number(b.id))));
  await addJobs(sql, lost.map((b) => timer(Number(b.id), new Date())));
  return lost.length;
}
