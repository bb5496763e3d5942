// Every HTTP route Herald serves, with the zod schemas that validate its input (the same ones the verbs in
// db/ parse with), from which api/openapi/document.ts writes the OpenAPI 3.1 document (/openapi.json).
// test/openapi.test.ts fails when the app has a route this registry lacks: a new route adds ONE line here,
//   'METHOD /path/:param': op('Tag', 'What it does', { body: TheInputSchema, query: TheQuerySchema, status: 201 }),
// with the path exactly as Hono registers it.
import type { z } from 'zod';
import { EventBatchSchema, EventInputSchema } from '../../db/events/schema';
import { EventQuerySchema } from '../../db/events/read';
import { AlertQuerySchema } from '../../db/alerts/read';
import { BulkAckSchema, SnoozeSchema } from '../../db/alerts/act';
import { AssignSchema, NoteSchema } from '../../db/alerts/together';
import { SopTickSchema } from '../../db/sop/progress';
import { RuleInputSchema, RulePatchSchema } from '../../db/rules/schema';
import { ImportQuerySchema } from '../../db/rules/verbs';
import { RoleInputSchema, RolePatchSchema, UserInputSchema } from '../../db/users/repo';
import { ApiKeyInputSchema, ApiKeyPatchSchema, RotateSchema } from '../../db/api-keys/repo';
import { WebhookInputSchema } from '../../db/webhooks/repo';
import { LoginSchema } from '../../db/sessions/repo';
import { CodeSchema } from '../../db/sessions/totp';
import { ListQuery as EntityListQuery } from '../../db/scoring/entities';
import { ScoreInputSchema } from '../../db/scoring/schema';
import { Patch as ScorePatchSchema, RankQuery } from '../../db/scoring/verbs';
import { ReportInputSchema } from '../../db/reports/verbs';
import { AuditQuerySchema } from '../../db/audit/read';
import { DrillQuery } from '../../db/metrics/drill';
import { MarkReadSchema, NotificationQuerySchema } from '../../db/notifications/repo';
import { SubscribeSchema, UnsubscribeSchema } from '../../db/push/subscriptions';
import { AnalyticsAnswerSchema, AnalyticsQuerySchema } from '../../db/analytics/alerts';
import { ExportQuerySchema } from '../../db/analytics/export';
import { IntegrationInputSchema, IntegrationPatchSchema } from '../../db/integrations/repo';
import { HeartbeatInputSchema, HeartbeatPatchSchema } from '../../db/integrations/heartbeats';
import { PagerDutySchema } from '../../db/integrations/map';
import { ExpectationInputSchema, ExpectationPatchSchema } from '../../db/expectations/repo';
import { MaintenanceInputSchema } from '../../db/maintenance/windows';
import { MetricInputSchema, MetricPatchSchema } from '../../db/metrics/schema';
import { RangeQuery } from '../../db/metrics/read';
import { DashboardInputSchema } from '../../db/metrics/dashboards';
import { AtQuerySchema, OverrideSchema, RangeQuerySchema, ScheduleInputSchema } from '../../db/schedules/schema';
import { PreferencesSchema } from '../../db/preferences/schema';

export type Tag = 'Events' | 'Alerts' | 'Rules' | 'People' | 'Access' | 'Webhooks' | 'Integrations' | 'KPI' | 'Schedules'
  | 'Notifications' | 'Analytics' | 'Providers' | 'Operations' | 'Scores' | 'Reports' | 'Audit' | 'Imports';

export interface RouteDoc {
  tag: Tag;
  summary: string;
  /** JSON request body (the schema the verb parses it with). */
  body?: z.ZodType;
  /** Another body: `text` (YAML/JSON/CSV documents), `form` (provider callbacks). */
  bodyKind?: 'json' | 'text' | 'form';
  query?: z.ZodType;
  /** Success status (200 by default). */
  status?: number;
  /** Who may call: an API key or session (default for /v1), none, or the key in the path or body. */
  auth?: 'bearer' | 'none' | 'path-key' | 'provider';
  /** The success answer's schema, where one is written down (documentation only). */
  response?: z.ZodType;
  /** What the success answer is (JSON by default). */
  produces?: 'json' | 'text' | 'html' | 'javascript' | 'csv' | 'event-stream' | 'none';
}

