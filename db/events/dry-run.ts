// `POST /v1/rules/test`: an event routed on paper. Which rules match, who would be reached on which
// channels (and who would be skipped, and why), when each escalation step would fire. Writes nothing.
import type { Herald } from '../herald';
import { require, type Actor } from '../actor';
import { parse } from '../errors';
import { EventInputSchema } from './schema';
import { listRules } from '../rules/repo';
import { selectRules } from '../rules/match';
import { rulePreview } from '../rules/preview';
import { routeSnapshot } from '../rules/snapshot';
import { userNames } from '../rules/verbs';
import { loadTargetUsers, planMessages } from '../messages/plan';
import { levelDueAt } from '../escalation/schedule';

/** Dry run: which rules match, who would be reached on which channels, when each escalation would fire. */
export async function dryRunVerb(h: Herald, actor: Actor, input: unknown) {
  require(actor, 'alerts:read');
  const body = input && typeof input === 'object' && 'event' in (input as object) ? (input as { event: unknown }).event : input;
  const ev = parse(EventInputSchema, body, 'event');
  const rules = (await listRules(h.sql, actor.orgId)).filter((r) => r.enabled);
  const matched = selectRules(rules, { ...ev, entity: ev.entity ?? null });
  const names = await userNames(h, actor.orgId, matched);
  if (!matched.length) return { matched: [], recipients: [], escalation: [], skipped: [] };
  const route = routeSnapshot(matched);
  const roles = [...new Set(route.rules.flatMap((r) => r.targets.roles))];
  const users = [...new Set(route.rules.flatMap((r) => r.targets.users))];
  const people = await loadTargetUsers(h.sql, actor.orgId, roles, users);
  const plan = planMessages(actor.orgId, 0, 0, route.rules.map((r) => ({ ...r.targets, channels: r.channels, slack_channel: r.slack_channel, discord_channel: r.discord_channel })), people, h.channels);
  const byRecipient = new Map<string, { user_id: number | null; name: string; channels: string[] }>();
  for (const m of plan.messages) {
    const u = people.find((p) => p.id === m.user_id);
    const entry = byRecipient.get(m.recipient) ?? { user_id: m.user_id, name: u?.name ?? m.recipient.replace(/^room:/, '#'), channels: [] };
    entry.channels.push(m.channel);
    byRecipient.set(m.recipient, entry);
  }
  const now = new Date();
  const escalation = [];
  // Everyone any step reaches, read once; repeat cycles reuse the same steps.
  const steps = route.escalation.steps;
  const stepPeople = await loadTargetUsers(h.sql, actor.orgId, [...new Set(steps.flatMap((st) => st.roles))], [...new Set(steps.flatMap((st) => st.users))]);
  for (let level = 1; level <= 50; level++) {
    const at = levelDueAt(now, route.escalation, level);
    if (!at) break;
    const step = steps[(level - 1) % steps.length];
    const reached = stepPeople.filter((u) => step.users.includes(u.id) || u.roles.some((r) => step.roles.includes(r)));
    escalation.push({ level, after_minutes: (at.getTime() - now.getTime()) / 60_000, at: at.toISOString(), roles: step.roles, users: reached.map((u) => ({ id: u.id, name: u.name })), channels: route.escalation.channels });
  }
  return {
    matched: matched.map((r) => ({ rule_id: r.id, name: r.name, preview: rulePreview(r, names) })),
    recipients: [...byRecipient.values()],
    escalation,
    skipped: plan.skipped,
  };
}
