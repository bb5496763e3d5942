// The public shape of an alert (DESIGN "HTTP API"): what the API returns, what webhooks carry, and what
// every channel renders. Built from an alerts row in one place so channels cannot drift apart.
import type { Priority, Severity } from '../rules/schema';

export type AlertStatus = 'triggered' | 'acknowledged' | 'resolved';

export interface ActorRef {
  kind: 'user' | 'api_key' | 'system' | 'integration';
  id?: number;
  name: string;
  via?: string;
}

export interface SopView {
  title: string;
  steps: string[];
  url: string | null;
}

export interface AlertView {
  id: number;
  status: AlertStatus;
  priority: Priority;
  severity: Severity;
  category: string;
  type: string;
  title: string;
  body: string | null;
  source: string | null;
  dedup_key: string;
  occurrences: number;
  metadata: Record<string, unknown>;
  entity: { kind: string; id: string; name?: string } | null;
  created_at: string;
  updated_at: string;
  acknowledged_at: string | null;
  acknowledged_by: ActorRef | null;
  resolved_at: string | null;
  resolved_by: ActorRef | null;
  snoozed_until: string | null;
  escalation: { level: number; next_at: string | null; next_to: string | null };
  sop: SopView | null;
  rule_ids: number[];
  /** Link to the alert in the PWA. */
  url: string;
}

export interface AlertRow {
  id: number;
  org_id: number;
  status: AlertStatus;
  priority: Priority;
  severity: Severity;
  category: string;
  type: string;
  title: string;
  body: string | null;
  source: string | null;
  dedup_key: string;
  occurrences: number;
  metadata: Record<string, unknown>;
  entity: { kind: string; id: string; name?: string } | null;
  rule_ids: number[];
  route: RouteSnapshot;
  sop: SopView | null;
  escalation_level: number;
  escalation_next_at: Date | null;
  snoozed_until: Date | null;
  created_at: Date;
  updated_at: Date;
  acknowledged_at: Date | null;
  acknowledged_by: ActorRef | null;
  resolved_at: Date | null;
  resolved_by: ActorRef | null;
}

/** The routing decided when the alert was created (rules may change later; a live alert keeps its route). */
export interface RouteSnapshot {
  rules: Array<{
    rule_id: number;
    name: string;
    targets: { roles: string[]; users: number[] };
    channels: string[];
    slack_channel: string | null;
    discord_channel: string | null;
  }>;
  /** The escalation policy of the first matching rule that has steps. */
  escalation: {
    rule_id: number | null;
    channels: string[];
    steps: Array<{ after_minutes: number; roles: string[]; users: number[] }>;
    repeat: number;
  };
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toAlertView(row: AlertRow, publicUrl: string, nextTo: string | null = null): AlertView {
  return {
    id: Number(row.id),
    status: row.status,
    priority: row.priority,
    severity: row.severity,
    category: row.category,
    type: row.type,
    title: row.title,
    body: row.body,
    source: row.source,
    dedup_key: row.dedup_key,
    occurrences: row.occurrences,
    metadata: row.metadata ?? {},
    entity: row.entity,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    acknowledged_at: iso(row.acknowledged_at),
    acknowledged_by: row.acknowledged_by,
    resolved_at: iso(row.resolved_at),
    resolved_by: row.resolved_by,
    snoozed_until: iso(row.snoozed_until),
    escalation: {
      level: row.escalation_level,
      next_at: row.status === 'triggered' ? iso(row.escalation_next_at) : null,
      next_to: row.status === 'triggered' ? nextTo ?? nextStepLabel(row) : null,
    },
    sop: row.sop,
    rule_ids: (row.rule_ids ?? []).map(Number),
    url: `${publicUrl}/alerts/${row.id}`,
  };
}

/** "Admin" or "Admin, CEO": the roles (and people count) the next escalation step reaches. */
export function nextStepLabel(row: Pick<AlertRow, 'route' | 'escalation_level' | 'escalation_next_at'>): string | null {
  if (!row.escalation_next_at) return null;
  const steps = row.route.escalation.steps;
  if (!steps.length) return null;
  const step = steps[row.escalation_level % steps.length];
  const parts = step.roles.map(roleLabel);
  if (step.users.length) parts.push(step.users.length === 1 ? '1 person' : `${step.users.length} people`);
  return parts.join(', ');
}

export function roleLabel(key: string): string {
  if (key === 'ceo') return 'CEO';
  const s = key.replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}
