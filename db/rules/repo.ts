// Rules storage. Only this module queries the rules table.
import type { Sql } from '../platform/sql';
import type { Rule, RuleInput } from './schema';

const COLS = ['name', 'enabled', 'position', 'continue', 'match', 'targets', 'channels', 'priority', 'escalation', 'slack_channel', 'discord_channel', 'sop'] as const;

function toRule(r: Record<string, unknown>): Rule {
  return {
    id: Number(r.id), org_id: Number(r.org_id), name: r.name as string, enabled: r.enabled as boolean, position: r.position as number,
    continue: r.continue as boolean, match: r.match as Rule['match'], targets: withSchedules(r.targets as Rule['targets']), channels: r.channels as Rule['channels'],
    priority: r.priority as Rule['priority'],
    escalation: { ...(r.escalation as Rule['escalation']), steps: (r.escalation as Rule['escalation']).steps.map(withSchedules) }, slack_channel: r.slack_channel as string | null,
    discord_channel: r.discord_channel as string | null, sop: r.sop as Rule['sop'],
    created_at: (r.created_at as Date).toISOString(), updated_at: (r.updated_at as Date).toISOString(),
  };
}

/** Rules saved before schedules existed have no `schedules` lists: they read as empty ones. */
const withSchedules = <T extends { schedules?: number[] }>(t: T): T & { schedules: number[] } => ({ ...t, schedules: t.schedules ?? [] });

/** The rules that route to a schedule, as a target or in an escalation step (a schedule they use cannot be deleted). */
export async function rulesUsingSchedule(sql: Sql, orgId: number, scheduleId: number): Promise<Array<{ id: number; name: string }>> {
  const rows = await sql<{ id: number; name: string }[]>`
    select id, name from rules where org_id = ${orgId} and (
      coalesce(targets->'schedules', '[]') @> ${JSON.stringify([scheduleId])}::text::jsonb
      or exists (select 1 from jsonb_array_elements(escalation->'steps') st where coalesce(st->'schedules', '[]') @> ${JSON.stringify([scheduleId])}::text::jsonb))
    order by position, id`;
  return rows.map((r) => ({ id: Number(r.id), name: r.name }));
}

export async function loadEnabledRules(sql: Sql, orgId: number): Promise<Rule[]> {
  const rows = await sql`select * from rules where org_id = ${orgId} and enabled order by position, id`;
  return rows.map(toRule);
}

export async function listRules(sql: Sql, orgId: number): Promise<Rule[]> {
  const rows = await sql`select * from rules where org_id = ${orgId} order by position, id`;
  return rows.map(toRule);
}

export async function getRule(sql: Sql, orgId: number, id: number): Promise<Rule | null> {
  const [row] = await sql`select * from rules where org_id = ${orgId} and id = ${id}`;
  return row ? toRule(row) : null;
}

function values(input: RuleInput) {
  return {
    name: input.name, enabled: input.enabled, position: input.position, continue: input.continue,
    match: input.match, targets: input.targets, channels: input.channels, priority: input.priority,
    escalation: input.escalation, slack_channel: input.slack_channel, discord_channel: input.discord_channel, sop: input.sop,
  };
}

export async function insertRule(sql: Sql, orgId: number, input: RuleInput): Promise<Rule> {
  const v = values(input);
  const [row] = await sql`
    insert into rules (org_id, name, enabled, position, continue, match, targets, channels, priority, escalation, slack_channel, discord_channel, sop)
    values (${orgId}, ${v.name}, ${v.enabled}, ${v.position}, ${v.continue}, ${v.match as never}, ${v.targets as never}, ${v.channels},
      ${v.priority}, ${v.escalation as never}, ${v.slack_channel}, ${v.discord_channel}, ${v.sop as never})
    returning *`;
  return toRule(row);
}

export async function updateRule(sql: Sql, orgId: number, id: number, input: RuleInput): Promise<Rule | null> {
  const v = values(input);
  const [row] = await sql`
    update rules set name = ${v.name}, enabled = ${v.enabled}, position = ${v.position}, continue = ${v.continue},
      match = ${v.match as never}, targets = ${v.targets as never}, channels = ${v.channels}, priority = ${v.priority},
      escalation = ${v.escalation as never}, slack_channel = ${v.slack_channel}, discord_channel = ${v.discord_channel},
      sop = ${v.sop as never}, updated_at = now()
    where org_id = ${orgId} and id = ${id} returning *`;
  return row ? toRule(row) : null;
}

export async function deleteRule(sql: Sql, orgId: number, id: number): Promise<boolean> {
  const r = await sql`delete from rules where org_id = ${orgId} and id = ${id}`;
  return r.count > 0;
}

export function ruleInputOf(r: Rule): RuleInput {
  const out: Record<string, unknown> = {};
  for (const c of COLS) out[c] = r[c];
  return out as RuleInput;
}
