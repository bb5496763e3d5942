// Rule verbs: permission, validation, storage, preview sentence, import/export. (The dry run of an event
// through the rules is a routing question: db/events/dry-run.ts.)
import { z } from 'zod';
import type { Herald } from '../herald';
import { require, type Actor } from '../actor';
import { invalid, notFound, parse, type FieldError } from '../errors';
import { scheduleNames, unknownSchedules } from '../schedules/repo';
import { RuleInputSchema, type Rule, type RuleInput } from './schema';
import { deleteRule, getRule, insertRule, listRules, ruleInputOf, updateRule } from './repo';
import { rulePreview } from './preview';
import { assertUniqueNames, exportRules, IMPORT_MODES, parseRulesDocument, planImport } from './transfer';
import { recordAudit } from '../audit/record';

/** The names a preview sentence needs: the people and the schedules the rules name. */
export interface PreviewNames { users: Map<number, string>; schedules: Map<number, string> }

export async function previewNames(h: Herald, orgId: number, rules: RuleInput[]): Promise<PreviewNames> {
  const ids = [...new Set(rules.flatMap((r) => [...(r.targets.schedules ?? []), ...r.escalation.steps.flatMap((s) => s.schedules ?? [])]))];
  const [users, schedules] = await Promise.all([userNames(h, orgId, rules), scheduleNames(h.sql, orgId, ids)]);
  return { users, schedules };
}

