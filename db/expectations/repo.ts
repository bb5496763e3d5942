// Expectations: "after an event of one type, expect one of some other types for the same entity (or dedup key)
// within N minutes, else post the `then` event" (a lead created and not contacted within 60 minutes; an invoice
// sent and not paid within 30 days). Only this folder queries `expectations`.
//
// Invariant: one timer per (expectation, subject), the keyed job `expectation__due`; the routing transaction
// that routes the `after` event starts it and the one that routes an expected event cancels it (./watch.ts),
// so an expected event that arrives in time always wins over the timer, and a late one never un-posts it.
import { z } from 'zod';
import type { Herald } from '../herald';
import { require, type Actor } from '../actor';
import { notFound, parse } from '../errors';
import { SEVERITIES } from '../model/levels';
import { recordAudit } from '../audit/record';

const slug = z.string().min(1).max(64).regex(/^[a-z0-9][a-z0-9_.-]*$/, 'use lowercase letters, digits, _ . -');
const kind = z.object({ category: slug, type: slug }).strict();

const Fields = {
  name: z.string().trim().min(1).max(200),
  after: kind,
  expect: z.array(kind).min(1).max(20),
  within_minutes: z.number().positive().max(366 * 24 * 60),
  same: z.enum(['entity', 'dedup_key']),
  then: z.object({ category: slug, type: slug, severity: z.enum(SEVERITIES).default('warning'), title: z.string().trim().min(1).max(500) }).strict(),
  enabled: z.boolean(),
};

const notItself = (e: { after?: { category: string; type: string }; expect?: Array<{ category: string; type: string }> }) =>
  !e.after || !e.expect || !e.expect.some((x) => x.category === e.after!.category && x.type === e.after!.type);
const itselfIssue = { message: 'an expectation cannot expect its own trigger (after)', path: ['expect'] };

export const ExpectationInputSchema = z.object({ ...Fields, enabled: Fields.enabled.default(true) }).strict().refine(notItself, itselfIssue);
export const ExpectationPatchSchema = z.object(Fields).partial().strict();

export type Expectation = z.output<typeof ExpectationInputSchema> & { id: number; org_id: number };

const view = (r: Record<string, any>) => ({
  id: Number(r.id), name: r.name, after: r.after, expect: r.expect, within_minutes: r.within_minutes, same: r.same, then: r.then,
  enabled: r.enabled, created_at: r.created_at.toISOString(), updated_at: r.updated_at.toISOString(),
});

export async function createExpectation(h: Herald, actor: Actor, input: unknown) {
  require(actor, 'integrations:write');
  const e = parse(ExpectationInputSchema, input);
  return h.sql.begin(async (tx) => {
    const [row] = await tx`
      insert into expectations (org_id, name, after, expect, within_minutes, same, "then", enabled)
      values (${actor.orgId}, ${e.name}, ${e.after as never}, ${e.expect as never}, ${e.within_minutes}, ${e.same}, ${e.then as never}, ${e.enabled})
      returning *`;
    await recordAudit(tx, actor, 'expectation.created', { kind: 'expectation', id: Number(row.id), label: row.name }, { after: view(row) });
    return view(row);
  });
}

export async function listExpectations(h: Herald, actor: Actor) {
  require(actor, 'integrations:write');
  return (await h.sql`select * from expectations where org_id = ${actor.orgId} order by id`).map(view);
}

export async function getExpectation(h: Herald, actor: Actor, id: number) {
  require(actor, 'integrations:write');
  const [row] = await h.sql`select * from expectations where org_id = ${actor.orgId} and id = ${id}`;
  if (!row) throw notFound(`Expectation ${id}`);
  return view(row);
}

/** A change applies to timers started from now on; running timers keep the time they were given. */
export async function updateExpectation(h: Herald, actor: Actor, id: number, input: unknown) {
  require(actor, 'integrations:write');
  const p = parse(ExpectationPatchSchema, input);
  return h.sql.begin(async (tx) => {
    const [cur] = await tx`select * from expectations where org_id = ${actor.orgId} and id = ${id} for update`;
    if (!cur) throw notFound(`Expectation ${id}`);
    const merged = parse(ExpectationInputSchema, {
      name: cur.name, after: cur.after, expect: cur.expect, within_minutes: cur.within_minutes, same: cur.same, then: cur.then, enabled: cur.enabled, ...p,
    });
    const [row] = await tx`
      update expectations set name = ${merged.name}, after = ${merged.after as never}, expect = ${merged.expect as never},
        within_minutes = ${merged.within_minutes}, same = ${merged.same}, "then" = ${merged.then as never}, enabled = ${merged.enabled}, updated_at = now()
      where id = ${id} returning *`;
    await recordAudit(tx, actor, 'expectation.updated', { kind: 'expectation', id, label: row.name }, { before: view(cur), after: view(row) });
    return view(row);
  });
}

/** Deleting stops its timers from posting (they find it gone and exit). */
export async function deleteExpectation(h: Herald, actor: Actor, id: number) {
  require(actor, 'integrations:write');
  await h.sql.begin(async (tx) => {
    const [row] = await tx`delete from expectations where org_id = ${actor.orgId} and id = ${id} returning *`;
    if (!row) throw notFound(`Expectation ${id}`);
    await recordAudit(tx, actor, 'expectation.deleted', { kind: 'expectation', id, label: row.name }, { before: view(row) });
  });
}
