// Reading an import's rows, streamed: the stored chunks (1 MiB each, one at a time) through a maintained CSV
// parser (csv-parse) or a streaming JSON parser (@streamparser/json, the elements of a top-level array), or
// the failed rows of an earlier import (a retry as they were). Never the whole file in memory.
import { parse as csvParse } from 'csv-parse';
import { JSONParser } from '@streamparser/json';
import type { Sql } from '../platform/sql';

export type ImportKind = 'users' | 'events';
export type ImportFormat = 'csv' | 'json' | 'rows';

/** One row as it came: CSV values in header order (`columns`), or a JSON value. `rowNo` counts data rows from 1. */
export interface SourceRow { rowNo: number; data: string[] | unknown }

/** Columns the errors file adds (`row`, `error`) and that a corrected upload of it carries back: not fields. */
export const ERROR_COLUMNS = ['row', 'error'] as const;
/** Columns `GET /v1/users/export` writes that are not fields a user is created with: ignored on import. */
const EXPORT_ONLY: Record<ImportKind, string[]> = { users: ['id', 'sms_opted_out', 'created_at'], events: [] };

/** The chunks of an import, in order, one query each (so memory holds one chunk). */
export async function* chunks(sql: Sql, importId: number, onRead: (bytes: number) => void): AsyncGenerator<Buffer> {
  for (let seq = 0; ; seq++) {
    const [c] = await sql<{ data: Buffer }[]>`select data from import_chunks where import_id = ${importId} and seq = ${seq}`;
    if (!c) return;
    onRead(c.data.length);
    yield c.data;
  }
}

/**
 * CSV rows: the first record is the header (kept by `onHeader`), then one SourceRow per record. Rows with
 * fewer or more values than the header are still yielded (the converter names the problem).
 */
export async function* csvRows(input: AsyncIterable<Buffer>, onHeader: (columns: string[]) => void): AsyncGenerator<SourceRow> {
  const parser = csvParse({ bom: true, relax_column_count: true, skip_empty_lines: true, relax_quotes: true });
  const feed = (async () => {
    try {
      for await (const chunk of input) if (!parser.write(chunk)) await new Promise((r) => parser.once('drain', r));
      parser.end();
    } catch (e) {
      parser.destroy(e as Error);
    }
  })();
  let header: string[] | null = null;
  let rowNo = 0;
  for await (const rec of parser as AsyncIterable<string[]>) {
    if (!header) { header = rec.map((c) => c.trim()); onHeader(header); continue; }
    yield { rowNo: ++rowNo, data: rec };
  }
  await feed;
}

/** JSON: the elements of a top-level array, as the streaming parser completes each. */
export async function* jsonRows(input: AsyncIterable<Buffer>): AsyncGenerator<SourceRow> {
  const parser = new JSONParser({ paths: ['$.*'], keepStack: false });
  let ready: unknown[] = [];
  let first = true;
  parser.onValue = ({ value }) => { ready.push(value); };
  let rowNo = 0;
  for await (const chunk of input) {
    let buf = chunk;
    if (first) {
      const text = buf.toString('utf8', 0, Math.min(buf.length, 64)).replace(/^\uFEFF/, '').trimStart();
      if (!text) continue;
      if (!text.startsWith('[')) throw new Error('A JSON import is an array of objects ([{...}, {...}])');
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
      first = false;
    }
    parser.write(buf);
    const out = ready;
    ready = [];
    for (const v of out) yield { rowNo: ++rowNo, data: v };
  }
  if (first) throw new Error('The file is empty');
  if (!parser.isEnded) parser.end();
  for (const v of ready) yield { rowNo: ++rowNo, data: v };
}

/** A retry as they were: the failed rows of another import, in row order, in pages. */
export async function* storedErrorRows(sql: Sql, importId: number): AsyncGenerator<SourceRow> {
  let after = 0;
  for (;;) {
    const page = await sql<{ row_no: number; data: Buffer }[]>`
      select row_no, data from import_errors where import_id = ${importId} and row_no > ${after} order by row_no limit 1000`;
    if (!page.length) return;
    for (const r of page) yield { rowNo: r.row_no, data: JSON.parse(r.data.toString('utf8')) };
    after = page[page.length - 1].row_no;
  }
}

/**
 * A CSV row as the API's JSON: column names are the API's field names; empty cells are left out; lists
 * (`roles`) are separated by `;`; `metadata` and `entity` hold JSON, or are spread over `metadata.<key>` and
 * `entity.<key>` columns. `row` and `error` (from an errors file) and the export's read-only columns are ignored.
 * Returns the object, or the reason the row cannot become one.
 */
export function csvToInput(kind: ImportKind, columns: string[], values: string[]): { input: Record<string, unknown> } | { error: string } {
  if (values.length > columns.length) return { error: `the row has ${values.length} values but the header has ${columns.length} columns` };
  const out: Record<string, unknown> = {};
  for (let i = 0; i < columns.length; i++) {
    const col = columns[i];
    const v = values[i] ?? '';
    if (v === '' || (ERROR_COLUMNS as readonly string[]).includes(col) || EXPORT_ONLY[kind].includes(col)) continue;
    if (kind === 'users' && col === 'roles') { out.roles = v.split(';').map((s) => s.trim()).filter(Boolean); continue; }
    if (kind === 'events' && (col === 'metadata' || col === 'entity')) {
      try { out[col] = { ...(out[col] as object | undefined), ...JSON.parse(v) }; } catch { return { error: `${col}: not valid JSON` }; }
      continue;
    }
    const dot = kind === 'events' ? /^(metadata|entity)\.(.+)$/.exec(col) : null;
    if (dot) {
      const obj = (out[dot[1]] ??= {}) as Record<string, unknown>;
      if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return { error: `${dot[1]}: both JSON and ${col} given` };
      obj[dot[2]] = v;
      continue;
    }
    out[col] = v;
  }
  return { input: out };
}

/** A failed JSON row as CSV cells (for errors.csv): strings as they are, lists joined by `;`, objects as JSON. */
export function jsonCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number')) return v.join(';');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
