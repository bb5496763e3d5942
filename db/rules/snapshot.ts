// The route an alert keeps from the rules that matched it when it was created: later rule edits do not
// change where a live alert goes or how it escalates.
import type { RouteSnapshot } from '../model/alert';
import type { Rule } from './schema';

export function routeSnapshot(rules: Rule[]): RouteSnapshot {
  const esc = rules.find((r) => r.escalation.steps.length > 0);
  return {
    rules: rules.map((r) => ({
      rule_id: r.id, name: r.name, targets: { roles: r.targets.roles, users: r.targets.users, schedules: r.targets.schedules ?? [] }, channels: r.channels,
      slack_channel: r.slack_channel, discord_channel: r.discord_channel,
    })),
    escalation: esc
      ? { rule_id: esc.id, channels: esc.channels, steps: esc.escalation.steps.map((s) => ({ after_minutes: s.after_minutes, roles: s.roles, users: s.users, schedules: s.schedules ?? [] })), repeat: esc.escalation.repeat }
      : { rule_id: null, channels: [], steps: [], repeat: 0 },
  };
}
