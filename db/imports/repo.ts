// Imports (docs/design.md "Governance" → Imports): the upload stored in Postgres in chunks as it arrives, the
// import__run job enqueued in the same transaction that closes the upload, progress and history, the failed
// rows as errors.csv, and retries of those rows. Only this folder queries the import tables.
import { Readable } from 'node:stream';
import { csvRecords } from '../platform/csv';
import type { Herald } from '../herald';
import type { Sql } from '../platform/sql';
import { actorRef, can, require, type Actor } from '../actor';
import { conflict, invalid, notFound } from '../errors';
import { addJobs, job } from '../jobs/enqueue';
import { badTextReason } from '../platform/input';
import { recordAudit } from '../audit/record';
import { ERROR_COLUMNS, jsonCell, type ImportFormat, type ImportKind } from './source';

export const IMPORT_KINDS = ['users', 'events'] as const;
/** users:write for users, events:write for events: the permission that creating one of them needs through the API. */
export const permissionFor = (kind: ImportKind) => (kind === 'users' ? 'users:write' : 'events:write') as 'users:write' | 'events:write';

export interface ImportView {
  id: number; kind: ImportKind; format: ImportFormat; dry_run: boolean;
  status: 'uploading' | 'queued' | 'running' | 'succeeded' | 'failed'; filename: string | null;
  /** Share of the file read so far, 0–1 (1 when finished). */
  progress: number;
  /** Rows read so far; `total` is their number once the whole file is read (null until then). */
  done: number; total: number | null; ok: number; failed: number;
  /** Rows an earlier import already brought in (same row key): not imported again. */
  skipped: number;
  bytes: number; error: string | null; retry_of: number | null; created_by: unknown;
  created_at: string; started_at: string | null; finished_at: string | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);
export const importView = (r: Record<string, any>): ImportView => {
  const finished = r.status === 'succeeded' || r.status === 'failed';
  return {
    id: Number(r.id), kind: r.kind, format: r.format, dry_run: r.dry_run, status: r.status, filename: r.filename,
    progress: finished ? 1 : r.format === 'rows' || !Number(r.bytes) ? 0 : Math.min(1, Number(r.bytes_read) / Number(r.bytes)),
    done: r.rows, total: finished ? r.rows : null, ok: r.ok, failed: r.failed, skipped: r.skipped, bytes: Number(r.bytes),
    error: r.error, retry_of: r.retry_of === null ? null : Number(r.retry_of), created_by: r.created_by,
    created_at: r.created_at.toISOString(), started_at: iso(r.started_at), finished_at: iso(r.finished_at),
  };
};

export function parseKind(raw: string | undefined | null): ImportKind {
  if (raw === 'users' || raw === 'events') return raw;
  throw invalid('kind: must be users or events', [{ path: 'kind', message: 'must be users or events' }]);
}

