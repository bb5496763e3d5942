// Reading the audit trail: `GET /v1/audit?actor=&action=&entity=&from=&to=&cursor=` (newest first, keyset paging
// on the id) and `GET /v1/audit/export?format=csv` (every matching row, streamed as CSV (d3-dsv's row formatter) from a
// postgres.js cursor, so memory stays flat; the export is itself audited and counts as an export).
import { z } from 'zod';
import { csvRecords, defuse } from '../platform/csv';
import { Readable } from 'node:stream';
import type { Herald } from '../herald';
import type { Sql } from '../platform/sql';
import { require, type Actor } from '../actor';
import { invalid, parse } from '../errors';
import { instant, text } from '../platform/input';
import { log } from '../platform/log';
import { exported } from './suspicious';

export const AUDIT_PAGE = 50;
export const AUDIT_PAGE_MAX = 200;
const EXPORT_BATCH = 1000;

const ACTOR_KINDS = ['user', 'api_key', 'integration', 'system', 'anonymous'] as const;

/**
 * Filters: `actor` is `user:12`, `api_key:3`, a kind alone (`anonymous`), or any other text matched against the
 * actor's name; `action` is exact (`rule.created`) or a prefix ending in `.` or `.*` (`auth.*`); `entity` is a kind
 * (`rule`) or a kind and id (`rule:12`); `from`/`to` are instants (`to` exclusive); `cursor` is `next_cursor`.
 */
export const AuditQuerySchema = z
  .object({
    actor: text().trim().min(1).max(320).optional(),
    action: text().trim().min(1).max(100).regex(/^[a-z_]+(\.[a-z_]*)?\*?$/, 'an action is <kind>.<verb> (rule.created), or a prefix like auth.*').optional(),
    entity: text().trim().min(1).max(300).regex(/^[a-z_]+(:.+)?$/, 'an entity is a kind (rule) or kind:id (rule:12)').optional(),
    from: instant().optional(),
    to: instant().optional(),
    cursor: text().regex(/^[1-9]\d{0,15}$/, 'use the next_cursor of the previous page').optional(),
    limit: text().regex(/^\d{1,4}$/, 'a number').transform(Number).pipe(z.number().int().min(1).max(AUDIT_PAGE_MAX)).optional(),
    format: z.enum(['csv']).optional(),
  })
  .strict();
type AuditQuery = z.output<typeof AuditQuerySchema>;

export interface AuditItem {
  id: number; at: string; actor: { kind: string; id: string | null; name: string }; action: string;
  entity: { kind: string; id: string | null; label: string | null }; before: unknown; after: unknown; ip: string | null;
}

interface AuditRow {
  id: number; at: Date; actor_kind: string; actor_id: string | null; actor_name: string; action: string; entity_kind: string;
  entity_id: string | null; entity_label: string | null; before: unknown; after: unknown; ip: string | null;
}

const item = (r: AuditRow): AuditItem => ({
  id: Number(r.id), at: r.at.toISOString(), actor: { kind: r.actor_kind, id: r.actor_id, name: r.actor_name }, action: r.action,
  entity: { kind: r.entity_kind, id: r.entity_id, label: r.entity_label }, before: r.before, after: r.after, ip: r.ip,
});

