// The import__run job's work: read the rows (streamed), validate each with the API's own schema, and write them
// in batches, each batch one transaction with its row keys, its failed rows and the progress counters.
//
// Nothing is imported twice: every valid row has a row key (a hash of the row as validated); a batch inserts
// its keys first, and only the rows whose key is new are written, in the same transaction. A job that dies
// half-way starts over: the rows it had written carry its own import id and count as ok, not again.
import { createHash } from 'node:crypto';
import type { Herald } from '../herald';
import type { Sql } from '../platform/sql';
import { EventInputSchema, type EventInput } from '../events/schema';
import { insertEvents } from '../events/ingest';
import { UserInputSchema } from '../users/repo';
import { insertUsers, prepareUsers, takenContacts, type PreparedUser, type UserInput } from '../users/bulk';
import { eventsIngested } from '../platform/metrics';
import { log } from '../platform/log';
import { chunks, csvRows, csvToInput, jsonRows, storedErrorRows, type ImportKind, type SourceRow } from './source';

export const IMPORT_BATCH = 1000;
/** The job's max_attempts (db/jobs/catalog.ts): the last run that fails marks the import failed. */
const MAX_RUNS = 5;

interface Imp { id: number; org_id: number; kind: ImportKind; format: 'csv' | 'json' | 'rows'; dry_run: boolean; columns: string[] | null; retry_of: number | null }

/** JSON with object keys sorted: the same row hashes the same whatever its key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}
export const rowKey = (kind: ImportKind, row: unknown) => createHash('sha256').update(kind).update('\n').update(canonical(row)).digest('base64url');

/** Why a string cannot be stored (an error text may quote the input): the offending characters replaced. */
const storable = (s: string) => s.replace(/\u0000/g, '\uFFFD').replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD').slice(0, 2000);

/** Runs (or resumes) one import. Returns quietly when the import is not waiting to run (a stale job). */
export async function runImport(h: Herald, importId: number): Promise<void> {
  const [imp] = await h.sql<(Imp & { attempts: number })[]>`
    update imports set status = 'running', started_at = coalesce(started_at, now()), rows = 0, ok = 0, failed = 0, skipped = 0,
      bytes_read = 0, error = null, attempts = attempts + 1
    where id = ${importId} and status in ('queued', 'running')
    returning id, org_id, kind, format, dry_run, columns, retry_of, attempts`;
  if (!imp) return;
  await h.sql`delete from import_errors where import_id = ${importId}`;
  let bytesRead = 0;
  let columns: string[] | null = imp.columns;
  const source = (): AsyncGenerator<SourceRow> => {
    if (imp.format === 'rows') return storedErrorRows(h.sql, imp.retry_of!);
    const input = chunks(h.sql, imp.id, (n) => { bytesRead += n; });
    if (imp.format === 'json') return jsonRows(input);
    return csvRows(input, (c) => { columns = c; });
  };
  let batch: SourceRow[] = [];
  let headerSaved = imp.format !== 'csv';
  try {
    for await (const row of source()) {
      if (!headerSaved) {
        await h.sql`update imports set columns = ${columns!.map(storable)} where id = ${imp.id}`;
        headerSaved = true;
      }
      batch.push(row);
      if (batch.length >= IMPORT_BATCH) {
        await writeBatch(h, imp, columns, batch, bytesRead);
        batch = [];
      }
    }
    if (!headerSaved && columns) await h.sql`update imports set columns = ${(columns as string[]).map(storable)} where id = ${imp.id}`;
    await writeBatch(h, imp, columns, batch, bytesRead);
  } catch (e) {
    // The database (a lost connection, a deadlock): the job fails and graphile-worker runs it again, which starts
    // over without importing anything twice. Anything else is the file's fault: the import fails, saying why.
    const transient = (e as Error)?.name === 'PostgresError' || /ECONN|ETIMEDOUT|CONNECTION|terminat/i.test(String((e as Error)?.message ?? e));
    if (transient && imp.attempts < MAX_RUNS) throw e;
    log.warn('import failed', { import_id: imp.id, error: (e as Error)?.message });
    const why = transient ? `The import stopped after ${MAX_RUNS} attempts: ${(e as Error)?.message ?? e}` : `The file could not be read: ${(e as Error)?.message ?? e}`;
    await h.sql`update imports set status = 'failed', error = ${storable(why)}, finished_at = now() where id = ${imp.id}`;
    await h.sql`delete from import_chunks where import_id = ${imp.id}`;
    return;
  }
  await h.sql.begin(async (tx) => {
    await tx`update imports set status = 'succeeded', finished_at = now(), bytes_read = bytes where id = ${imp.id}`;
    await tx`delete from import_chunks where import_id = ${imp.id}`;
  });
}

type Candidate = { row: SourceRow; key: string; value: EventInput | UserInput; prepared?: PreparedUser };
type Failure = { row: SourceRow; error: string };

