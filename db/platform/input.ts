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
    stopUnlessString(),
    z.refine((s: string) => !BAD_CHAR.test(s), {
      abort: true,
      error: (iss) => badTextReason(typeof iss.input === 'string' ? iss.input : '') ?? 'invalid text',
    }),
  );

/**
 * A value that is not a string stops every further check (z.string() has already said what is wrong). zod would
 * otherwise still run length checks on anything with a `length`: `.min(1)` on `{length: [[[…]]]}` nested 20,000
 * deep compares an array with a number, turning it into text and overflowing the stack (a 500 the fuzz test found).
 */
function stopUnlessString() {
  const c = z.check((payload: { value: unknown; aborted?: boolean }) => {
    if (typeof payload.value !== 'string') payload.aborted = true;
  });
  (c._zod.def as { when?: () => boolean }).when = () => true;
  return c;
}

export const JSON_MAX_DEPTH = 32;
/** Size of a JSON value: characters of every key and string, plus one per value. */
export const JSON_MAX_SIZE = 64 * 1024;

/**
 * Checks an already-parsed JSON value: every key and string is `text()`-clean, numbers are finite, nesting is at
 * most `maxDepth` containers deep and the size (see JSON_MAX_SIZE) is bounded. Stops at the first problem, whose
 * path is returned relative to the value. Never recurses deeper than maxDepth + 1. On the ingestion hot path:
 * no allocation unless there is a problem (the path is built while unwinding).
 */
export function jsonProblem(value: unknown, maxDepth = JSON_MAX_DEPTH, maxSize = JSON_MAX_SIZE): { path: (string | number)[]; message: string } | null {
  const budget = { left: maxSize, max: maxSize };
  return walkJson(value, 0, maxDepth, budget);
}

type Problem = { path: (string | number)[]; message: string };
type Budget = { left: number; max: number };

function walkJson(v: unknown, depth: number, maxDepth: number, budget: Budget): Problem | null {
  budget.left -= 1;
  if (typeof v === 'string') {
    budget.left -= v.length;
    const bad = BAD_CHAR.test(v) ? badTextReason(v) : null;
    return bad ? { path: [], message: bad } : null;
  }
  if (typeof v === 'number') return Number.isFinite(v) ? null : { path: [], message: 'must be a finite number' };
  if (v === null || typeof v === 'boolean') return null;
  if (typeof v !== 'object') return { path: [], message: 'must be JSON (string, number, boolean, null, array or object)' };
  if (depth >= maxDepth) return { path: [], message: `is nested more than ${maxDepth} levels deep` };
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = walkJson(v[i], depth + 1, maxDepth, budget) ?? (budget.left < 0 ? tooBig(budget) : null);
      if (p) { p.path.unshift(i); return p; }
    }
    return null;
  }
  for (const k in v) {
    if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
    budget.left -= k.length;
    const badKey = BAD_CHAR.test(k) ? badTextReason(k) : null;
    const p = badKey ? { path: [], message: `key ${badKey}` } : walkJson((v as Record<string, unknown>)[k], depth + 1, maxDepth, budget) ?? (budget.left < 0 ? tooBig(budget) : null);
    if (p) { p.path.unshift(k); return p; }
  }
  return null;
}

/** Reported where the budget ran out (the caller returns at once, so only once). */
const tooBig = (budget: Budget): Problem => ({ path: [], message: `makes the value larger than ${budget.max} characters (keys and strings)` });

/** A zod refinement for JSON values (use with `.superRefine(jsonRefinement())`). `depth` counts the value itself. */
export const jsonRefinement = (maxDepth = JSON_MAX_DEPTH, maxSize = JSON_MAX_SIZE) => (v: unknown, ctx: z.RefinementCtx) => {
  const p = jsonProblem(v, maxDepth, maxSize);
  if (p) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
};

/**
 * A JSON object (event metadata), checked as above. Cheaper than `z.record(...)` plus a refinement: one walk,
 * no per-key schema calls, on the ingestion hot path.
 */
export const jsonObject = (maxDepth = JSON_MAX_DEPTH, maxSize = JSON_MAX_SIZE) =>
  z.unknown().check((ctx) => {
    const v = ctx.value;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      ctx.issues.push({ code: 'custom', input: v, message: 'must be a JSON object' });
      return;
    }
    const p = jsonProblem(v, maxDepth, maxSize);
    if (p) ctx.issues.push({ code: 'custom', input: v, path: p.path, message: p.message });
  }) as unknown as z.ZodType<Record<string, unknown>>;

/** Any JSON value, checked as above. */
export const jsonValue = (maxDepth = JSON_MAX_DEPTH, maxSize = JSON_MAX_SIZE) => z.unknown().superRefine(jsonRefinement(maxDepth, maxSize));

export const MIN_INSTANT = Date.UTC(1970, 0, 1);
export const MAX_INSTANT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** An ISO 8601 date-time with offset (`2024-03-01T09:00:00Z`, `…+02:00`) between 1970 and the end of 9999 UTC. */
export const instant = () =>
  // The ISO pattern admits no NUL or surrogate, so no text() in front of it.
  z.iso.datetime({ offset: true }).check((ctx) => {
    const t = Date.parse(ctx.value);
    if (!(t >= MIN_INSTANT && t <= MAX_INSTANT)) ctx.issues.push({ code: 'custom', input: ctx.value, message: 'must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z' });
  });
