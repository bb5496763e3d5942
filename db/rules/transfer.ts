// Rule export and import (DESIGN: `GET /v1/rules/export?format=json|yaml`, `POST /v1/rules/import`, all or
// nothing). The document is `{ version: 1, rules: [...] }` with rule fields only (no ids, org, timestamps),
// so a file exported from one Herald imports into another. Import validates every rule before anything is
// written: one bad rule rejects the whole document with a 400 naming each bad field (`rules.3.match...`).
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
