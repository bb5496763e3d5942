// The one-sentence preview the API returns with each rule (docs/design.md "A rule"), e.g.
// "Finance/invoice_overdue alerts (severity ≥ warning, amount ≥ 10000) go to Accounting via In-app, Email
// and Slack, escalating to Admin after 60 min and to CEO after 120 min."
// People read it to check a rule does what they meant, so it says every thing that changes who gets paged:
// what matches, who, how, the escalation, repeats, and whether the rule is off.
import { CHANNEL_LABELS } from '../model/channels';
import { roleLabel } from '../model/alert';
import type { Condition, RuleInput } from './schema';

const OP_SYMBOLS: Record<string, string> = { eq: '=', neq: '≠', gt: '>', gte: '≥', lt: '<', lte: '≤' };

/** "A", "A and B", "A, B and C". */
export function joinAnd(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function formatValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return `[${v.map(formatValue).join(', ')}]`;
  if (v === undefined) return '';
  return JSON.stringify(v) ?? String(v);
}

function conditionPhrase(c: Condition): string {
  const segments = c.field.split('.');
  const name = segments[segments.length - 1];
  switch (c.op) {
    case 'exists':
      return `${name} exists`;
    case 'in':
      return `${name} in ${formatValue(Array.isArray(c.value) ? c.value : [c.value])}`;
    case 'contains':
      return `${name} contains ${formatValue(c.value)}`;
    case 'matches':
      return `${name} matches /${formatValue(c.value)}/`;
    default:
      return `${name} ${OP_SYMBOLS[c.op] ?? c.op} ${formatValue(c.value)}`;
  }
}

function whoPhrase(roles: string[], users: number[], userNames?: Map<number, string>, schedules: number[] = [], scheduleNames?: Map<number, string>): string[] {
  return [
    ...roles.map(roleLabel), ...users.map((id) => userNames?.get(id) ?? `user #${id}`),
    ...schedules.map((id) => `whoever is on call in ${scheduleNames?.get(id) ?? `schedule #${id}`}`),
  ];
}

/** A room name as people write it: "#ops" (ids and names already starting with # are kept). */
const room = (name: string) => (name.startsWith('#') ? name : `#${name}`);

export function rulePreview(rule: RuleInput, userNames?: Map<number, string>, scheduleNames?: Map<number, string>): string {
  const { match } = rule;
  const category = capitalise(match.category);
  let s = match.type === null ? `All ${category} alerts` : `${category}/${match.type} alerts`;

  const filters: string[] = [];
  if (match.min_severity !== 'info') filters.push(`severity ≥ ${match.min_severity}`);
  for (const c of match.conditions) filters.push(conditionPhrase(c));
  if (filters.length) s += ` (${filters.join(', ')})`;

  const who = whoPhrase(rule.targets.roles, rule.targets.users, userNames, rule.targets.schedules, scheduleNames);
  s += ` go to ${who.length ? joinAnd(who) : 'nobody'}`;

  const channels = rule.channels.map((ch) => {
    const label = CHANNEL_LABELS[ch] ?? ch;
    if (ch === 'slack' && rule.slack_channel) return `${label} ${room(rule.slack_channel)}`;
    if (ch === 'discord' && rule.discord_channel) return `${label} ${room(rule.discord_channel)}`;
    return label;
  });
  if (channels.length) s += ` via ${joinAnd(channels)}`;

  const steps = rule.escalation.steps;
  if (steps.length) {
    const parts = steps.map((step) => {
      const to = whoPhrase(step.roles, step.users, userNames, step.schedules, scheduleNames);
      return `to ${joinAnd(to)} after ${step.after_minutes} min`;
    });
    s += `, escalating ${joinAnd(parts)}`;
    const n = rule.escalation.repeat;
    if (n > 0) s += n === 1 ? ', repeating once' : `, repeating ${n} times`;
  }

  s += '.';
  return rule.enabled ? s : `(disabled) ${s}`;
}
