// The integration endpoints' verbs: a key in the body or the URL names the integration (no Bearer header:
// the other tool sends none), its payload becomes Herald events, and they are ingested through the same
// grouped commit as POST /v1/events (db/events/ingest.ts), so they are durable (202 only after the event
// rows and their routing job are committed) and routed by the rules like any event.
import type { Herald } from '../herald';
import type { EventIngestor, Accepted } from '../events/ingest';
import { require, type Actor } from '../actor';
import { HeraldError, invalid, notFound } from '../errors';
import { eventsIngested } from '../platform/metrics';
import { routeEvents } from '../events/route';
import { acknowledge } from '../alerts/act';
import { integrationActor, integrationByKey, touchIntegration } from './repo';
import { alertGroupEvents, pagerDutyErrors, pagerDutyEvent, parseAlertGroup } from './map';

/** PagerDuty's answers, which PagerDuty clients parse (not problem+json). */
export type PagerDutyAnswer =
  | { status: 202; body: { status: 'success'; message: 'Event processed'; dedup_key: string } }
  | { status: 400; body: { status: 'invalid event'; message: string; errors: string[] } };

const invalidEvent = (errors: string[]): PagerDutyAnswer => ({ status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors } });
const success = (dedup_key: string): PagerDutyAnswer => ({ status: 202, body: { status: 'success', message: 'Event processed', dedup_key } });

/**
 * POST /v2/enqueue. An unknown routing key is answered as PagerDuty does: 400 "invalid event" (its
 * `errors` say the key is unknown). `trigger` and `resolve` are events (a resolve resolves the open alert
 * with the dedup key when routed); `acknowledge` acknowledges that alert now, as the integration.
 */
export async function enqueuePagerDuty(h: Herald, ing: EventIngestor, body: unknown): Promise<PagerDutyAnswer> {
  const parsed = pagerDutyErrors(body);
  if (!parsed.ok) return invalidEvent(parsed.errors);
  const b = parsed.value;
  const integ = await integrationByKey(h.sql, b.routing_key, 'pagerduty');
  if (!integ) return invalidEvent(["'routing_key' is not a known integration key (or it was rotated)"]);
  const actor = integrationActor(integ);
  require(actor, 'events:write');
  touchIntegration(h.sql, integ.id);

  if (b.event_action === 'acknowledge') {
    await acknowledgeByKey(h, actor, b.dedup_key!);
    return success(b.dedup_key!);
  }
  const mapped = pagerDutyEvent(b, integ.category, integ.defaults ?? {});
  if ('error' in mapped) return invalidEvent([mapped.error]);
  const r = await ing.accept(integ.org_id, [mapped.event], null, integ.id);
  const [accepted] = r as Accepted[];
  eventsIngested.inc();
  return success(accepted.dedup_key);
}

/**
 * Acknowledges the open alert with this dedup key, as the integration (only alerts of its category). A
 * trigger sent just before may not be routed yet: its accepted events are routed here first (routing is
 * idempotent: rows the worker is routing are skipped, and its transaction is waited for). No open alert:
 * nothing to do, and PagerDuty answers success all the same.
 */
async function acknowledgeByKey(h: Herald, actor: Actor, dedupKey: string): Promise<void> {
  if (actor.kind !== 'integration') return;
  for (let attempt = 0; attempt < 5; attempt++) {
    const [open] = await h.sql<{ id: number; status: string }[]>`
      select id, status from alerts where org_id = ${actor.orgId} and dedup_key = ${dedupKey} and status <> 'resolved' and category = ${actor.category}`;
    if (open) {
      if (open.status !== 'triggered') return;
      try {
        await acknowledge(h, actor, Number(open.id));
      } catch (e) {
        // Someone acknowledged or resolved it first: the acknowledgement is moot, not an error for the sender.
        if (!(e instanceof HeraldError) || e.status !== 409) throw e;
      }
      return;
    }
    const pending = await h.sql<{ id: number }[]>`
      select id from events where org_id = ${actor.orgId} and dedup_key = ${dedupKey} and status = 'accepted' order by id`;
    if (!pending.length) return;
    const ids = pending.map((p) => Number(p.id));
    await routeEvents(h, ids);
    await untilRouted(h, ids);
  }
}

/** How long an acknowledgement waits for the worker's routing of the trigger before it looks again. */
const ROUTING_WAIT = '10s';

/**
 * Waits for the transaction that holds these events' row locks (the worker routing them) to end. A poll of a
 * second in all once gave up on a loaded machine while the worker was still routing, and the acknowledgement
 * was lost; a lock wait ends the moment the routing commits.
 */
async function untilRouted(h: Herald, eventIds: number[]): Promise<void> {
  await h.sql.begin(async (tx) => {
    await tx`select set_config('lock_timeout', ${ROUTING_WAIT}, true)`;
    await tx`select 1 from events where id = any(${eventIds}::bigint[]) for share`;
  }).catch((e: { code?: string }) => {
    // Still routing after ROUTING_WAIT: look again (the caller's attempts are bounded).
    if (e.code !== '55P03') throw e;
  });
}

/** POST /v1/integrations/alertmanager/:key and /grafana/:key: one event per alert of the group. */
export async function receiveAlertGroup(h: Herald, ing: EventIngestor, kind: 'alertmanager' | 'grafana', key: string, body: unknown) {
  const integ = await integrationByKey(h.sql, key, kind);
  if (!integ) throw notFound(`The ${kind === 'grafana' ? 'Grafana' : 'Alertmanager'} integration for this key`);
  require(integrationActor(integ), 'events:write');
  const g = parseAlertGroup(body, kind);
  if (!g.ok) throw invalid(`The ${kind} payload is invalid: ${g.errors.slice(0, 10).map((e) => `${e.path}: ${e.message}`).join('; ')}`, g.errors.slice(0, 100));
  const { events, errors } = alertGroupEvents(g.value, kind, integ.category, integ.defaults ?? {});
  // All or nothing: a group with one unusable alert is refused whole, so the tool's retry carries all of it.
  if (errors.length) throw invalid(`The ${kind} payload is invalid: ${errors.slice(0, 10).join('; ')}`, errors.slice(0, 100).map((m) => ({ path: m.split(':')[0], message: m })));
  touchIntegration(h.sql, integ.id);
  const r = (await ing.accept(integ.org_id, events, null, integ.id)) as Accepted[];
  eventsIngested.inc(events.length);
  return { status: 'success', accepted: r.length, results: r };
}