export const op = (tag: Tag, summary: string, more: Omit<RouteDoc, 'tag' | 'summary'> = {}): RouteDoc => ({ tag, summary, ...more });

export const ROUTES: Record<string, RouteDoc> = {
  // Operations
  'GET /healthz': op('Operations', 'Liveness: the process answers', { auth: 'none' }),
  'GET /readyz': op('Operations', 'Readiness: database, migrations, worker, channels (503 when not ready)', { auth: 'none' }),
  'GET /metrics': op('Operations', 'Prometheus metrics', { auth: 'none', produces: 'text' }),
  'GET /openapi.json': op('Operations', 'This OpenAPI document', { auth: 'none' }),
  'GET /docs': op('Operations', 'Interactive API documentation', { auth: 'none', produces: 'html' }),
  'GET /docs/:file': op('Operations', 'Scripts of the interactive documentation', { auth: 'none', produces: 'javascript' }),
  'GET /v1/system': op('Operations', 'Processes, uptime, readiness history and Herald\'s own incidents (audit:read)'),
  // Session (PWA)
  'POST /v1/auth/login': op('Access', 'Sign in (sets the session cookie)', { body: LoginSchema, auth: 'none' }),
  'GET /v1/auth/me': op('Access', 'The signed-in person'),
  'POST /v1/auth/logout': op('Access', 'Sign out', { produces: 'none', status: 204 }),
  'POST /v1/auth/totp': op('Access', 'Sign-in\'s second step: the authenticator (or recovery) code for the pending session', { body: CodeSchema }),
  'GET /v1/me/sessions': op('Access', 'My sessions (this one marked)'),
  'DELETE /v1/me/sessions': op('Access', 'End all my other sessions'),
  'DELETE /v1/me/sessions/:id': op('Access', 'End one of my sessions', { status: 204, produces: 'none' }),
  'GET /v1/me/totp': op('Access', 'Whether my TOTP second factor is on'),
  'POST /v1/me/totp/enrol': op('Access', 'Start enrolling a TOTP authenticator (secret and otpauth URI)'),
  'POST /v1/me/totp/confirm': op('Access', 'Confirm TOTP enrolment with a code (recovery codes are shown once)', { body: CodeSchema }),
  'POST /v1/me/totp/disable': op('Access', 'Turn my TOTP second factor off (needs a code)', { body: CodeSchema }),
  // Events
  'POST /v1/events': op('Events', 'Send one event', { body: EventInputSchema, status: 202 }),
  'POST /v1/events/batch': op('Events', 'Send up to 1,000 events; each item is validated alone', { body: EventBatchSchema, status: 202 }),
  'GET /v1/events': op('Events', 'Events received, newest first', { query: EventQuerySchema }),
  'GET /v1/events/:id': op('Events', 'One event and what became of it'),
  // Alerts
  'GET /v1/alerts': op('Alerts', 'List alerts', { query: AlertQuerySchema }),
  'GET /v1/alerts/export': op('Analytics', 'Export alerts (CSV or XLSX)', { query: ExportQuerySchema, produces: 'csv' }),
  'POST /v1/alerts/acknowledge': op('Alerts', 'Acknowledge many alerts', { body: BulkAckSchema }),
  'GET /v1/alerts/:id': op('Alerts', 'One alert with its timeline'),
  'POST /v1/alerts/:id/acknowledge': op('Alerts', 'Acknowledge'),
  'POST /v1/alerts/:id/resolve': op('Alerts', 'Resolve'),
  'POST /v1/alerts/:id/snooze': op('Alerts', 'Snooze for some minutes', { body: SnoozeSchema }),
  'POST /v1/alerts/:id/undo': op('Alerts', 'Undo the last acknowledgement or resolution'),
  'POST /v1/alerts/:id/notes': op('Alerts', 'Add a note', { body: NoteSchema, status: 201 }),
  'POST /v1/alerts/:id/assign': op('Alerts', 'Assign to a person (or nobody)', { body: AssignSchema }),
  'PUT /v1/alerts/:id/sop/:step': op('Alerts', 'Tick or untick a step of the alert\'s SOP', { body: SopTickSchema }),
  // Rules
  'GET /v1/rules': op('Rules', 'List rules in order'),
  'POST /v1/rules': op('Rules', 'Create a rule', { body: RuleInputSchema, status: 201 }),
  'GET /v1/rules/export': op('Rules', 'Export every rule as a YAML or JSON document', { produces: 'text' }),
  'POST /v1/rules/import': op('Rules', 'Import a rules document (YAML or JSON), or preview it', { bodyKind: 'text', query: ImportQuerySchema }),
  'POST /v1/rules/test': op('Rules', 'Which rules an event would match (nothing is stored)', { body: EventInputSchema }),
  'POST /v1/rules/preview': op('Rules', 'What a rule would have matched in recent events'),
  'GET /v1/rules/:id': op('Rules', 'One rule'),
  'PATCH /v1/rules/:id': op('Rules', 'Change some fields of a rule', { body: RulePatchSchema }),
  'DELETE /v1/rules/:id': op('Rules', 'Delete a rule', { status: 204, produces: 'none' }),
  // People and access
  'GET /v1/users': op('People', 'List people'),
  'POST /v1/users': op('People', 'Add a person', { body: UserInputSchema, status: 201 }),
  'GET /v1/users/export': op('People', 'Export every person as a file download (CSV or JSON, ?format=csv|json)', { produces: 'csv' }),
  'GET /v1/users/:id': op('People', 'One person'),
  'PATCH /v1/users/:id': op('People', 'Change a person'),
  'DELETE /v1/users/:id': op('People', 'Remove a person', { status: 204, produces: 'none' }),
  'GET /v1/users/:id/preferences': op('People', 'A person\'s channel preferences, quiet hours and digest'),
  'PUT /v1/users/:id/preferences': op('People', 'Set a person\'s preferences', { body: PreferencesSchema }),
  'GET /v1/me/preferences': op('People', 'My preferences'),
  'PUT /v1/me/preferences': op('People', 'Set my preferences', { body: PreferencesSchema }),
  'GET /v1/me/digests': op('People', 'My recent digests'),
  'GET /v1/roles': op('Access', 'Roles and their permissions'),
  'POST /v1/roles': op('Access', 'Create a role', { body: RoleInputSchema, status: 201 }),
  'PATCH /v1/roles/:key': op('Access', 'Change a role', { body: RolePatchSchema }),
  'DELETE /v1/roles/:key': op('Access', 'Delete a role', { status: 204, produces: 'none' }),
  'GET /v1/api-keys': op('Access', 'List API keys'),
  'POST /v1/api-keys': op('Access', 'Create an API key (the secret is shown once)', { body: ApiKeyInputSchema, status: 201 }),
  'DELETE /v1/api-keys/:id': op('Access', 'Revoke an API key: answers the key as it now is (revoked_at set)'),
  'PATCH /v1/api-keys/:id': op('Access', 'Change an API key (name, per-minute rate limit)', { body: ApiKeyPatchSchema }),
  'POST /v1/api-keys/:id/rotate': op('Access', 'Rotate an API key: a new secret (shown once); the old one works for overlap_minutes', { body: RotateSchema }),
  'GET /v1/api-keys/:id/usage': op('Access', 'Requests per day by status class (?days=1..90, default 30)'),
  // Webhooks
  'GET /v1/webhooks': op('Webhooks', 'List outbound webhooks'),
  'POST /v1/webhooks': op('Webhooks', 'Add an outbound webhook', { body: WebhookInputSchema, status: 201 }),
  'GET /v1/webhooks/:id': op('Webhooks', 'One webhook'),
  'PATCH /v1/webhooks/:id': op('Webhooks', 'Change a webhook', { body: WebhookInputSchema.partial() }),
  'DELETE /v1/webhooks/:id': op('Webhooks', 'Delete a webhook', { status: 204, produces: 'none' }),
  'GET /v1/webhooks/:id/deliveries': op('Webhooks', 'Recent deliveries'),
  'POST /v1/webhooks/:id/deliveries/:delivery/retry': op('Webhooks', 'Retry one delivery'),
  'POST /v1/webhooks/:id/test': op('Webhooks', 'Send a test delivery', { status: 202 }),
  // Integrations, heartbeats, expectations, maintenance
  'GET /v1/integrations': op('Integrations', 'List integrations'),
  'POST /v1/integrations': op('Integrations', 'Add an integration (its key is shown once)', { body: IntegrationInputSchema, status: 201 }),
  'GET /v1/integrations/:id': op('Integrations', 'One integration'),
  'PATCH /v1/integrations/:id': op('Integrations', 'Change an integration', { body: IntegrationPatchSchema }),
  'DELETE /v1/integrations/:id': op('Integrations', 'Delete an integration', { status: 204, produces: 'none' }),
  'POST /v1/integrations/:id/rotate': op('Integrations', 'Rotate the integration\'s key'),
  'GET /v1/integrations/:id/events': op('Integrations', 'The last events it sent'),
  'POST /v1/integrations/alertmanager/:key': op('Integrations', 'Prometheus Alertmanager webhook receiver', { auth: 'path-key', status: 202 }),
  'POST /v1/integrations/grafana/:key': op('Integrations', 'Grafana alerting webhook contact point', { auth: 'path-key', status: 202 }),
  'POST /v2/enqueue': op('Integrations', 'PagerDuty Events API v2 (routing_key in the body)', { body: PagerDutySchema, auth: 'path-key', status: 202 }),
  'GET /v1/ping/:key': op('Integrations', 'Heartbeat ping', { auth: 'path-key' }),
  'POST /v1/ping/:key': op('Integrations', 'Heartbeat ping', { auth: 'path-key' }),
  'HEAD /v1/ping/:key': op('Integrations', 'Heartbeat ping', { auth: 'path-key', produces: 'none' }),
  'GET /v1/heartbeats': op('Integrations', 'List heartbeat monitors'),
  'POST /v1/heartbeats': op('Integrations', 'Add a heartbeat monitor', { body: HeartbeatInputSchema, status: 201 }),
  'GET /v1/heartbeats/:id': op('Integrations', 'One heartbeat monitor'),
  'PATCH /v1/heartbeats/:id': op('Integrations', 'Change a heartbeat monitor', { body: HeartbeatPatchSchema }),
  'DELETE /v1/heartbeats/:id': op('Integrations', 'Delete a heartbeat monitor', { status: 204, produces: 'none' }),
  'POST /v1/heartbeats/:id/rotate': op('Integrations', 'Rotate the heartbeat\'s ping key'),
  'GET /v1/expectations': op('Integrations', 'List expectations'),
  'POST /v1/expectations': op('Integrations', 'Add an expectation', { body: ExpectationInputSchema, status: 201 }),
  'GET /v1/expectations/:id': op('Integrations', 'One expectation'),
  'PATCH /v1/expectations/:id': op('Integrations', 'Change an expectation', { body: ExpectationPatchSchema }),
  'DELETE /v1/expectations/:id': op('Integrations', 'Delete an expectation', { status: 204, produces: 'none' }),
  'GET /v1/maintenance': op('Integrations', 'List maintenance windows'),
  'POST /v1/maintenance': op('Integrations', 'Add a maintenance window', { body: MaintenanceInputSchema, status: 201 }),
  'GET /v1/maintenance/:id': op('Integrations', 'One maintenance window'),
  'DELETE /v1/maintenance/:id': op('Integrations', 'End or delete a maintenance window', { status: 204, produces: 'none' }),
  // KPI metrics and dashboards
  'GET /v1/metrics': op('KPI', 'List metrics'),
  'POST /v1/metrics': op('KPI', 'Define a metric', { body: MetricInputSchema, status: 201 }),
  'GET /v1/metrics/:key': op('KPI', 'One metric'),
  'PATCH /v1/metrics/:key': op('KPI', 'Change a metric', { body: MetricPatchSchema }),
  'DELETE /v1/metrics/:key': op('KPI', 'Delete a metric', { status: 204, produces: 'none' }),
  'POST /v1/metrics/:key/rebuild': op('KPI', 'Rebuild its rollups from the events', { status: 202 }),
  'GET /v1/metrics/:key/series': op('KPI', 'A metric over time'),
  'GET /v1/metrics/:key/value': op('KPI', 'A metric\'s value over a range', { query: RangeQuery }),
  'GET /v1/metrics/:key/forecast': op('KPI', 'A metric\'s forecast'),
  'GET /v1/metrics/:key/events': op('KPI', 'Drill-down: the events (or items) behind a metric over a range', { query: DrillQuery }),
  'GET /v1/dashboards': op('KPI', 'List dashboards'),
  'POST /v1/dashboards': op('KPI', 'Create a dashboard', { body: DashboardInputSchema, status: 201 }),
  'POST /v1/dashboards/preview': op('KPI', 'Render a dashboard without saving it', { body: DashboardInputSchema }),
  'GET /v1/dashboards/:key': op('KPI', 'A dashboard with its widgets\' data'),
  'PATCH /v1/dashboards/:key': op('KPI', 'Change a dashboard'),
  'DELETE /v1/dashboards/:key': op('KPI', 'Delete a dashboard', { status: 204, produces: 'none' }),
  // Schedules
  'GET /v1/schedules': op('Schedules', 'List on-call schedules'),
  'POST /v1/schedules': op('Schedules', 'Create a schedule', { body: ScheduleInputSchema, status: 201 }),
  'GET /v1/schedules/:id': op('Schedules', 'One schedule'),
  'PATCH /v1/schedules/:id': op('Schedules', 'Change a schedule', { body: ScheduleInputSchema.partial() }),
  'PUT /v1/schedules/:id': op('Schedules', 'Change a schedule', { body: ScheduleInputSchema.partial() }),
  'DELETE /v1/schedules/:id': op('Schedules', 'Delete a schedule', { status: 204, produces: 'none' }),
  'POST /v1/schedules/:id/overrides': op('Schedules', 'Add an override', { body: OverrideSchema, status: 201 }),
  'DELETE /v1/schedules/:id/overrides/:override': op('Schedules', 'Remove an override', { status: 204, produces: 'none' }),
  'GET /v1/schedules/:id/oncall': op('Schedules', 'Who is on call at an instant', { query: AtQuerySchema }),
  'GET /v1/schedules/:id/shifts': op('Schedules', 'Shifts in a range', { query: RangeQuerySchema }),
  // Notifications, live stream, push (PWA)
  'GET /v1/notifications': op('Notifications', 'My notifications', { query: NotificationQuerySchema }),
  'POST /v1/notifications/read': op('Notifications', 'Mark notifications read', { body: MarkReadSchema }),
  'GET /v1/stream': op('Notifications', 'Live alert changes (Server-Sent Events)', { produces: 'event-stream' }),
  'GET /v1/push/vapid-public-key': op('Notifications', 'The web push public key'),
  'POST /v1/push/subscriptions': op('Notifications', 'Subscribe this device to web push', { body: SubscribeSchema, status: 201 }),
  'DELETE /v1/push/subscriptions': op('Notifications', 'Unsubscribe a device: answers {deleted} (0 when it was not subscribed)', { body: UnsubscribeSchema }),
  'POST /v1/push/ack/:token': op('Notifications', 'Acknowledge from a push notification', { auth: 'path-key' }),
  'GET /v1/reachability/me': op('Notifications', 'Where I can be reached: each channel\'s state for me'),
  'GET /v1/reachability': op('Notifications', 'Where everyone can be reached, channel by channel'),
  // Analytics
  'GET /v1/analytics/alerts': op('Analytics', 'Alert analytics (MTTA, MTTR, volumes)', { query: AnalyticsQuerySchema, response: AnalyticsAnswerSchema }),
  // Scores and entities
  'GET /v1/entities': op('Scores', 'List entities', { query: EntityListQuery }),
  'GET /v1/entities/:kind/:id': op('Scores', 'One entity with its scores'),
  'GET /v1/entities/:kind/:id/scores/:key/history': op('Scores', 'The changes of one score\'s value for an entity, oldest first'),
  'GET /v1/scores': op('Scores', 'List scores'),
  'POST /v1/scores': op('Scores', 'Define a score', { body: ScoreInputSchema, status: 201 }),
  'GET /v1/scores/:key': op('Scores', 'One score'),
  'PATCH /v1/scores/:key': op('Scores', 'Change some fields of a score (null removes one); the merged definition is validated as on create', { body: ScorePatchSchema }),
  'DELETE /v1/scores/:key': op('Scores', 'Delete a score', { status: 204, produces: 'none' }),
  'GET /v1/scores/:key/entities': op('Scores', 'Entities ranked by the score', { query: RankQuery }),
  'GET /v1/scores/:key/summary': op('Scores', 'A score\'s figures: count, mean, distribution, who crossed lately'),
  'POST /v1/scores/:key/recompute': op('Scores', 'Recompute the score for every entity (a job)', { status: 202 }),
  'POST /v1/scores/:key/train': op('Scores', 'Train the score\'s model (a job)', { status: 202 }),
  'GET /v1/scores/:key/runs/:run': op('Scores', 'One recompute or training run'),
  // Reports
  'GET /v1/reports': op('Reports', 'List report definitions'),
  'POST /v1/reports': op('Reports', 'Define a report', { body: ReportInputSchema, status: 201 }),
  'GET /v1/reports/:id': op('Reports', 'One report definition with its last run'),
  'PATCH /v1/reports/:id': op('Reports', 'Change some fields of a report; the merged definition is validated as on create', { body: ReportInputSchema.partial() }),
  'DELETE /v1/reports/:id': op('Reports', 'Delete a report', { status: 204, produces: 'none' }),
  'POST /v1/reports/:id/run': op('Reports', 'Run a report now (a job)', { status: 202 }),
  'GET /v1/reports/:id/runs': op('Reports', 'A report\'s runs'),
  'GET /v1/report-runs/:id': op('Reports', 'One run'),
  'POST /v1/report-runs/:id/retry': op('Reports', 'Retry a failed run', { status: 202 }),
  'GET /v1/report-runs/:id/file': op('Reports', 'A run\'s file as a download (PDF, CSV or XLSX, the report\'s format)', { produces: 'csv' }),
  // Audit
  'GET /v1/audit': op('Audit', 'The audit trail, newest first (filters, cursor paging)', { query: AuditQuerySchema }),
  'GET /v1/audit/export': op('Audit', 'Export the audit trail as a CSV file download (same filters, oldest first)', { query: AuditQuerySchema, produces: 'csv' }),
  // Imports
  'POST /v1/imports': op('Imports', 'Import people or events from an uploaded file (CSV or JSON; a multipart "file" part after the kind and dry_run fields, or a raw body with ?kind=&dry_run=); queued as a job', { status: 202 }),
  'GET /v1/imports': op('Imports', 'The newest imports (?kind=users|events)'),
  'GET /v1/imports/:id': op('Imports', 'One import with its progress and counts'),
  'GET /v1/imports/:id/errors.csv': op('Imports', 'An import\'s refused rows as a CSV file download', { produces: 'csv' }),
  'POST /v1/imports/:id/retry': op('Imports', 'Retry an import\'s failed rows: no body (the rows as they were), or an uploaded corrected file (CSV or JSON)', { status: 202 }),
  // Providers (signed by the provider; not for API clients)
  'POST /twilio/sms': op('Providers', 'Twilio inbound SMS webhook (signed)', { auth: 'provider', bodyKind: 'form', produces: 'text' }),
  'POST /twilio/status': op('Providers', 'Twilio delivery status callback (signed)', { auth: 'provider', bodyKind: 'form', produces: 'text' }),
  'GET /e/:token': op('Providers', 'An email\'s action link: the confirmation page', { auth: 'path-key', produces: 'html' }),
  'POST /e/:token': op('Providers', 'An email\'s action link: act', { auth: 'path-key', bodyKind: 'form', produces: 'html' }),
  'POST /slack/events': op('Providers', 'Slack events and interactions (signed)', { auth: 'provider' }),
  'POST /discord/interactions': op('Providers', 'Discord interactions (signed)', { auth: 'provider' }),
  'GET /link/:provider': op('Providers', 'Link a chat account: the confirmation page', { auth: 'path-key', produces: 'html' }),
  'POST /link/:provider': op('Providers', 'Link a chat account', { auth: 'path-key', bodyKind: 'form', produces: 'html' }),
};
