// Rule matching (docs/design.md "A rule"): pure functions over an event, no database. The router calls
// selectRules for every event, so these run on outside input and must never throw: a throw here would
// fail the whole routing batch, and a surprising match would page the wrong people.
//
// Condition semantics (ops `eq neq gt gte lt lte in contains exists matches`):
// - The field is read with getField: own data properties only, so `metadata.__proto__`, `metadata.toString`
//   or `entity.constructor` are missing unless the event really carries such a key (JSON.parse creates an
//   own `__proto__` key; that one is data, not a prototype). Arrays are indexed by digits only
//   (`metadata.items.0`); strings and other primitives have no sub-fields.
// - A missing field never matches, whatever the op (also `neq`: "amount ≠ 5" says nothing about an event
//   without an amount). `null` is a present value for eq/neq/in, but `exists` is false for missing and null.
// - "Numeric" means a number other than NaN, or a string holding a decimal number ("10000", "-1.5", "2e3").
// - eq/neq/in: two strings compare exactly ("007" ≠ "7", long id strings keep every digit); otherwise two
//   numerics compare numerically ("10000" eq 10000); anything else by JSON deep equality (booleans,
//   null, arrays, objects). neq is the negation of eq on a present field. `in` holds when some element of
//   the rule's array equals the field (same equality); a non-array value never matches.
// - gt/gte/lt/lte: two numerics compare numerically (also two numeric strings: "10" > "9"); two other
//   strings compare by UTF-16 code units (so ISO timestamps order correctly); any other pair never
//   matches. gte/lte are "order ≥ 0 / ≤ 0", so for numbers gte is exactly gt ∪ eq.
// - contains: a string field includes the value as a substring (case-sensitive; a numeric value is
//   written out, so "order 1042" contains 1042); an array field includes an element equal to the value;
//   anything else never matches.
// - matches: the value is an RE2 regular expression (no flags; see pattern.ts), unanchored, tested against the
//   string form of a string or finite-number field; any other field never matches. Matching is linear in the
//   input (no backtracking). Input longer than 10,000 characters is cut to its first 10,000 before testing.
//   Compiled patterns are cached (bounded, least recently used evicted); a pattern RE2 cannot compile (or
//   that is too large, see pattern.ts) never matches; such patterns are refused when a rule is saved.
import { type Condition, type MatchableEvent, type RuleInput } from './schema';
import { severityRank } from '../model/levels';
import { compilePattern, patternCacheSize } from './pattern';

const hasOwn = Object.prototype.hasOwnProperty;

/** Reads `metadata.a.b` or `entity.kind` from an event; undefined when any step is missing. Never throws. */
export function getField(ev: MatchableEvent, path: string): unknown {
  try {
    if (typeof path !== 'string' || ev === null || typeof ev !== 'object') return undefined;
    const parts = path.split('.');
    const root = parts.shift();
    let cur: unknown;
    if (root === 'metadata') cur = ownValue(ev, 'metadata');
    else if (root === 'entity') cur = ownValue(ev, 'entity');
    else return undefined;
    if (parts.length === 0) return undefined; // `metadata` alone is not a field
    for (const key of parts) {
      if (cur === null || typeof cur !== 'object') return undefined;
      if (Array.isArray(cur) && !/^(0|[1-9]\d*)$/.test(key)) return undefined;
      cur = ownValue(cur as object, key);
      if (cur === undefined) return undefined;
    }
    return cur;
  } catch {
    // A Proxy or exotic object in the event: treat as missing rather than fail routing.
    return undefined;
  }
}

/** An own data property's value; accessors (getters) and inherited properties are missing. */
function ownValue(obj: object, key: string): unknown {
  const d = Object.getOwnPropertyDescriptor(obj, key);
  return d && 'value' in d ? d.value : undefined;
}

// Unambiguous (no nested or adjacent repeats over the same characters), so it is linear on any input.
const NUMERIC = /^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/;

/** The number a numeric value stands for; undefined when it is not numeric. */
export function num(x: unknown): number | undefined {
  if (typeof x === 'number') return Number.isNaN(x) ? undefined : x;
  if (typeof x === 'string' && x.length <= 400 && NUMERIC.test(x)) {
    const n = Number(x);
    return Number.isNaN(n) ? undefined : n;
  }
  return undefined;
}

