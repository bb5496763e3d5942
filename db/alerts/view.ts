// The public view of an alert (shapes in ../model/alert.ts), built from an alerts row in one place so that
// the API, webhooks and every channel cannot drift apart.
import { roleLabel, type AlertRow, type AlertView } from '../model/alert';

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
  const scheds = step.schedules?.length ?? 0;
  if (scheds) parts.push(scheds === 1 ? 'whoever is on call' : `whoever is on call in ${scheds} schedules`);
  return parts.join(', ');
}
