// One AlertView for channel tests (email, SMS, the fake SMTP server): a plain triggered high-priority
// finance alert with no body, metadata, entity or SOP. Tests pass overrides for what they exercise.
import type { AlertView } from '../../db/model/alert';

export function sampleAlert(over: Partial<AlertView> = {}): AlertView {
  return {
    id: 1042,
    status: 'triggered',
    priority: 'high',
    severity: 'error',
    category: 'finance',
    type: 'invoice_overdue',
    title: 'Invoice 1042 overdue',
    body: null,
    source: 'accounting',
    dedup_key: 'inv-1042',
    occurrences: 1,
    metadata: {},
    entity: null,
    created_at: '2024-05-01T14:03:00.000Z',
    updated_at: '2024-05-01T14:03:00.000Z',
    acknowledged_at: null,
    acknowledged_by: null,
    resolved_at: null,
    resolved_by: null,
    snoozed_until: null,
    escalation: { level: 0, next_at: null, next_to: null },
    sop: null,
    rule_ids: [1],
    assigned_to: null,
    url: 'http://127.0.0.1:8080/alerts/1042',
    ...over,
  };
}
