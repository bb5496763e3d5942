// Request helpers shared by every router.
import type { Context } from 'hono';
import type { IncomingMessage } from 'node:http';
import { invalid, tooLarge, type HeraldError } from '../db/errors';

const MAX_BODY = 1024 * 1024;

/**
 * The request body as text, at most 1 MiB. On Node it is read straight from the socket stream, which is
 * several times cheaper than materialising a WHATWG Request body on the ingestion hot path.
 */
export async function readText(c: Context): Promise<string> {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (!incoming || incoming.readableEnded || incoming.readableDidRead) return c.req.text();
  const declared = Number(incoming.headers['content-length'] ?? NaN);
  if (declared > MAX_BODY) throw tooLarge(`The body is over ${MAX_BODY} bytes (1 MiB)`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw tooLarge(`The body is over ${MAX_BODY} bytes (1 MiB)`);
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
}

/** Reads a JSON body; malformed JSON is a 400 that says where it broke. */
export async function readJson(c: Context): Promise<unknown> {
  const text = await readText(c);
  if (!text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch (e) {
    throw invalid(`Malformed JSON: ${(e as Error).message}`);
  }
}

export function idParam(c: Context, name = 'id'): number {
  const raw = c.req.param(name) ?? '';
  const n = Number(raw);
  if (!/^\d{1,15}$/.test(raw) || !Number.isSafeInteger(n) || n <= 0) throw invalid(`${name}: "${raw}" is not an id`, [{ path: name, message: 'not an id' }]);
  return n;
}

export function problem(c: Context, e: HeraldError): Response {
  const body = { type: e.type, title: e.title, status: e.status, detail: e.message, ...(e.errors ? { errors: e.errors } : {}) };
  return new Response(JSON.stringify(body), {
    status: e.status,
    headers: { 'content-type': 'application/problem+json', ...(e.headers ?? {}) },
  });
}
