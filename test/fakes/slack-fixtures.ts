// AlertView fixtures for the Slack and Discord renderer tests: one realistic alert, overridable.
import type { AlertView } from '../../db/model/alert';

/** The fixed clock the fixtures are relative to. */
export const NOW = new Date('2025-03-04T10:00:00.000Z');
export const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000).toISOString();
export const minutesAhead = (m: number) => new Date(NOW.getTime() + m * 60_000).toISOString();

export function makeAlert(over: Partial<AlertView> = {}): AlertView {
  return {
    id: 42,
    status: 'triggered',
    priority: 'high',
    severity: 'error',
    category: 'finance',
    type: 'invoice_overdue',
    title: 'Invoice 1042 overdue 30 days',
    body: 'ACME Corp has not paid invoice 1042 (12,500 EUR).',
    source: 'crm',
    dedup_key: 'invoice-1042',
    occurrences: 1,
    metadata: { amount: 12500, currency: 'EUR', days_overdue: 30 },
    entity: { kind: 'customer', id: 'c-17', name: 'ACME Corp' },
    created_at: minutesAgo(12),
    updated_at: minutesAgo(12),
    acknowledged_at: null,
    acknowledged_by: null,
    resolved_at: null,
    resolved_by: null,
    snoozed_until: null,
    escalation: { level: 0, next_at: minutesAhead(12), next_to: 'Admin' },
    sop: { title: 'Chase the invoice', steps: ['Call the customer', 'Log the promise date'], url: 'https://wiki.example.com/sop/chase' },
    rule_ids: [1],
    assigned_to: null,
    url: 'http://127.0.0.1:8080/alerts/42',
    ...over,
  };
}

export function acknowledged(over: Partial<AlertView> = {}): AlertView {
  return makeAlert({
    status: 'acknowledged',
    acknowledged_at: minutesAgo(3),
    acknowledged_by: { kind: 'user', id: 7, name: 'Ana', via: 'slack' },
    // What toAlertView yields for a non-triggered alert; a stale value must still not be shown.
    escalation: { level: 0, next_at: null, next_to: null },
    ...over,
  });
}

export function resolved(over: Partial<AlertView> = {}): AlertView {
  return makeAlert({
    status: 'resolved',
    acknowledged_at: minutesAgo(3),
    acknowledged_by: { kind: 'user', id: 7, name: 'Ana', via: 'slack' },
    resolved_at: minutesAgo(1),
    resolved_by: { kind: 'user', id: 8, name: 'Bo', via: 'discord' },
    escalation: { level: 0, next_at: null, next_to: null },
    ...over,
  });
}

/** An alert that pushes every limit: huge title/body/SOP, 60 metadata fields with 10k values. */
export function hugeAlert(over: Partial<AlertView> = {}): AlertView {
  const metadata: Record<string, unknown> = {};
  for (let i = 0; i < 60; i++) metadata[`field_${i}_${'k'.repeat(300)}`] = `v${i} ` + '&<>x'.repeat(2500);
  return makeAlert({
    title: 'T&<'.repeat(4000),
    body: 'Body <!channel> & more '.repeat(5000),
    category: 'c'.repeat(500),
    metadata,
    entity: { kind: 'customer'.repeat(50), id: 'id'.repeat(1000), name: 'N'.repeat(5000) },
    sop: { title: 'S'.repeat(2000), steps: Array.from({ length: 500 }, (_, i) => `step ${i} ` + 'z'.repeat(1000)), url: 'https://wiki.example.com/' + 'p'.repeat(1500) },
    source: 's'.repeat(3000),
    escalation: { level: 0, next_at: minutesAhead(12), next_to: 'Admin, CEO, '.repeat(400) },
    ...over,
  });
}
