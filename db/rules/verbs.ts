// Rule verbs: permission, validation, storage, preview sentence, import/export. (The dry run of an event
// through the rules is a routing question: db/events/dry-run.ts.)
import type { Herald } from '../herald';
import { require, type Actor } from '../actor';
import { invalid, notFound, parse } from '../errors';
import { RuleInputSchema, type Rule, type RuleInput } from './schema';
import { deleteRule, getRule, insertRule, listRules, ruleInputOf, updateRule } from './repo';
import { rulePreview } from './preview';
import { exportRules, parseRulesDocument } from './transfer';

export async function userNames(h: Herald, orgId: number, rules: RuleInput[]): Promise<Map<number, string>> {
  const ids = [...new Set(rules.flatMap((r) => [...r.targets.users, ...r.escalation.steps.flatMap((s) => s.users)]))];
  if (!ids.length) return new Map();
  const rows = await h.sql<{ id: number; name: string }[]>`select id, name from users where org_id = ${orgId} and id = any(${ids}::bigint[])`;
  return new Map(rows.map((r) => [Number(r.id), r.name]));
}

async function withPreview(h: Herald, orgId: number, rules: Rule[]) {
  const names = await userNames(h, orgId, rules);
  return rules.map((r) => ({ ...r, preview: rulePreview(r, names) }));
}

export async function listRulesVerb(h: Herald, actor: Actor) {
  require(actor, 'alerts:read');
  return withPreview(h, actor.orgId, await listRules(h.sql, actor.orgId));
}

export async function getRuleVerb(h: Herald, actor: Actor, id: number) {
  require(actor, 'alerts:read');
  const r = await getRule(h.sql, actor.orgId, id);
  if (!r) throw notFound(`Rule ${id}`);
  return (await withPreview(h, actor.orgId, [r]))[0];
}

export async function createRuleVerb(h: Herald, actor: Actor, input: unknown) {
  require(actor, 'admin');
  const rule = parse(RuleInputSchema, input);
  return (await withPreview(h, actor.orgId, [await insertRule(h.sql, actor.orgId, rule)]))[0];
}

export async function patchRuleVerb(h: Herald, actor: Actor, id: number, patch: unknown) {
  require(actor, 'admin');
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) throw invalid('The body must be a JSON object of rule fields');
  return h.sql.begin(async (tx) => {
    const [locked] = await tx`select id from rules where org_id = ${actor.orgId} and id = ${id} for update`;
    if (!locked) throw notFound(`Rule ${id}`);
    const current = (await getRule(tx, actor.orgId, id))!;
    const merged = parse(RuleInputSchema, { ...ruleInputOf(current), ...(patch as object) });
    const saved = (await updateRule(tx, actor.orgId, id, merged))!;
    return { ...saved, preview: rulePreview(saved, await userNames(h, actor.orgId, [saved])) };
  });
}

export async function deleteRuleVerb(h: Herald, actor: Actor, id: number) {
  require(actor, 'admin');
  if (!(await deleteRule(h.sql, actor.orgId, id))) throw notFound(`Rule ${id}`);
}

/** The sentence for a rule being edited (not saved). */
export async function previewVerb(h: Herald, actor: Actor, input: unknown) {
  require(actor, 'alerts:read');
  const body = input && typeof input === 'object' && 'rule' in (input as object) ? (input as { rule: unknown }).rule : input;
  const rule = parse(RuleInputSchema, body, 'rule');
  return { preview: rulePreview(rule, await userNames(h, actor.orgId, [rule])) };
}

export async function exportVerb(h: Herald, actor: Actor, format: string) {
  require(actor, 'alerts:read');
  if (format !== 'json' && format !== 'yaml') throw invalid('format must be json or yaml', [{ path: 'format', message: 'use json or yaml' }]);
  const rules = await listRules(h.sql, actor.orgId);
  return exportRules(rules.map(ruleInputOf), format);
}

/** Replaces every rule with the document's rules, all or nothing. */
export async function importVerb(h: Herald, actor: Actor, text: string, contentType?: string) {
  require(actor, 'admin');
  const doc = parseRulesDocument(text, contentType);
  const saved = await h.sql.begin(async (tx) => {
    await tx`delete from rules where org_id = ${actor.orgId}`;
    const out: Rule[] = [];
    for (const r of doc.rules) out.push(await insertRule(tx, actor.orgId, r));
    return out;
  });
  return { imported: saved.length, items: await withPreview(h, actor.orgId, saved) };
}
