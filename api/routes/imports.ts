// Imports and the users export: the upload is streamed from the socket into Postgres in 1 MiB chunks (never
// whole in memory, not under the 1 MiB JSON body limit), as multipart (`file` part after the `kind` and
// `dry_run` fields) or as a raw body with its content type (`?kind=&dry_run=`).
import { Hono, type Context } from 'hono';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import busboy from 'busboy';
import type { ApiContext, AppEnv } from '../context';
import { idParam, readJson } from '../http';
import { invalid, tooLarge, unsupportedMediaType } from '../../db/errors';
import {
  abandonUpload, beginImport, errorsCsv, finishUpload, getImport, listImports, parseDryRun, parseKind, retryAsTheyWere, retryTarget, storeChunk,
} from '../../db/imports/repo';
import type { ImportKind } from '../../db/imports/source';
import { exportUsers } from '../../db/users/bulk';

const CHUNK = 1024 * 1024;

/** Paths whose bodies are streamed files, exempt from the 1 MiB body limit (app.ts). */
export const isImportUpload = (method: string, path: string) => method === 'POST' && /^\/v1\/imports\/?(\d+\/retry\/?)?$/.test(path);

function formatOf(contentType: string, filename: string | null, first: Buffer): 'csv' | 'json' {
  const t = contentType.toLowerCase();
  if (t.includes('json') || /\.json$/i.test(filename ?? '')) return 'json';
  if (t.includes('csv') || /\.csv$/i.test(filename ?? '')) return 'csv';
  const head = first.toString('utf8', 0, Math.min(first.length, 64)).replace(/^\uFEFF/, '').trimStart();
  return head.startsWith('[') ? 'json' : 'csv';
}

/** Stores a file stream as chunks of the import; returns its size and its first bytes (to tell the format). */
async function store(ctx: ApiContext, importId: number, stream: AsyncIterable<Buffer>): Promise<{ bytes: number; first: Buffer }> {
  const max = ctx.config.HERALD_IMPORT_MAX_BYTES;
  let parts: Buffer[] = [];
  let pending = 0;
  let bytes = 0;
  let seq = 0;
  let first: Buffer | null = null;
  const flush = async () => {
    if (!pending) return;
    const data = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    first ??= data.subarray(0, 64);
    parts = [];
    pending = 0;
    await storeChunk(ctx.sql, importId, seq++, data);
  };
  for await (const chunk of stream) {
    bytes += chunk.length;
    if (bytes > max) throw tooLarge(`The file is over ${max} bytes (HERALD_IMPORT_MAX_BYTES)`);
    parts.push(chunk);
    pending += chunk.length;
    if (pending >= CHUNK) await flush();
  }
  await flush();
  return { bytes, first: first ?? Buffer.alloc(0) };
}

/** Receives one upload and queues its import. `fixed`: the kind is the retried import's. */
async function receive(c: Context<AppEnv>, ctx: ApiContext, fixed: { kind: ImportKind; retryOf: number } | null): Promise<number> {
  const actor = c.get('actor');
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const type = c.req.header('content-type') ?? '';
  const q = c.req.query();
  const body: AsyncIterable<Buffer> = incoming && !incoming.readableDidRead
    ? (incoming as AsyncIterable<Buffer>)
    : (Readable.fromWeb((c.req.raw.body ?? new Blob([]).stream()) as never) as AsyncIterable<Buffer>);

  const upload = async (stream: AsyncIterable<Buffer>, fields: Record<string, string>, filename: string | null, partType: string) => {
    const kind = fixed?.kind ?? parseKind(fields.kind ?? q.kind);
    const dryRun = parseDryRun(fields.dry_run ?? q.dry_run);
    const id = await beginImport(ctx, actor, { kind, dryRun, filename: filename ?? q.filename ?? null, retryOf: fixed?.retryOf ?? null });
    try {
      const { bytes, first } = await store(ctx, id, stream);
      await finishUpload(ctx, actor, id, { format: formatOf(partType, filename, first), bytes });
      return id;
    } catch (e) {
      await abandonUpload(ctx.sql, id).catch(() => {});
      throw e;
    }
  };

  if (/^multipart\/form-data/i.test(type)) {
    if (!incoming) throw unsupportedMediaType('multipart uploads need the Node server');
    return new Promise<number>((resolve, reject) => {
      let bb: busboy.Busboy;
      try {
        bb = busboy({ headers: incoming.headers, limits: { files: 1, fields: 20, fieldSize: 4096, parts: 30, fieldNameSize: 100 } });
      } catch (e) {
        return reject(invalid(`multipart: ${(e as Error).message}`));
      }
      const fields: Record<string, string> = {};
      let work: Promise<number> | null = null;
      bb.on('field', (name, value) => { fields[name] = value; });
      bb.on('file', (name, stream, info) => {
        if (name !== 'file' || work) { stream.resume(); return; }
        work = upload(stream, { ...fields }, info.filename || null, info.mimeType || '');
        work.catch(() => stream.resume());
      });
      bb.on('error', (e) => reject(invalid(`multipart: ${(e as Error).message}`)));
      bb.on('close', () => {
        if (!work) return reject(invalid('file: send the file as a multipart part named "file" (after the kind and dry_run fields)', [{ path: 'file', message: 'missing' }]));
        work.then(resolve, reject);
      });
      incoming.on('error', (e) => reject(e));
      incoming.pipe(bb);
    });
  }
  return upload(body, {}, null, type);
}

