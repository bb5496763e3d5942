import type { Herald } from '../herald';
import { require, type Actor } from '../actor';
import { notFound } from '../errors';

export async function getEvent(h: Herald, actor: Actor, id: number) {
  if (actor.kind === 'api_key' && !actor.scopes.includes('events:write')) require(actor, 'alerts:read');
  const [e] = await h.sql`select * from events where org_id = ${actor.orgId} and id = ${id}`;
  if (!e) throw notFound(`Event ${id}`);
  return {
    id: Number(e.id), status: e.status, alert_id: e.alert_id === null ? null : Number(e.alert_id), rule_ids: (e.rule_ids ?? []).map(Number),
    category: e.category, type: e.type, title: e.title, severity: e.severity, body: e.body, source: e.source, dedup_key: e.dedup_key,
    action: e.action, metadata: e.metadata, entity: e.entity, occurred_at: e.occurred_at?.toISOString() ?? null,
    received_at: e.received_at.toISOString(), routed_at: e.routed_at?.toISOString() ?? null,
  };
}
