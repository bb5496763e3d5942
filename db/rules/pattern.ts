// Regular expressions of `matches` conditions run on RE2 (the re2js port): matching time is linear in the
// input whatever the pattern, so no rule can freeze the event loop (a backtracking `^(a+)+$` on 28 × "a" + "!"
// took seconds with RegExp). RE2 refuses what it cannot run in linear time (backreferences, lookaround) and
// repeat counts over 1,000; Herald also refuses patterns over 1,000 characters or whose compiled program is
// larger than 1,000 instructions (RE2's own measure of cost; the time per character grows with it).
// Syntax: https://github.com/google/re2/wiki/Syntax. Differences from RegExp worth knowing: `\d \w \s \b` are
// ASCII, `.` is any character but `\n`, and matching is by code point.
import { RE2JS } from 're2js';

export const PATTERN_MAX_LENGTH = 1_000;
export const PATTERN_MAX_PROGRAM = 1_000;
const CACHE_LIMIT = 500;

type Compiled = { re: RE2JS; problem: null } | { re: null; problem: string };

/** pattern → compiled RE2 or why not. Map order is recency; bounded (least recently used evicted). */
const cache = new Map<string, Compiled>();

function compileUncached(pattern: string): Compiled {
  if (pattern.length > PATTERN_MAX_LENGTH) return { re: null, problem: `longer than ${PATTERN_MAX_LENGTH} characters` };
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (e) {
    return { re: null, problem: String((e as Error).message ?? e).replace(/^error parsing regexp: /, '') };
  }
  const size = re.programSize();
  if (size > PATTERN_MAX_PROGRAM) return { re: null, problem: `too complex (program size ${size}, at most ${PATTERN_MAX_PROGRAM}); use smaller repeat counts` };
  return { re, problem: null };
}

/** The compiled pattern, compiled once and cached; null when it cannot run (it then never matches). */
export function compilePattern(pattern: string): Compiled {
  const hit = cache.get(pattern);
  if (hit) {
    cache.delete(pattern); // refresh recency
    cache.set(pattern, hit);
    return hit;
  }
  const c = compileUncached(pattern);
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(pattern, c);
  return c;
}

/** Why a pattern is refused when a rule is saved, or null when it is fine. */
export const patternProblem = (pattern: string): string | null => compilePattern(pattern).problem;

/** For tests and metrics: how many patterns are cached now. */
export const patternCacheSize = () => cache.size;