function where(sql: Sql, orgId: number, q: AuditQuery) {
  const parts = [sql`org_id = ${orgId}`];
  if (q.actor) {
    const m = /^([a-z_]+):(.+)$/.exec(q.actor);
    if (m && (ACTOR_KINDS as readonly string[]).includes(m[1])) parts.push(sql`actor_kind = ${m[1]} and actor_id = ${m[2]}`);
    else if ((ACTOR_KINDS as readonly string[]).includes(q.actor)) parts.push(sql`actor_kind = ${q.actor}`);
    else parts.push(sql`actor_name ilike ${'%' + q.actor.replace(/[\\%_]/g, (c) => '\\' + c) + '%'}`);
  }
  if (q.action) {
    const prefix = q.action.replace(/\*$/, '');
    if (prefix.endsWith('.') || q.action.endsWith('*')) parts.push(sql`action like ${prefix.replace(/_/g, '\\_') + '%'}`);
    else parts.push(sql`action = ${q.action}`);
  }
  if (q.entity) {
    const i = q.entity.indexOf(':');
    if (i < 0) parts.push(sql`entity_kind = ${q.entity}`);
    else parts.push(sql`entity_kind = ${q.entity.slice(0, i)} and entity_id = ${q.entity.slice(i + 1)}`);
  }
  if (q.from) parts.push(sql`at >= ${q.from}::timestamptz`);
  if (q.to) parts.push(sql`at < ${q.to}::timestamptz`);
  if (q.cursor) parts.push(sql`id < ${q.cursor}::bigint`);
  return parts.reduce((a, b) => sql`${a} and ${b}`);
}

function parseQuery(query: unknown): AuditQuery {
  const q = parse(AuditQuerySchema, query, 'query');
  if (q.from && q.to && Date.parse(q.to) <= Date.parse(q.from)) throw invalid('to: must be after from', [{ path: 'to', message: 'must be after from' }]);
  return q;
}

/** `GET /v1/audit`: a page, newest first; `next_cursor` is null on the last page. */
export async function listAudit(h: Herald, actor: Actor, query: unknown): Promise<{ items: AuditItem[]; next_cursor: string | null }> {
  require(actor, 'audit:read');
  const q = parseQuery(query);
  const limit = q.limit ?? AUDIT_PAGE;
  const rows = await h.sql<AuditRow[]>`select * from audit where ${where(h.sql, actor.orgId, q)} order by id desc limit ${limit + 1}`;
  const more = rows.length > limit;
  const items = rows.slice(0, limit).map(item);
  return { items, next_cursor: more ? String(items[items.length - 1].id) : null };
}

export const AUDIT_CSV_COLUMNS = ['id', 'at', 'actor_kind', 'actor_id', 'actor_name', 'action', 'entity_kind', 'entity_id', 'entity_label', 'ip', 'before', 'after'] as const;

/**
 * `GET /v1/audit/export?format=csv` with the list's filters (oldest first): written to the trail first (an
 * `audit.exported` row, and a `security/bulk_export` when exports burst), then streamed.
 */
export async function exportAudit(h: Herald, actor: Actor, query: unknown): Promise<{ filename: string; stream: ReadableStream<Uint8Array> }> {
  require(actor, 'audit:read');
  const q = parseQuery(query);
  const { cursor: _c, limit: _l, ...filters } = q;
  await h.sql.begin((tx) => exported(tx, h.config.security, actor, 'audit', { format: 'csv', filters }));
  const cursor = h.sql<AuditRow[]>`select * from audit where ${where(h.sql, actor.orgId, filters)} order by id`.cursor(EXPORT_BATCH);
  async function* chunks() {
    yield '\ufeff' + csvRecords([[...AUDIT_CSV_COLUMNS]]);
    for await (const rows of cursor) {
      yield csvRecords(rows.map((r) => [String(r.id), r.at.toISOString(), r.actor_kind, r.actor_id ?? '', defuse(r.actor_name), r.action, r.entity_kind,
        defuse(r.entity_id ?? ''), defuse(r.entity_label ?? ''), r.ip ?? '',
        r.before === null ? '' : JSON.stringify(r.before), r.after === null ? '' : JSON.stringify(r.after)]));
    }
  }
  const csv = Readable.from(chunks());
  csv.on('error', (e) => log.error('audit export failed', { error: (e as Error).message }));
  const stamp = new Date().toISOString().slice(0, 10);
  return { filename: `herald-audit-${stamp}.csv`, stream: Readable.toWeb(csv) as unknown as ReadableStream<Uint8Array> };
}
