// The rule contract (docs/design.md "A rule"). Unknown fields are rejected so a typo never silently does nothing.
import { z } from 'zod';
import { CHANNEL_KINDS } from '../model/channels';
import { jsonValue, text } from '../platform/input';
import { patternProblem } from './pattern';

import { SEVERITIES, PRIORITIES, type Severity, type Priority } from '../model/levels';
export { SEVERITIES, PRIORITIES, severityRank, type Severity, type Priority } from '../model/levels';

export const OPS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'contains', 'exists', 'matches'] as const;
export type Op = (typeof OPS)[number];

const slug = text().min(1).max(64).regex(/^[a-z0-9][a-z0-9_.-]*$/, 'use lowercase letters, digits, _ . -');
const roleKey = text().regex(/^[a-z][a-z0-9_]{0,39}$/, 'a role key is lowercase letters, digits and _');

export const ConditionSchema = z
  .object({
    field: text().regex(/^(metadata|entity)(\.[A-Za-z0-9_-]+)+$/, 'a field is metadata.<path> or entity.<path>'),
    op: z.enum(OPS),
    // Any JSON value (clean strings, at most 8 levels deep, 16 K characters).
    value: jsonValue(8, 16 * 1024).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.op === 'exists') return;
    if (c.value === undefined) ctx.addIssue({ code: 'custom', path: ['value'], message: `op ${c.op} needs a value` });
    if (c.op === 'in' && !Array.isArray(c.value)) ctx.addIssue({ code: 'custom', path: ['value'], message: 'op in needs an array' });
    if (c.op === 'matches') {
      if (typeof c.value !== 'string') {
        ctx.addIssue({ code: 'custom', path: ['value'], message: 'op matches needs a regular expression string' });
        return;
      }
      // Patterns run on the RE2 engine (linear time): one it cannot compile is refused here, when saved.
      const bad = patternProblem(c.value);
      if (bad) ctx.addIssue({ code: 'custom', path: ['value'], message: `invalid regular expression for ${c.field}: ${bad}` });
    }
  });
export type Condition = z.infer<typeof ConditionSchema>;

export const MatchSchema = z
  .object({
    category: slug,
    type: slug.nullable().default(null),
    min_severity: z.enum(SEVERITIES).default('info'),
    conditions: z.array(ConditionSchema).max(50).default([]),
  })
  .strict();

export const EscalationStepSchema = z
  .object({
    after_minutes: z.number().positive().max(60 * 24 * 30),
    roles: z.array(roleKey).max(20).default([]),
    users: z.array(z.number().int().positive()).max(100).default([]),
    /** Whoever is on call in these schedules when the step fires. */
    schedules: z.array(z.number().int().positive()).max(20).default([]),
  })
  .strict()
  .refine((s) => s.roles.length + s.users.length + s.schedules.length > 0, { message: 'an escalation step needs roles, users or schedules' });

export const EscalationSchema = z
  .object({
    steps: z.array(EscalationStepSchema).max(10).default([]),
    repeat: z.number().int().min(0).max(10).default(0),
  })
  .strict()
  .superRefine((e, ctx) => {
    for (let i = 1; i < e.steps.length; i++) {
      if (e.steps[i].after_minutes <= e.steps[i - 1].after_minutes)
        ctx.addIssue({ code: 'custom', path: ['steps', i, 'after_minutes'], message: 'steps must be in increasing after_minutes order' });
    }
  });

export const SopSchema = z
  .object({
    title: text().min(1).max(200),
    steps: z.array(text().min(1).max(500)).max(30).default([]),
    // Only http(s): the PWA, Slack, Discord and email all render it as a link (a `javascript:` one would run in the PWA).
    url: text().pipe(z.url({ protocol: /^https?$/, error: 'the SOP link must be an http:// or https:// URL' }).max(2000)).nullable().default(null),
  })
  .strict();

export const RuleInputSchema = z
  .object({
    name: text().min(1).max(200),
    enabled: z.boolean().default(true),
    position: z.number().int().min(0).max(1_000_000).default(100),
    continue: z.boolean().default(false),
    match: MatchSchema,
    targets: z
      .object({
        roles: z.array(roleKey).max(20).default([]),
        users: z.array(z.number().int().positive()).max(100).default([]),
        /** Whoever is on call in these schedules when the alert is routed. */
        schedules: z.array(z.number().int().positive()).max(20).default([]),
      })
      .strict()
      .default({ roles: [], users: [], schedules: [] }),
    channels: z.array(z.enum(CHANNEL_KINDS)).min(1).max(CHANNEL_KINDS.length).default(['in_app']),
    priority: z.enum(PRIORITIES).default('normal'),
    escalation: EscalationSchema.default({ steps: [], repeat: 0 }),
    slack_channel: text().min(1).max(100).nullable().default(null),
    discord_channel: text().min(1).max(100).nullable().default(null),
    sop: SopSchema.nullable().default(null),
  })
  .strict();
export type RuleInput = z.output<typeof RuleInputSchema>;

/** PATCH: any subset of fields; the merged rule is validated again with RuleInputSchema. */
export const RulePatchSchema = z.record(z.string(), z.unknown());

export interface Rule extends RuleInput {
  id: number;
  org_id: number;
  created_at: string;
  updated_at: string;
}

/** The subset of an event that rules look at. */
export interface MatchableEvent {
  category: string;
  type: string;
  severity: Severity;
  metadata: Record<string, unknown>;
  entity: Record<string, unknown> | null;
}
