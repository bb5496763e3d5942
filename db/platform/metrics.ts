// Prometheus metrics for the alert lifecycle. prom-client's default registry is shared by the process.
import client from 'prom-client';
import type { AlertRow } from '../model/alert';

export const eventsIngested = new client.Counter({ name: 'herald_events_ingested_total', help: 'Events accepted (202) by the API' });
export const alertTransitions = new client.Counter({ name: 'herald_alert_transitions_total', help: 'Alert state changes', labelNames: ['to'] });
export const messagesSent = new client.Counter({ name: 'herald_messages_total', help: 'Outgoing message outcomes', labelNames: ['channel', 'outcome'] });
export const escalations = new client.Counter({ name: 'herald_escalations_total', help: 'Escalation steps fired' });
export const webhookDeliveries = new client.Counter({ name: 'herald_webhook_deliveries_total', help: 'Outbound webhook attempts', labelNames: ['outcome'] });
export const rateLimited = new client.Counter({ name: 'herald_rate_limited_total', help: 'Requests refused with 429 by a rate limit', labelNames: ['policy'] });
export const ackLatency = new client.Histogram({
  name: 'herald_acknowledge_latency_seconds', help: 'Time from alert creation to acknowledgement',
  buckets: [10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 43200, 86400],
});

export function observeAck(a: AlertRow) {
  alertTransitions.inc({ to: a.status });
  if (a.acknowledged_at) ackLatency.observe(Math.max(0, (a.acknowledged_at.getTime() - a.created_at.getTime()) / 1000));
}

export const reportRuns = new client.Counter({ name: 'herald_report_runs_total', help: 'Report runs finished', labelNames: ['kind', 'format', 'status'] });
export const reportRenderSeconds = new client.Histogram({
  name: 'herald_report_render_seconds', help: 'Time to render one report run (query and file)', labelNames: ['format'],
  buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 60],
});
