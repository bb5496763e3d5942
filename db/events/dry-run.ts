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
import { previewNames } from '../rules/verbs';
import { channelsFor, loadTargetUsers, planMessages } from '../messages/plan';
import { CHANNEL_KINDS, CHANNEL_LABELS, CHANNEL_MISSING, type ChannelKind } from '../model/channels';
import { levelDueAt } from '../escalation/schedule';
import { priorityRank } from '../model/levels';

/** Dry run: which rules match, who would be reached on which channels, when each escalation would fire. */
export async function dryRunVerb(h: Herald, actor: Actor, input: unknown) {
  require(actor, 'alerts:read');
  const body = input && typeof input === 'object' && 'event' in (input as object) ? (input as { event: unknown }).event : input;
  const ev = parse(EventInputSchema, body, 'event');
  const rules = (await listRules(h.sql, actor.orgId)).filter((r) => r.enabled);
  const matched = selectRules(rules, { ...ev, entity: ev.entity ?? null });
  const names = await previewNames(h, actor.orgId, matched);
  if (!matched.length) return { matched: [], recipients: [], escalation: [], skipped: [], skipped_reasons: [] };
  const route = routeSnapshot(matched);
  const roles = [...new Set(route.rules.flatMap((r) => r.targets.roles))];
  const users = [...new Set(route.rules.flatMap((r) => r.targets.users))];
  const schedules = [...new Set(route.rules.flatMap((r) => r.targets.schedules ?? []))];
  const priority = matched.map((r) => r.priority).sort((a, b) => priorityRank(b) - priorityRank(a))[0];
  // Who is on call now, with each person's preferences and quiet hours as they stand now.
  const people = await loadTargetUsers(h.sql, actor.orgId, roles, users, schedules);
  const plan = planMessages(actor.orgId, 0, 0, route.rules.map((r) => ({ ...r.targets, channels: r.channels, slack_channel: r.slack_channel, discord_channel: r.discord_channel })), people, h.channels, priority);
  const byRecipient = new Map<string, { user_id: number | null; name: string; channels: string[]; held?: Array<{ channel: string; reason: string; until: string | null }> }>();
  for (const m of plan.messages) {
    const u = people.find((p) => p.id === m.user_id);
    const entry = byRecipient.get(m.recipient) ?? { user_id: m.user_id, name: u?.name ?? m.recipient.replace(/^room:/, '#'), channels: [] };
    entry.channels.push(m.channel);
    if (m.hold) (entry.held ??= []).push({ channel: m.channel, reason: m.hold === 'held_quiet' ? 'quiet hours' : 'digest', until: m.held_until ?? null });
    byRecipient.set(m.recipient, entry);
  }
  // Why a channel the rules name reaches nobody, or not someone, in plain words.
  const reasons = new Set<string>();
  for (const t of route.rules) {
    const allowed = t.channels.filter((k): k is ChannelKind => (CHANNEL_KINDS as readonly string[]).includes(k));
    for (const k of allowed) if (!h.channels[k].enabled) reasons.add(`${CHANNEL_LABELS[k]} is not configured`);
    const scheds = t.targets.schedules ?? [];
    const reached = people.filter((u) => t.targets.users.includes(u.id) || u.roles.some((r) => t.targets.roles.includes(r)) || u.schedules.some((s) => scheds.includes(s)));
    for (const u of reached) {
      for (const k of channelsFor(u, allowed, priority, h.channels)) {
        if (!h.channels[k].enabled || h.channels[k].reaches(u)) continue;
        reasons.add(`${u.name} ${k === 'sms' && u.phone && u.sms_opted_out ? 'replied STOP to SMS' : CHANNEL_MISSING[k]}`);
      }
    }
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
    // A step's schedules are resolved at the instant it would fire (as the step does when it fires): whoever
    // is on call then, overrides included, not whoever is on call now.
    const onCall = step.schedules?.length ? await loadTargetUsers(h.sql, actor.orgId, [], [], step.schedules, at) : [];
    const reached = [...stepPeople.filter((u) => step.users.includes(u.id) || u.roles.some((r) => step.roles.includes(r))),
      ...onCall.filter((u) => !step.users.includes(u.id) && !u.roles.some((r) => step.roles.includes(r)))].sort((a, b) => a.id - b.id);
    escalation.push({ level, after_minutes: (at.getTime() - now.getTime()) / 60_000, at: at.toISOString(), roles: step.roles, schedules: step.schedules ?? [], users: reached.map((u) => ({ id: u.id, name: u.name })), channels: route.escalation.channels });
  }
  return {
    matched: matched.map((r) => ({ rule_id: r.id, name: r.name, preview: rulePreview(r, names.users, names.schedules) })),
    recipients: [...byRecipient.values()],
    escalation,
    skipped: plan.skipped,
    skipped_reasons: [...reasons],
  };
}