export function parseDryRun(raw: string | undefined | null): boolean {
  if (raw === undefined || raw === null || raw === '' || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw invalid('dry_run: must be 1, 0, true or false', [{ path: 'dry_run', message: 'must be 1, 0, true or false' }]);
}

/** A file name as stored: outside text, so NUL and lone surrogates are refused, and it is bounded. */
function cleanName(name: string | null | undefined): string | null {
  if (!name) return null;
  const bad = badTextReason(name);
  if (bad) throw invalid(`filename: ${bad}`, [{ path: 'filename', message: bad }]);
  return name.slice(0, 255);
}

/** Opens an upload: the import row, status `uploading`. The caller stores the chunks and then finishes it. */
export async function beginImport(h: Herald, actor: Actor, o: { kind: ImportKind; dryRun: boolean; filename?: string | null; retryOf?: number | null }): Promise<number> {
  require(actor, permissionFor(o.kind));
  const filename = cleanName(o.filename);
  const [row] = await h.sql<{ id: number }[]>`
    insert into imports (org_id, kind, format, dry_run, filename, retry_of, created_by)
    values (${actor.orgId}, ${o.kind}, 'csv', ${o.dryRun}, ${filename}, ${o.retryOf ?? null}, ${actorRef(actor) as never})
    returning id`;
  return Number(row.id);
}

export async function storeChunk(sql: Sql, importId: number, seq: number, data: Buffer): Promise<void> {
  await sql`insert into import_chunks (import_id, seq, data) values (${importId}, ${seq}, ${data})`;
}

/** What the audit trail says of an import: what, from which file, whether a dry run (never its rows). */
const auditView = (r: Record<string, any>) =>
  ({ id: Number(r.id), kind: r.kind, format: r.format, filename: r.filename ?? null, dry_run: r.dry_run, bytes: Number(r.bytes), retry_of: r.retry_of === null ? null : Number(r.retry_of) });

/**
 * Closes the upload: its format and size, status `queued`, the import__run job and its audit row
 * (`import.created`, or `import.retried` for a corrected errors file), in one transaction. An upload abandoned
 * before this leaves no row, like no import.
 */
export async function finishUpload(h: Herald, actor: Actor, importId: number, o: { format: 'csv' | 'json'; bytes: number }): Promise<void> {
  if (o.bytes === 0) throw invalid('file: the file is empty', [{ path: 'file', message: 'empty' }]);
  await h.sql.begin(async (tx) => {
    const [row] = await tx`update imports set format = ${o.format}, bytes = ${o.bytes}, status = 'queued' where id = ${importId} and status = 'uploading' returning *`;
    if (!row) return;
    await addJobs(tx, [job('import__run', { import_id: importId })]);
    await recordAudit(tx, actor, row.retry_of === null ? 'import.created' : 'import.retried',
      { kind: 'import', id: importId, label: `${row.kind} import${row.filename ? ` ${row.filename}` : ''}` }, { after: auditView(row) });
  });
}

/** An upload that failed half-way leaves nothing behind. */
export async function abandonUpload(sql: Sql, importId: number): Promise<void> {
  await sql`delete from imports where id = ${importId} and status = 'uploading'`;
}

async function loadImport(h: Herald, actor: Actor, id: number): Promise<Record<string, any>> {
  const [row] = await h.sql`select * from imports where org_id = ${actor.orgId} and id = ${id}`;
  if (!row) throw notFound(`Import ${id}`);
  require(actor, permissionFor(row.kind));
  return row;
}

export async function getImport(h: Herald, actor: Actor, id: number): Promise<ImportView> {
  return importView(await loadImport(h, actor, id));
}

/** History: the newest imports of the kinds the actor may import (`?kind=` narrows it). */
export async function listImports(h: Herald, actor: Actor, kind?: string): Promise<ImportView[]> {
  const kinds = kind ? [parseKind(kind)] : IMPORT_KINDS.filter((k) => can(actor, permissionFor(k)));
  if (!kinds.length) require(actor, permissionFor('users'));
  for (const k of kinds) require(actor, permissionFor(k));
  const rows = await h.sql`select * from imports where org_id = ${actor.orgId} and kind = any(${kinds}::text[]) order by id desc limit 100`;
  return rows.map(importView);
}

/**
 * A retry of the failed rows as they were: a new import (format `rows`) that reads them from the old one's
 * errors. Rows whose problem was elsewhere (a role created since, a user deleted since) go in this time.
 */
export async function retryAsTheyWere(h: Herald, actor: Actor, id: number, dryRun: boolean): Promise<number> {
  const old = await loadImport(h, actor, id);
  if (old.status !== 'succeeded' && old.status !== 'failed') throw conflict(`Import ${id} is still ${old.status}`);
  if (!old.failed) throw conflict(`Import ${id} has no failed rows to retry`);
  return h.sql.begin(async (tx) => {
    const [row] = await tx`
      insert into imports (org_id, kind, format, dry_run, status, filename, columns, retry_of, created_by)
      values (${actor.orgId}, ${old.kind}, 'rows', ${dryRun}, 'queued', ${old.filename}, ${old.format === 'rows' ? old.columns : old.format === 'csv' ? old.columns : null},
        ${id}, ${actorRef(actor) as never})
      returning *`;
    await addJobs(tx, [job('import__run', { import_id: Number(row.id) })]);
    await recordAudit(tx, actor, 'import.retried', { kind: 'import', id: Number(row.id), label: `${row.kind} import${row.filename ? ` ${row.filename}` : ''}` },
      { after: { ...auditView(row), failed_rows: old.failed } });
    return Number(row.id);
  });
}

/** The import a corrected errors file retries: its kind (the file's rows are of that kind). */
export async function retryTarget(h: Herald, actor: Actor, id: number): Promise<ImportKind> {
  const old = await loadImport(h, actor, id);
  return old.kind;
}

/**
 * `errors.csv`: each failed row as it came (the file's own columns, or for JSON the fields seen), plus `row`
 * (its number in the file, from 1) and `error`. Streamed page by page.
 */
export async function errorsCsv(h: Herald, actor: Actor, id: number): Promise<{ filename: string; body: Readable }> {
  const imp = await loadImport(h, actor, id);
  const page = (after: number) => h.sql<{ row_no: number; data: Buffer; error: string }[]>`
    select row_no, data, error from import_errors where import_id = ${id} and row_no > ${after} order by row_no limit 1000`;
  async function* all() {
    for (let after = 0; ;) {
      const rows = await page(after);
      if (!rows.length) return;
      for (const r of rows) yield { row: r.row_no, data: JSON.parse(r.data.toString('utf8')) as unknown, error: r.error };
      after = rows[rows.length - 1].row_no;
    }
  }
  let header: string[];
  let cells: (data: unknown) => string[];
  if (imp.columns) {
    // CSV: the file's header without a previous errors file's own row/error columns.
    const cols: string[] = imp.columns;
    const keep = cols.map((c, i) => ((ERROR_COLUMNS as readonly string[]).includes(c) ? -1 : i)).filter((i) => i >= 0);
    header = keep.map((i) => cols[i]);
    cells = (d) => (Array.isArray(d) ? keep.map((i) => (d[i] === undefined ? '' : String(d[i]))) : [jsonCell(d)]);
  } else {
    const seen = new Set<string>();
    for await (const r of all()) {
      if (r.data && typeof r.data === 'object' && !Array.isArray(r.data)) for (const k of Object.keys(r.data)) if (!(ERROR_COLUMNS as readonly string[]).includes(k)) seen.add(k);
      else seen.add('value');
    }
    header = [...seen];
    cells = (d) => (d && typeof d === 'object' && !Array.isArray(d)
      ? header.map((k) => jsonCell((d as Record<string, unknown>)[k]))
      : header.map((k) => (k === 'value' ? JSON.stringify(d) : '')));
  }
  // One record per line (LF, as this file always was).
  const csv = Readable.from((async function* () {
    yield csvRecords([[...header, 'row', 'error']], '\n');
    for await (const r of all()) yield csvRecords([[...cells(r.data), String(r.row), r.error]], '\n');
  })());
  return { filename: `import-${id}-errors.csv`, body: csv };
}
