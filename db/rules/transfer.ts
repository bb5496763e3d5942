// Rule export and import (docs/design.md: `GET /v1/rules/export?format=json|yaml`, `POST /v1/rules/import`, all or
// nothing). The document is `{ version: 1, rules: [...] }` with rule fields only (no ids, org, timestamps),
// so a file exported from one Herald imports into another. Import validates every rule before anything is
// written: one bad rule rejects the whole document with a 400 naming each bad field (`rules.3.match...`).
// Rules are matched by name (planImport below): merge by default, replace only when asked.
import YAML from 'yaml';
import { z } from 'zod';
import { invalid, parse } from '../errors';
import { RuleInputSchema, type RuleInput } from './schema';

export const RULES_DOCUMENT_VERSION = 1;
/** More rules than this in one document is a mistake, not a configuration. */
export const MAX_IMPORTED_RULES = 1_000;

const RULE_KEYS = Object.keys(RuleInputSchema.shape) as Array<keyof RuleInput>;

export const RulesDocumentSchema = z
  .object({
    version: z.literal(RULES_DOCUMENT_VERSION).optional(),
    rules: z.array(RuleInputSchema).max(MAX_IMPORTED_RULES),
  })
  .strict();

/** One rule as exported: only the schema's fields, in schema order at every level, defaults filled. */
function exportable(rule: RuleInput): RuleInput {
  const picked: Record<string, unknown> = {};
  for (const k of RULE_KEYS) picked[k] = (rule as Record<string, unknown>)[k];
  const r = RuleInputSchema.safeParse(picked);
  // A stored rule is valid by construction; should an old one fail a newer schema, export it as it is
  // rather than fail the whole export (the import will then name what needs fixing).
  return r.success ? r.data : (picked as RuleInput);
}

export function exportRules(rules: RuleInput[], format: 'json' | 'yaml'): string {
  const doc = { version: RULES_DOCUMENT_VERSION, rules: rules.map(exportable) };
  if (format === 'yaml') return YAML.stringify(doc, { lineWidth: 0 });
  return `${JSON.stringify(doc, null, 2)}\n`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const message = `not valid JSON: ${(e as Error).message}`;
    throw invalid(`The rules document is ${message}`, [{ path: '(root)', message }]);
  }
}

function parseYaml(text: string, what: string): unknown {
  let doc: YAML.Document.Parsed;
  try {
    // logLevel 'silent': warnings stay in doc.warnings instead of the process log.
    doc = YAML.parseDocument(text, { logLevel: 'silent', prettyErrors: true });
    if (doc.errors.length) throw doc.errors[0];
    // toJS bounds alias expansion (maxAliasCount), so a "billion laughs" document fails instead of
    // exhausting memory.
    return doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    const message = `not valid ${what}: ${(e as Error).message}`;
    throw invalid(`The rules document is ${message}`, [{ path: '(root)', message }]);
  }
}

function decode(text: string, contentType?: string): unknown {
  const ct = (contentType ?? '').toLowerCase();
  if (/json/.test(ct)) return parseJson(text);
  if (/ya?ml/.test(ct)) return parseYaml(text, 'YAML');
  try {
    return JSON.parse(text);
  } catch {
    // YAML is a superset of JSON, so a broken JSON document gets YAML's (line-numbered) message.
    return parseYaml(text, 'JSON or YAML');
  }
}

/**
 * Reads an import: JSON or YAML (by content type, else JSON first then YAML), either the export document
 * or a bare array of rules. Returns every rule validated with defaults filled, or throws the 400
 * HeraldError naming each bad field as `rules.<i>.<path>` — never a partial list.
 */
export function parseRulesDocument(text: string, contentType?: string): { rules: RuleInput[] } {
  if (typeof text !== 'string') throw invalid('The rules document must be text');
  const data = decode(text, contentType);
  const doc = Array.isArray(data) ? { rules: data } : data;
  if (doc === null || typeof doc !== 'object')
    throw invalid('The rules document must be an object { version: 1, rules: [...] } or an array of rules', [
      { path: '(root)', message: 'expected an object with rules, or an array of rules' },
    ]);
  const parsed = parse(RulesDocumentSchema, doc, 'rules document');
  return { rules: parsed.rules };
}

// ---- Import plan: what an import does to the organisation's rules (docs/design.md "Working on an alert together":
// `POST /v1/rules/import?mode=merge|replace&dry_run=1` → `{added, changed, unchanged, removed, items}`).
// Rules are matched by name. `merge` (the default) adds and updates and removes nothing; `replace` also
// removes every existing rule the document does not name. The plan is pure: the verb applies it.

