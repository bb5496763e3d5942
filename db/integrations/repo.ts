// Integrations: the keys other tools post with (PagerDuty Events API v2, Alertmanager, Grafana, heartbeat
// pings). Only this module (and ./heartbeats.ts) queries `integrations` and `heartbeats`.
//
// A key is 32 lowercase hex characters (128 random bits), the shape of a PagerDuty integration key, so tools
// that check the format accept it. Only its SHA-256 is stored (a fast hash is safe for 128 random bits); the
// key is shown once, at creation and at each rotation. Lookups are cached for a few seconds so a busy
// Alertmanager does not cost a query per request; a rotation or deletion clears this process's cache at
// once, other processes' within CACHE_MS.
import { z } from 'zod';
import type { Herald } from '../herald';
import type { Sql } from '../platform/sql';
import { require, type Actor } from '../actor';
import { invalid, notFound, parse } from '../errors';
import { sha256 } from '../platform/crypto';
import { SEVERITIES } from '../model/levels';
import { randomBytes } from 'node:crypto';
import { jobKey } from '../jobs/catalog';
import { removeJobs } from '../jobs/enqueue';
import { recordAudit } from '../audit/record';

export const INTEGRATION_KINDS = ['pagerduty', 'alertmanager', 'grafana', 'heartbeat'] as const;
export type IntegrationKind = (typeof INTEGRATION_KINDS)[number];

export const slug = z.string().min(1).max(64).regex(/^[a-z0-9][a-z0-9_.-]*$/, 'use lowercase letters, digits, _ . -');

/** How an integration's payloads become Herald events when the payload does not say. */
export const DefaultsSchema = z
  .object({
    /** The event type (else PagerDuty's `class`, Alertmanager's `alertname`, else `alert`). */
    type: slug.optional(),
    /** The severity when the payload gives none Herald knows. */
    severity: z.enum(SEVERITIES).optional(),
    /** The tool's severity words mapped to Herald's, e.g. {"page": "critical", "ticket": "warning"}. */
    severity_map: z.record(z.string().min(1).max(64), z.enum(SEVERITIES)).optional(),
    /** When set, each event carries an entity of this kind (id: the component or source / the instance label). */
    entity_kind: z.string().min(1).max(64).optional(),
  })
  .strict();
export type IntegrationDefaults = z.output<typeof DefaultsSchema>;

export const IntegrationInputSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    kind: z.enum(INTEGRATION_KINDS),
    category: slug,
    defaults: DefaultsSchema.default({}),
  })
  .strict();

export const IntegrationPatchSchema = z
  .object({ name: z.string().trim().min(1).max(200), category: slug, defaults: DefaultsSchema })
  .partial()
  .strict();

export interface IntegrationRow {
  id: number; org_id: number; name: string; kind: IntegrationKind; category: string; defaults: IntegrationDefaults;
  key_prefix: string; last_event_at: Date | null; created_at: Date; updated_at: Date;
}

export interface IntegrationView {
  id: number; name: string; kind: IntegrationKind; category: string; defaults: IntegrationDefaults; key_prefix: string;
  last_event_at: string | null; created_at: string; updated_at: string;
}

export const integrationView = (r: IntegrationRow): IntegrationView => ({
  id: Number(r.id), name: r.name, kind: r.kind, category: r.category, defaults: r.defaults ?? {}, key_prefix: r.key_prefix,
  last_event_at: r.last_event_at?.toISOString() ?? null, created_at: r.created_at.toISOString(), updated_at: r.updated_at.toISOString(),
});

export const newKey = (): string => randomBytes(16).toString('hex');

/**
 * Where the other tool sends: the URL to paste (Alertmanager, Grafana, heartbeat) and, for PagerDuty-speaking
 * tools, the Events API URL and the routing key. Only known when the key is (at creation or rotation).
 */
export function endpointFor(publicUrl: string, kind: IntegrationKind, key: string) {
  switch (kind) {
    case 'pagerduty': return { url: `${publicUrl}/v2/enqueue`, routing_key: key };
    case 'alertmanager': return { url: `${publicUrl}/v1/integrations/alertmanager/${key}` };
    case 'grafana': return { url: `${publicUrl}/v1/integrations/grafana/${key}` };
    case 'heartbeat': return { url: `${publicUrl}/v1/ping/${key}` };
  }
}

