// Domain errors. The API's one error handler maps each to an application/problem+json response;
// anything else is a bug and is logged, but still answered without leaking internals.
export interface FieldError { path: string; message: string }

export class HeraldError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(detail);
  }
  get type(): string {
    return `https://herald.dev/problems/${this.title.toLowerCase().replace(/[^a-z]+/g, '-')}`;
  }
}

export const invalid = (detail: string, errors?: FieldError[]) => new HeraldError(400, 'Invalid request', detail, errors);
export const unauthenticated = (detail: string) => new HeraldError(401, 'Unauthenticated', detail);
export const forbidden = (detail: string) => new HeraldError(403, 'Forbidden', detail);
export const notFound = (what: string) => new HeraldError(404, 'Not found', `${what} does not exist`);
export const conflict = (detail: string) => new HeraldError(409, 'Conflict', detail);
// The rest of an oversized body is not read, so the connection cannot be reused.
export const tooLarge = (detail: string) => new HeraldError(413, 'Payload too large', detail, undefined, { Connection: 'close' });
export const unsupportedMediaType = (detail: string) => new HeraldError(415, 'Unsupported media type', detail);
export const rateLimited = (detail: string, retryAfterSeconds: number) =>
  new HeraldError(429, 'Too many requests', detail, undefined, { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) });

/** Parses with a zod schema and turns failures into a 400 naming every bad field. */
import type { z } from 'zod';
export function parse<S extends z.ZodType>(schema: S, input: unknown, what = 'body'): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const errors = r.error.issues.map((i) => ({
    path: i.path.length ? i.path.map(String).join('.') : '(root)',
    message: i.message,
  }));
  throw invalid(`The ${what} is invalid: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors);
}

/**
 * A value Postgres refused as data (SQLSTATE class 22: out-of-range dates, untranslatable characters, bad
 * escapes; class 54: nesting or size beyond its limits) is the input's fault: a 400, not a 500. Validation
 * should have caught it first (platform/input.ts); this is the net under it. Null for any other error.
 */
export function refusedByDatabase(e: unknown): HeraldError | null {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !/^(22|54)[0-9A-Z]{3}$/.test(code) || !(e instanceof Error) || e.name !== 'PostgresError') return null;
  return invalid(`The database refused a value in the request: ${e.message}`);
}
