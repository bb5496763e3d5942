// The plain shapes of an alert: the stored row, the public view (docs/design.md "HTTP API": what the API returns,
// what webhooks carry, what every channel renders) and who acted, and the pure function that builds the view. No I/O; this folder
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
  /** The person working on it ("Wes is on it"), set with POST /v1/alerts/:id/assign. */
  assigned_to: PersonRef | null;
  /** Link to the alert in the PWA. */
  url: string;
  /**
   * Only in GET /v1/alerts and GET /v1/alerts/:id read by a person: set when the alert reached the reader by
   * escalation (level ≥ 1) rather than when it opened, with whom it went to first ("Accounting").
   */
  escalated_to_you?: { level: number; from: string | null } | null;
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
  /** users.id of the assignee (the reference), and the {id, name} shown (written together). */
  assigned_to: number | null;
  assignee: PersonRef | null;
}

/** A person as views show them: the assignee of an alert. */
export interface PersonRef {
  id: number;
  name: string;
}

/**
 * What an acknowledge, resolve or snooze changed, as it was before: kept in the detail (`before`) of the
 * action's timeline row so `undo` can put the alert back exactly (the timer is re-armed from it).
 */
export interface PriorState {
  status: AlertStatus;
  acknowledged_at: string | null;
  acknowledged_by: ActorRef | null;
  resolved_at: string | null;
  resolved_by: ActorRef | null;
  snoozed_until: string | null;
  escalation_level: number;
  escalation_next_at: string | null;
}

/** The actions `undo` can take back, by their timeline kind, and how long after (seconds). */
export const UNDOABLE_KINDS = ['acknowledged', 'resolved', 'snoozed'] as const;
export type UndoableKind = (typeof UNDOABLE_KINDS)[number];
export const UNDO_WINDOW_SECONDS = 30;
/** Note text limits (characters) for POST /v1/alerts/:id/notes. */
export const NOTE_MAX_CHARS = 4000;

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

// ---- The public view, built from a row in one place so the API, webhooks and every channel cannot drift apart.

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
    assigned_to: row.assignee ? { id: Number(row.assignee.id), name: String(row.assignee.name) } : null,
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
  const scheds = step.schedules?.length ?? 0;
  if (scheds) parts.push(scheds === 1 ? 'whoever is on call' : `whoever is on call in ${scheds} schedules`);
  return parts.join(', ');
}