export const IMPORT_MODES = ['merge', 'replace'] as const;
export type ImportMode = (typeof IMPORT_MODES)[number];
export type ImportOutcome = 'added' | 'changed' | 'unchanged' | 'removed';

/** An existing rule as the plan needs it (a stored Rule fits). */
export interface ExistingRule extends RuleInput {
  id: number;
}

export interface PlannedRule {
  outcome: ImportOutcome;
  name: string;
  /** The existing rule's id; null for a rule the import adds. */
  id: number | null;
  /** For `changed`: the fields that differ, e.g. `priority`, `match.min_severity`, `escalation.steps`. */
  fields?: string[];
  /** The rule as it will be (added, changed, unchanged) or as it was (removed). */
  rule: RuleInput;
  /** For `changed`: the rule as it is now. */
  previous?: RuleInput;
}

export interface ImportPlan {
  added: number;
  changed: number;
  unchanged: number;
  removed: number;
  /** Document order for the document's rules, then the removed rules in list order. */
  items: PlannedRule[];
}

/** Two names the same in one document would make "update by name" ambiguous: a 400 naming each. */
export function assertUniqueNames(rules: RuleInput[]): void {
  const firstAt = new Map<string, number>();
  const dupes: Array<{ name: string; at: number[] }> = [];
  rules.forEach((r, i) => {
    const first = firstAt.get(r.name);
    if (first === undefined) return void firstAt.set(r.name, i);
    const d = dupes.find((x) => x.name === r.name);
    if (d) d.at.push(i);
    else dupes.push({ name: r.name, at: [first, i] });
  });
  if (!dupes.length) return;
  const errors = dupes.flatMap((d) => d.at.slice(1).map((i) => ({ path: `rules.${i}.name`, message: `"${d.name}" is also the name of rules.${d.at[0]}; rule names must be unique` })));
  throw invalid(`Rule names must be unique in the document (rules are matched by name): ${dupes.map((d) => `"${d.name}" (rules ${d.at.join(', ')})`).join('; ')}`, errors);
}

/** JSON text with object keys sorted and undefined dropped: equal rules give equal text whatever the key order. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, (x as Record<string, unknown>)[k]])) : x)) ?? 'null';
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The fields that differ between two rules; an object field (match, targets, escalation, sop) by its keys. */
export function changedFields(before: RuleInput, after: RuleInput): string[] {
  const out: string[] = [];
  for (const k of RULE_KEYS) {
    const a = (before as Record<string, unknown>)[k];
    const b = (after as Record<string, unknown>)[k];
    if (canonical(a) === canonical(b)) continue;
    if (isPlainObject(a) && isPlainObject(b)) {
      const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
      const inner = keys.filter((s) => canonical(a[s]) !== canonical(b[s])).map((s) => `${k}.${s}`);
      out.push(...(inner.length ? inner : [k]));
    } else out.push(k);
  }
  return out;
}

/**
 * What importing `incoming` (validated, names unique) does to `existing` (in list order: position, id).
 * A name matches the first existing rule with that name; further existing rules of the same name are not in
 * the document, so `replace` removes them and `merge` leaves them.
 */
export function planImport(existing: ExistingRule[], incoming: RuleInput[], mode: ImportMode): ImportPlan {
  const byName = new Map<string, ExistingRule>();
  for (const r of existing) if (!byName.has(r.name)) byName.set(r.name, r);
  const matched = new Set<number>();
  const items: PlannedRule[] = [];
  for (const rule of incoming) {
    const old = byName.get(rule.name);
    if (!old) {
      items.push({ outcome: 'added', name: rule.name, id: null, rule });
      continue;
    }
    matched.add(old.id);
    const previous = exportable(old);
    const fields = changedFields(previous, rule);
    items.push(fields.length ? { outcome: 'changed', name: rule.name, id: old.id, fields, rule, previous } : { outcome: 'unchanged', name: rule.name, id: old.id, rule });
  }
  if (mode === 'replace') {
    for (const r of existing) if (!matched.has(r.id)) items.push({ outcome: 'removed', name: r.name, id: r.id, rule: exportable(r) });
  }
  const count = (o: ImportOutcome) => items.filter((i) => i.outcome === o).length;
  return { added: count('added'), changed: count('changed'), unchanged: count('unchanged'), removed: count('removed'), items };
}