function equal(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a === b;
  const na = num(a);
  const nb = num(b);
  if (na !== undefined && nb !== undefined) return na === nb;
  return deepEqual(a, b, 0);
}

function deepEqual(a: unknown, b: unknown, depth: number): boolean {
  if (a === b) return true;
  if (depth > 100 || a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i], depth + 1));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => hasOwn.call(b, k) && deepEqual(ownValue(a, k), ownValue(b, k), depth + 1));
}

/** Sign of a - b, or undefined when the two cannot be ordered. */
function order(a: unknown, b: unknown): number | undefined {
  const na = num(a);
  const nb = num(b);
  if (na !== undefined && nb !== undefined) return na === nb ? 0 : na > nb ? 1 : -1;
  if (typeof a === 'string' && typeof b === 'string') return a === b ? 0 : a > b ? 1 : -1;
  return undefined;
}

export const MATCH_INPUT_LIMIT = 10_000;

/** For tests and metrics: how many patterns are cached now. */
export const regexCacheSize = patternCacheSize;

/** Does one condition hold for the event? Semantics in the header comment. Never throws. */
export function conditionHolds(c: Condition, ev: MatchableEvent): boolean {
  try {
    const field = getField(ev, c.field);
    if (field === undefined) return false;
    const value = c.value;
    switch (c.op) {
      case 'exists':
        return field !== null;
      case 'eq':
        return equal(field, value);
      case 'neq':
        return !equal(field, value);
      case 'gt': {
        const o = order(field, value);
        return o !== undefined && o > 0;
      }
      case 'gte': {
        const o = order(field, value);
        return o !== undefined && o >= 0;
      }
      case 'lt': {
        const o = order(field, value);
        return o !== undefined && o < 0;
      }
      case 'lte': {
        const o = order(field, value);
        return o !== undefined && o <= 0;
      }
      case 'in':
        return Array.isArray(value) && value.some((v) => equal(field, v));
      case 'contains':
        if (typeof field === 'string') {
          if (typeof value === 'string') return field.includes(value);
          if (typeof value === 'number' && Number.isFinite(value)) return field.includes(String(value));
          return false;
        }
        if (Array.isArray(field)) return field.some((el) => equal(el, value));
        return false;
      case 'matches': {
        if (typeof value !== 'string') return false;
        let s: string;
        if (typeof field === 'string') s = field;
        else if (typeof field === 'number' && Number.isFinite(field)) s = String(field);
        else return false;
        const { re } = compilePattern(value);
        if (!re) return false;
        return re.test(s.length > MATCH_INPUT_LIMIT ? s.slice(0, MATCH_INPUT_LIMIT) : s);
      }
      default:
        return false; // an op this code does not know never matches
    }
  } catch {
    return false;
  }
}

/** Enabled, same category, same type (or the rule takes all types), severity high enough, every condition. */
export function ruleMatches(rule: Pick<RuleInput, 'match' | 'enabled'>, ev: MatchableEvent): boolean {
  if (!rule.enabled) return false;
  const m = rule.match;
  if (m.category !== ev.category) return false;
  if (m.type !== null && m.type !== undefined && m.type !== ev.type) return false;
  const evRank = severityRank(ev.severity);
  if (evRank < 0 || evRank < severityRank(m.min_severity ?? 'info')) return false;
  return (m.conditions ?? []).every((c) => conditionHolds(c, ev));
}

/**
 * The rules an event goes to, in order: rules by (position, id); the first match wins and ends the walk
 * unless it says `continue`, then the walk goes on to the next match (which may itself stop it).
 */
export function selectRules<R extends Pick<RuleInput, 'match' | 'enabled' | 'continue' | 'position'> & { id: number }>(
  rules: R[],
  ev: MatchableEvent,
): R[] {
  const sorted = [...rules].sort((a, b) => a.position - b.position || a.id - b.id);
  const out: R[] = [];
  for (const r of sorted) {
    if (!ruleMatches(r, ev)) continue;
    out.push(r);
    if (!r.continue) break;
  }
  return out;
}
