// The plain shapes of an alert: the stored row, the public view (docs/design.md "HTTP API": what the API returns,
// what webhooks carry, what every channel renders) and who acted. Types and constants only; this folder
// imports nothing outside itself, so every db/ folder, bot/ and the PWA can share it without cycles.
import type { Priority, Severity } from './levels';

export const ALERT_STATUSES = ['triggered', 'acknowledged', 'resolved'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

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
    /** `schedules`: whoever is on call there when the alert is routed (absent in routes saved before schedules). */
    targets: { roles: string[]; users: number[]; schedules?: number[] };
    channels: string[];
    slack_channel: string | null;
    discord_channel: string | null;
  }>;
  /** The escalation policy of the first matching rule that has steps. */
  escalation: {
    rule_id: number | null;
    channels: string[];
    /** `schedules`: whoever is on call there when the step fires. */
    steps: Array<{ after_minutes: number; roles: string[]; users: number[]; schedules?: number[] }>;
    repeat: number;
  };
}


/** The Postgres NOTIFY channel that carries "org:alert" ids of changed alerts to live views (SSE). */
export const ALERT_CHANNEL = 'herald_alert';

/** "Admin", "CEO": how a role key reads in a sentence. */
export function roleLabel(key: string): string {
  if (key === 'ceo') return 'CEO';
  const s = key.replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}