function toInput(imp: Imp, columns: string[] | null, row: SourceRow): { input: unknown } | { error: string } {
  if (columns && Array.isArray(row.data) && (imp.format === 'csv' || imp.format === 'rows')) return csvToInput(imp.kind, columns, row.data as string[]);
  if (!row.data || typeof row.data !== 'object' || Array.isArray(row.data)) return { error: '(root): each row must be a JSON object' };
  return { input: row.data };
}

async function writeBatch(h: Herald, imp: Imp, columns: string[] | null, rows: SourceRow[], bytesRead: number): Promise<void> {
  const failures: Failure[] = [];
  let candidates: Candidate[] = [];
  let skipped = 0;
  const seen = new Set<string>();
  const schema = imp.kind === 'users' ? UserInputSchema : EventInputSchema;
  for (const row of rows) {
    const conv = toInput(imp, columns, row);
    if ('error' in conv) { failures.push({ row, error: conv.error }); continue; }
    const r = schema.safeParse(conv.input);
    if (!r.success) {
      failures.push({ row, error: r.error.issues.map((i) => `${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`).join('; ') });
      continue;
    }
    const key = rowKey(imp.kind, r.data);
    if (seen.has(key)) { skipped++; continue; } // the same row twice in one file: once
    seen.add(key);
    candidates.push({ row, key, value: r.data });
  }
  if (imp.kind === 'users' && candidates.length) {
    const prepared = await prepareUsers(h.sql, imp.org_id, h.config.HERALD_DEFAULT_REGION, candidates.map((c) => c.value as UserInput));
    const next: Candidate[] = [];
    candidates.forEach((c, i) => {
      const p = prepared[i];
      if ('error' in p) failures.push({ row: c.row, error: p.error });
      else next.push({ ...c, prepared: p });
    });
    candidates = next;
  }

  await h.sql.begin(async (tx) => {
    let ok = 0;
    const keys = candidates.map((c) => c.key);
    if (imp.dry_run) {
      const known = keys.length ? await tx<{ row_key: string }[]>`
        select row_key from import_row_keys where org_id = ${imp.org_id} and kind = ${imp.kind} and row_key = any(${keys}::text[])` : [];
      const had = new Set(known.map((k) => k.row_key));
      const fresh = candidates.filter((c) => !had.has(c.key));
      skipped += candidates.length - fresh.length;
      if (imp.kind === 'users') {
        const taken = await takenContacts(tx, imp.org_id, fresh.map((c) => c.prepared!));
        for (const c of fresh) {
          const why = taken(c.prepared!);
          if (why) failures.push({ row: c.row, error: why }); else ok++;
        }
      } else ok += fresh.length;
    } else {
      const claimed = keys.length ? await tx<{ row_key: string }[]>`
        insert into import_row_keys (org_id, kind, row_key, import_id)
        select ${imp.org_id}, ${imp.kind}, k, ${imp.id} from unnest(${keys}::text[]) k
        on conflict do nothing returning row_key` : [];
      const mine = new Set(claimed.map((k) => k.row_key));
      const others = keys.filter((k) => !mine.has(k));
      // Keys taken by this very import (a run that died half-way and started over) were imported by it: ok.
      const byMe = others.length ? new Set((await tx<{ row_key: string }[]>`
        select row_key from import_row_keys where org_id = ${imp.org_id} and kind = ${imp.kind} and row_key = any(${others}::text[]) and import_id = ${imp.id}`).map((k) => k.row_key)) : new Set<string>();
      ok += byMe.size;
      skipped += others.length - byMe.size;
      const fresh = candidates.filter((c) => mine.has(c.key));
      if (imp.kind === 'events' && fresh.length) {
        await insertEvents(tx, imp.org_id, fresh.map((c) => c.value as EventInput));
        ok += fresh.length;
        eventsIngested.inc(fresh.length);
      } else if (fresh.length) {
        const results = await insertUsers(tx, imp.org_id, fresh.map((c) => c.prepared!));
        const refused: string[] = [];
        results.forEach((r, i) => {
          if (r === true) ok++;
          else { failures.push({ row: fresh[i].row, error: r }); refused.push(fresh[i].key); }
        });
        if (refused.length) await tx`delete from import_row_keys where org_id = ${imp.org_id} and kind = ${imp.kind} and row_key = any(${refused}::text[])`;
      }
    }
    if (failures.length) {
      await tx`
        insert into import_errors (import_id, row_no, data, error)
        select ${imp.id}, r, convert_to(d, 'UTF8'), e from unnest(${failures.map((f) => f.row.rowNo)}::int[], ${failures.map((f) => JSON.stringify(f.row.data) ?? 'null')}::text[],
          ${failures.map((f) => storable(f.error))}::text[]) as t(r, d, e)
        on conflict do nothing`;
    }
    await tx`update imports set rows = rows + ${rows.length}, ok = ok + ${ok}, failed = failed + ${failures.length}, skipped = skipped + ${skipped},
      bytes_read = greatest(bytes_read, ${bytesRead}) where id = ${imp.id}`;
  });
}