export function importRoutes(ctx: ApiContext) {
  const r = new Hono<AppEnv>();
  r.post('/', async (c) => {
    const id = await receive(c, ctx, null);
    return c.json({ import_id: id, status: 'queued' }, 202);
  });
  r.get('/', async (c) => c.json({ items: await listImports(ctx, c.get('actor'), c.req.query('kind')) }));
  r.get('/:id', async (c) => c.json(await getImport(ctx, c.get('actor'), idParam(c))));
  r.get('/:id/errors.csv', async (c) => {
    const f = await errorsCsv(ctx, c.get('actor'), idParam(c));
    return new Response(Readable.toWeb(f.body) as ReadableStream, {
      headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${f.filename}"` },
    });
  });
  // No body (or a JSON object of options): the failed rows as they were. A file: the corrected rows.
  r.post('/:id/retry', async (c) => {
    const id = idParam(c);
    const actor = c.get('actor');
    const type = c.req.header('content-type') ?? '';
    const len = c.req.header('content-length');
    const small = len !== undefined && Number(len) < 4096 && !c.req.header('transfer-encoding');
    if (!type || Number(len) === 0 || (small && /json/i.test(type))) {
      const opts = type ? await readJson(c) : {};
      if (opts && typeof opts === 'object' && !Array.isArray(opts)) {
        const dry = (opts as Record<string, unknown>).dry_run;
        const dryRun = dry === undefined ? parseDryRun(c.req.query('dry_run')) : dry === true || dry === 1 || dry === 'true' || dry === '1'
          ? true : dry === false || dry === 0 || dry === 'false' || dry === '0' ? false : parseDryRun(String(dry));
        const newId = await retryAsTheyWere(ctx, actor, id, dryRun);
        return c.json({ import_id: newId, status: 'queued', retry_of: id }, 202);
      }
      // A small JSON array: the corrected rows themselves.
      const kind = await retryTarget(ctx, actor, id);
      const newId = await beginImport(ctx, actor, { kind, dryRun: parseDryRun(c.req.query('dry_run')), retryOf: id });
      try {
        const data = Buffer.from(JSON.stringify(opts));
        await storeChunk(ctx.sql, newId, 0, data);
        await finishUpload(ctx, actor, newId, { format: 'json', bytes: data.length });
      } catch (e) {
        await abandonUpload(ctx.sql, newId).catch(() => {});
        throw e;
      }
      return c.json({ import_id: newId, status: 'queued', retry_of: id }, 202);
    }
    const kind = await retryTarget(ctx, actor, id);
    const newId = await receive(c, ctx, { kind, retryOf: id });
    return c.json({ import_id: newId, status: 'queued', retry_of: id }, 202);
  });
  return r;
}

/** `GET /v1/users/export?format=csv|json` (mounted before /users/:id). */
export function userExportRoutes(ctx: ApiContext) {
  const r = new Hono<AppEnv>();
  r.get('/export', async (c) => {
    const f = await exportUsers(ctx, c.get('actor'), c.req.query('format') ?? 'csv');
    return new Response(Readable.toWeb(f.body) as ReadableStream, {
      headers: { 'content-type': f.contentType, 'content-disposition': `attachment; filename="${f.filename}"` },
    });
  });
  return r;
}