/** Inserts an integration row with a fresh key (inside the caller's transaction when given one). */
export async function insertIntegration(sql: Sql, orgId: number, i: { name: string; kind: IntegrationKind; category: string; defaults: IntegrationDefaults }) {
  const key = newKey();
  const [row] = await sql<IntegrationRow[]>`
    insert into integrations (org_id, name, kind, category, defaults, key_hash, key_prefix)
    values (${orgId}, ${i.name}, ${i.kind}, ${i.category}, ${i.defaults as never}, ${sha256(key)}, ${key.slice(0, 6)})
    returning *`;
  return { row, key };
}

export async function createIntegration(h: Herald, actor: Actor, input: unknown) {
  require(actor, 'integrations:write');
  const i = parse(IntegrationInputSchema, input);
  if (i.kind === 'heartbeat') {
    throw invalid('kind: create heartbeat monitors with POST /v1/heartbeats (they need an interval)', [{ path: 'kind', message: 'use POST /v1/heartbeats' }]);
  }
  const { row, key } = await h.sql.begin(async (tx) => {
    const made = await insertIntegration(tx, actor.orgId, i);
    await recordAudit(tx, actor, 'integration.created', { kind: 'integration', id: Number(made.row.id), label: made.row.name }, { after: integrationView(made.row) });
    return made;
  });
  return { ...integrationView(row), key, ...endpointFor(h.config.publicUrl, row.kind, key) };
}

export async function listIntegrations(h: Herald, actor: Actor) {
  require(actor, 'integrations:write');
  const rows = await h.sql<IntegrationRow[]>`select * from integrations where org_id = ${actor.orgId} order by id`;
  return rows.map(integrationView);
}

async function load(sql: Sql, orgId: number, id: number): Promise<IntegrationRow> {
  const [row] = await sql<IntegrationRow[]>`select * from integrations where org_id = ${orgId} and id = ${id}`;
  if (!row) throw notFound(`Integration ${id}`);
  return row;
}

export async function getIntegration(h: Herald, actor: Actor, id: number) {
  require(actor, 'integrations:write');
  return integrationView(await load(h.sql, actor.orgId, id));
}

export async function updateIntegration(h: Herald, actor: Actor, id: number, input: unknown) {
  require(actor, 'integrations:write');
  const p = parse(IntegrationPatchSchema, input);
  const row = await h.sql.begin(async (tx) => {
    const [old] = await tx<IntegrationRow[]>`select * from integrations where org_id = ${actor.orgId} and id = ${id} for update`;
    if (!old) throw notFound(`Integration ${id}`);
    const [row] = await tx<IntegrationRow[]>`
      update integrations set name = coalesce(${p.name ?? null}, name), category = coalesce(${p.category ?? null}, category),
        defaults = coalesce(${(p.defaults ?? null) as never}::jsonb, defaults), updated_at = now()
      where org_id = ${actor.orgId} and id = ${id} returning *`;
    await recordAudit(tx, actor, 'integration.updated', { kind: 'integration', id, label: row.name }, { before: integrationView(old), after: integrationView(row) });
    return row;
  });
  keyCache.clear();
  return integrationView(row);
}

/** A new key; the old one stops working at once in this process (within CACHE_MS in others). */
export async function rotateIntegrationKey(h: Herald, actor: Actor, id: number) {
  require(actor, 'integrations:write');
  const key = newKey();
  const row = await h.sql.begin(async (tx) => {
    const [old] = await tx<IntegrationRow[]>`select * from integrations where org_id = ${actor.orgId} and id = ${id} for update`;
    if (!old) throw notFound(`Integration ${id}`);
    const [row] = await tx<IntegrationRow[]>`
      update integrations set key_hash = ${sha256(key)}, key_prefix = ${key.slice(0, 6)}, updated_at = now()
      where org_id = ${actor.orgId} and id = ${id} returning *`;
    await recordAudit(tx, actor, 'integration.key_rotated', { kind: 'integration', id, label: row.name }, { before: integrationView(old), after: integrationView(row) });
    return row;
  });
  keyCache.clear();
  return { ...integrationView(row), key, ...endpointFor(h.config.publicUrl, row.kind, key) };
}