/** A rule naming a schedule that does not exist is refused (by field), like an unknown role would be. */
async function checkSchedules(h: Herald, orgId: number, rule: RuleInput, prefix = '') {
  const errors: FieldError[] = [];
  const named = [...(rule.targets.schedules ?? []).map((id, i) => ({ id, path: `targets.schedules.${i}` })),
    ...rule.escalation.steps.flatMap((s, j) => (s.schedules ?? []).map((id, i) => ({ id, path: `escalation.steps.${j}.schedules.${i}` })))];
  const unknown = new Set(await unknownSchedules(h.sql, orgId, [...new Set(named.map((n) => n.id))]));
  for (const n of named) if (unknown.has(n.id)) errors.push({ path: prefix + n.path, message: `unknown schedule ${n.id}` });
  if (errors.length) throw invalid(`The rule is invalid: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors);
}

export async function userNames(h: Herald, orgId: number, rules: RuleInput[]): Promise<Map<number, string>> {
  const ids = [...new Set(rules.flatMap((r) => [...r.targets.users, ...r.escalation.steps.flatMap((s) => s.users)]))];
  if (!ids.length) return new Map();
  const rows = await h.sql<{ id: number; name: string }[]>`select id, name from users where org_id = ${orgId} and id = any(${ids}::bigint[])`;
  return new Map(rows.map((r) => [Number(r.id), r.name]));
}

async function withPreview(h: Herald, orgId: number, rules: Rule[]) {
  const names = await previewNames(h, orgId, rules);
  return rules.map((r) => ({ ...r, preview: rulePreview(r, names.users, names.schedules) }));
}

export async function listRulesVerb(h: Herald, actor: Actor) {
  require(actor, 'rules:read');
  return withPreview(h, actor.orgId, await listRules(h.sql, actor.orgId));
}

export async function getRuleVerb(h: Herald, actor: Actor, id: number) {
  require(actor, 'rules:read');
  const r = await getRule(h.sql, actor.orgId, id);
  if (!r) throw notFound(`Rule ${id}`);
  return (await withPreview(h, actor.orgId, [r]))[0];
}

export async function createRuleVerb(h: Herald, actor: Actor, input: unknown) {
  require(actor, 'rules:write');
  const rule = parse(RuleInputSchema, input);
  await checkSchedules(h, actor.orgId, rule);
  const saved = await h.sql.begin(async (tx) => {
    const r = await insertRule(tx, actor.orgId, rule);
    await recordAudit(tx, actor, 'rule.created', { kind: 'rule', id: r.id, label: r.name }, { after: r });
    return r;
  });
  return (await withPreview(h, actor.orgId, [saved]))[0];
}

export async function patchRuleVerb(h: Herald, actor: Actor, id: number, patch: unknown) {
  require(actor, 'rules:write');
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) throw invalid('The body must be a JSON object of rule fields');
  return h.sql.begin(async (tx) => {
    const [locked] = await tx`select id from rules where org_id = ${actor.orgId} and id = ${id} for update`;
    if (!locked) throw notFound(`Rule ${id}`);
    const current = (await getRule(tx, actor.orgId, id))!;
    const merged = parse(RuleInputSchema, { ...ruleInputOf(current), ...(patch as object) });
    await checkSchedules(h, actor.orgId, merged);
    const saved = (await updateRule(tx, actor.orgId, id, merged))!;
    await recordAudit(tx, actor, 'rule.updated', { kind: 'rule', id, label: saved.name }, { before: current, after: saved });
    const names = await previewNames(h, actor.orgId, [saved]);
    return { ...saved, preview: rulePreview(saved, names.users, names.schedules) };
  });
}

export async function deleteRuleVerb(h: Herald, actor: Actor, id: number) {
  require(actor, 'rules:write');
  await h.sql.begin(async (tx) => {
    const current = await getRule(tx, actor.orgId, id);
    if (!current || !(await deleteRule(tx, actor.orgId, id))) throw notFound(`Rule ${id}`);
    await recordAudit(tx, actor, 'rule.deleted', { kind: 'rule', id, label: current.name }, { before: current });
  });
}

/** The sentence for a rule being edited (not saved). */
export async function previewVerb(h: Herald, actor: Actor, input: unknown) {
  require(actor, 'rules:read');
  const body = input && typeof input === 'object' && 'rule' in (input as object) ? (input as { rule: unknown }).rule : input;
  const rule = parse(RuleInputSchema, body, 'rule');
  const names = await previewNames(h, actor.orgId, [rule]);
  return { preview: rulePreview(rule, names.users, names.schedules) };
}

export async function exportVerb(h: Herald, actor: Actor, format: string) {
  require(actor, 'rules:read');
  if (format !== 'json' && format !== 'yaml') throw invalid('format must be json or yaml', [{ path: 'format', message: 'use json or yaml' }]);
  const rules = await listRules(h.sql, actor.orgId);
  return exportRules(rules.map(ruleInputOf), format);
}

export const ImportQuerySchema = z.object({
  mode: z.enum(IMPORT_MODES).default('merge'),
  // `?dry_run` alone is a flag, so the empty value means yes.
  dry_run: z.enum(['1', 'true', '', '0', 'false'], { message: 'use dry_run=1 (or true), or leave it out' }).default('0').transform((v) => v !== '0' && v !== 'false'),
});

/**
 * `POST /v1/rules/import?mode=merge|replace&dry_run=1`: rules matched by name; `merge` (the default) adds and
 * updates and removes nothing, `replace` also removes the rules the document does not name, `dry_run` only
 * says what would happen. The document is validated whole first, then applied in one transaction.
 * `imported` (the number of rules in the document) is kept for clients of the first version.
 */
export async function importVerb(h: Herald, actor: Actor, text: string, contentType?: string, query: unknown = {}) {
  require(actor, 'rules:write');
  const q = parse(ImportQuerySchema, query, 'query');
  const doc = parseRulesDocument(text, contentType);
  assertUniqueNames(doc.rules);
  for (const [i, r] of doc.rules.entries()) await checkSchedules(h, actor.orgId, r, `rules.${i}.`);
  const plan = q.dry_run
    ? planImport(await listRules(h.sql, actor.orgId), doc.rules, q.mode)
    : await h.sql.begin(async (tx) => {
        // Imports of one organisation run one at a time, on rows no one else is changing.
        await tx`select pg_advisory_xact_lock(hashtextextended(${`herald-rules-import:${actor.orgId}`}, 0))`;
        await tx`select id from rules where org_id = ${actor.orgId} for update`;
        const p = planImport(await listRules(tx, actor.orgId), doc.rules, q.mode);
        for (const item of p.items) {
          if (item.outcome === 'added') item.id = (await insertRule(tx, actor.orgId, item.rule)).id;
          else if (item.outcome === 'changed') await updateRule(tx, actor.orgId, item.id!, item.rule);
          else if (item.outcome === 'removed') await deleteRule(tx, actor.orgId, item.id!);
        }
        // One row for the import (one verb, one change): what each rule was and became, by name.
        const touched = p.items.filter((i) => i.outcome !== 'unchanged');
        await recordAudit(tx, actor, 'rule.imported', { kind: 'rule', label: `${q.mode} import` }, {
          before: Object.fromEntries(touched.filter((i) => i.previous || i.outcome === 'removed').map((i) => [i.name, i.previous ?? i.rule])),
          after: { mode: q.mode, added: p.added, changed: p.changed, removed: p.removed, unchanged: p.unchanged,
            rules: Object.fromEntries(touched.filter((i) => i.outcome !== 'removed').map((i) => [i.name, i.rule])) },
        });
        return p;
      });
  const names = await previewNames(h, actor.orgId, plan.items.flatMap((i) => (i.previous ? [i.rule, i.previous] : [i.rule])));
  return {
    mode: q.mode,
    dry_run: q.dry_run,
    added: plan.added,
    changed: plan.changed,
    unchanged: plan.unchanged,
    removed: plan.removed,
    imported: plan.added + plan.changed + plan.unchanged,
    items: plan.items.map((i) => ({
      outcome: i.outcome,
      name: i.name,
      id: i.id,
      ...(i.fields ? { fields: i.fields } : {}),
      preview: rulePreview(i.rule, names.users, names.schedules),
      ...(i.previous ? { previous_preview: rulePreview(i.previous, names.users, names.schedules) } : {}),
    })),
  };
}
