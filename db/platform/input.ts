// Outside input that every schema shares: the one text type, JSON values with bounds, and bounded dates.
//
// Postgres cannot store a NUL character in text or jsonb, and a lone UTF-16 surrogate (half of a pair, as
// JSON's "\ud800" can carry) is not a character at all: one such string used to fail the write that carried it
// and every request grouped with it. So every string that comes from outside is `text()`, which refuses both
// with a 400 naming the field; JSON values (event metadata, rule values) go through `jsonValue()`, which checks
// every key and string inside, and bounds depth and size; instants through `instant()`, which bounds the year.
import { z } from 'zod';

/** A NUL character or a surrogate code unit without its pair (in `u` mode a well-formed pair is one code point). */
const BAD_CHAR = /[\u0000\p{Cs}]/u;

/** Why a string cannot be accepted, or null when it can. */
export function badTextReason(s: string): string | null {
  if (!BAD_CHAR.test(s)) return null;
  return s.includes('\u0000') ? 'must not contain a NUL character (\\u0000)' : 'must not contain an unpaired UTF-16 surrogate';
}

/**
 * The string type for every outside string: refuses NUL and lone surrogates before any other check runs
 * (so the field's error says what is wrong). Chain `.trim().min().max().regex()` as on `z.string()`.
 */
export const text = () =>
  z.string().check(
    z.refine((s: string) => !BAD_CHAR.test(s), {
      abort: true,
      error: (iss) => badTextReason(typeof iss.input === 'string' ? iss.input : '') ?? 'invalid text',
    }),
  );

export const JSON_MAX_DEPTH = 32;
/** Size of a JSON value: characters of every key and string, plus one per value. */
export const JSON_MAX_SIZE = 64 * 1024;

/**
 * Checks an already-parsed JSON value: every key and string is `text()`-clean, numbers are finite, nesting is at
 * most `maxDepth` containers deep and the size (see JSON_MAX_SIZE) is bounded. Stops at the first problem, whose
 * path is returned relative to the value. Never recurses deeper than maxDepth + 1.
 */
export function jsonProblem(value: unknown, maxDepth = JSON_MAX_DEPTH, maxSize = JSON_MAX_SIZE): { path: (string | number)[]; message: string } | null {
  let size = 0;
  const path: (string | number)[] = [];
  const walk = (v: unknown, depth: number): string | null => {
    size += 1;
    if (typeof v === 'string') {
      size += v.length;
      return badTextReason(v);
    }
    if (typeof v === 'number') return Number.isFinite(v) ? null : 'must be a finite number';
    if (v === null || typeof v === 'boolean') return null;
    if (typeof v !== 'object') return 'must be JSON (string, number, boolean, null, array or object)';
    if (depth >= maxDepth) return `is nested more than ${maxDepth} levels deep`;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        path.push(i);
        const bad = walk(v[i], depth + 1) ?? (size > maxSize ? `is larger than ${maxSize} characters` : null);
        if (bad) return bad;
        path.pop();
      }
      return null;
    }
    for (const k of Object.keys(v)) {
      path.push(k);
      size += k.length;
      const badKey = badTextReason(k);
      if (badKey) return `key ${badKey}`;
      const bad = walk((v as Record<string, unknown>)[k], depth + 1) ?? (size > maxSize ? `is larger than ${maxSize} characters` : null);
      if (bad) return bad;
      path.pop();
    }
    return null;
  };
  const message = walk(value, 0);
  return message ? { path: [...path], message } : null;
}

/** A zod refinement for JSON values (use with `.superRefine(jsonRefinement())`). `depth` counts the value itself. */
export const jsonRefinement = (maxDepth = JSON_MAX_DEPTH, maxSize = JSON_MAX_SIZE) => (v: unknown, ctx: z.RefinementCtx) => {
  const p = jsonProblem(v, maxDepth, maxSize);
  if (p) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
};

/** Any JSON value, checked as above. */
export const jsonValue = (maxDepth = JSON_MAX_DEPTH, maxSize = JSON_MAX_SIZE) => z.unknown().superRefine(jsonRefinement(maxDepth, maxSize));

export const MIN_INSTANT = Date.UTC(1970, 0, 1);
export const MAX_INSTANT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** An ISO 8601 date-time with offset (`2024-03-01T09:00:00Z`, `…+02:00`) between 1970 and the end of 9999 UTC. */
export const instant = () =>
  text().pipe(z.iso.datetime({ offset: true })).refine((s) => {
    const t = Date.parse(s);
    return Number.isFinite(t) && t >= MIN_INSTANT && t <= MAX_INSTANT;
  }, 'must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z');
