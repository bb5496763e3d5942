// Request helpers shared by every router.
import type { Context } from 'hono';
import { invalid, type HeraldError } from '../db/errors';

/** Reads a JSON body; malformed JSON is a 400 that says where it broke. */
export async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
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