/** Deletes the integration (a heartbeat's monitor and timer with it); its events stay. */
export async function deleteIntegration(h: Herald, actor: Actor, id: number, onlyKind?: IntegrationKind) {
  require(actor, 'integrations:write');
  await h.sql.begin(async (tx) => {
    const [row] = await tx<IntegrationRow[]>`
      delete from integrations where org_id = ${actor.orgId} and id = ${id}
        and (${onlyKind ?? null}::text is null or kind = ${onlyKind ?? null}) returning *`;
    if (!row) throw notFound(`${onlyKind === 'heartbeat' ? 'Heartbeat' : 'Integration'} ${id}`);
    if (row.kind === 'heartbeat') await removeJobs(tx, [heartbeatJobKey(id)]);
    await recordAudit(tx, actor, `${row.kind === 'heartbeat' ? 'heartbeat' : 'integration'}.deleted`, { kind: row.kind === 'heartbeat' ? 'heartbeat' : 'integration', id, label: row.name }, { before: integrationView(row) });
  });
  keyCache.clear();
}

/** The heartbeat timer's job key (from the catalog: `heartbeat__check`). */
export const heartbeatJobKey = (id: number) => jobKey('heartbeat__check', { heartbeat_id: id });

/** An integration's last events and what became of each (the PWA's "last events received"). */
export async function integrationEvents(h: Herald, actor: Actor, id: number, limit = 20) {
  require(actor, 'integrations:write');
  await load(h.sql, actor.orgId, id);
  const rows = await h.sql`
    select id, status, alert_id, category, type, title, severity, dedup_key, action, received_at, maintenance_id
    from events where integration_id = ${id} and org_id = ${actor.orgId} order by id desc limit ${limit}`;
  return rows.map((e) => ({
    id: Number(e.id), status: e.status, alert_id: e.alert_id === null ? null : Number(e.alert_id), category: e.category, type: e.type,
    title: e.title, severity: e.severity, dedup_key: e.dedup_key, action: e.action, received_at: e.received_at.toISOString(),
    maintenance_id: e.maintenance_id === null ? null : Number(e.maintenance_id),
  }));
}

const CACHE_MS = 5_000;
const keyCache = new Map<string, { row: IntegrationRow | null; until: number }>();
const lastEventWritten = new Map<number, number>();

/** The integration a presented key belongs to (of the expected kind), or null. Never throws on odd input. */
export async function integrationByKey(sql: Sql, presented: unknown, kind: IntegrationKind): Promise<IntegrationRow | null> {
  if (typeof presented !== 'string' || presented.length < 8 || presented.length > 200) return null;
  const now = Date.now();
  let hit = keyCache.get(presented);
  if (!hit || hit.until <= now) {
    const [row] = await sql<IntegrationRow[]>`select * from integrations where key_hash = ${sha256(presented)}`;
    if (keyCache.size > 10_000) keyCache.clear();
    hit = { row: row ? { ...row, id: Number(row.id), org_id: Number(row.org_id) } : null, until: now + CACHE_MS };
    keyCache.set(presented, hit);
  }
  return hit.row && hit.row.kind === kind ? hit.row : null;
}

export function clearIntegrationKeyCache() { keyCache.clear(); }

/** The actor an integration's requests act as. */
export const integrationActor = (row: IntegrationRow): Actor =>
  ({ kind: 'integration', orgId: Number(row.org_id), name: row.name, integrationId: Number(row.id), category: row.category });

/** `last_event_at`, written at most every few seconds per integration (not per request at ingest rates). */
export function touchIntegration(sql: Sql, id: number) {
  const now = Date.now();
  if ((lastEventWritten.get(id) ?? 0) > now - 5_000) return;
  lastEventWritten.set(id, now);
  sql`update integrations set last_event_at = now() where id = ${id}`.catch(() => {});
}
