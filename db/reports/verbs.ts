// Report definitions and their runs (docs/design.md "Reports (the report jobs)"): CRUD, run now, retry,
// history and the file. Every bad input is a 400 naming its field and nothing is saved; a schedule is the
// report's next due instant plus one keyed graphile-worker job at it (db/jobs/catalog.ts `report__generate`),
// moved in the same transaction that changes the schedule and removed with the report.
import { z } from 'zod';
import type { Herald } from '../herald';
import type { Sql } from '../platform/sql';
import { actorRef, can, require, type Actor } from '../actor';
import { conflict, invalid, notFound, type FieldError } from '../errors';
import { text } from '../platform/input';
import { addJobs, job, removeJobs } from '../jobs/enqueue';
import { jobKey } from '../jobs/catalog';
import { FORMATS, type Format } from './doc';
import { kindModule, REPORT_KINDS } from './kinds';
import { nextRunAt, SCHEDULE_ATTEMPTS, ScheduleSchema, type Schedule } from './schedule';
import { resolvePeriod, type PeriodParams } from './period';
import { recordAudit } from '../audit/record';
import { exported } from '../audit/suspicious';

const roleKey = z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'a role key is lowercase letters, digits and _');
/** A channel name (`#reports`, `reports`) or a channel id (`C0123ABCD`). */
const slackChannel = text().trim().regex(/^(#?[a-z0-9][a-z0-9._-]{0,79}|[CG][A-Z0-9]{6,20})$/, 'a Slack channel name (#reports) or id (C0123ABCD)');

export const RecipientsSchema = z
  .object({
    users: z.array(z.number().int().positive().max(Number.MAX_SAFE_INTEGER)).max(100).default([]),
    roles: z.array(roleKey).max(20).default([]),
    emails: z.array(text().trim().max(254).pipe(z.email('an email address'))).max(100).default([]),
    slack_channels: z.array(slackChannel).max(20).default([]),
  })
  .strict();
export type Recipients = z.output<typeof RecipientsSchema>;

export const ReportInputSchema = z
  .object({
    name: text().trim().min(1).max(200),
    kind: z.enum(REPORT_KINDS),
    params: z.record(z.string(), z.unknown()).default({}),
    format: z.enum(FORMATS),
    schedule: ScheduleSchema.nullable().optional(),
    recipients: RecipientsSchema.default({ users: [], roles: [], emails: [], slack_channels: [] }),
  })
  .strict();

export interface ReportRow {
  id: number; org_id: number; name: string; kind: string; params: Record<string, unknown>; format: Format; schedule: Schedule | null;
  recipients: Recipients; next_run_at: Date | null; created_by: unknown; created_at: Date; updated_at: Date;
}

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const;
export interface RunView {
  id: number; report_id: number; trigger: 'manual' | 'schedule'; scheduled_for: Date | null; period: { from: Date; to: Date };
  status: (typeof RUN_STATUSES)[number]; progress: number; attempts: number; started_at: Date | null; finished_at: Date | null;
  rows: number | null; bytes: number | null; error: string | null; filename: string | null; file_url: string | null;
  deliveries: Array<{ to: string; channel: string; ok: boolean; error?: string }>; created_at: Date;
}

export const RUN_COLUMNS = 'id, report_id, trigger, scheduled_for, period_from, period_to, status, progress, attempts, started_at, finished_at, rows, bytes, error, filename, deliveries, created_at';

export function runView(r: Record<string, any>): RunView {
  return {
    id: Number(r.id), report_id: Number(r.report_id), trigger: r.trigger, scheduled_for: r.scheduled_for, period: { from: r.period_from, to: r.period_to },
    status: r.status, progress: Number(r.progress), attempts: r.attempts, started_at: r.started_at, finished_at: r.finished_at,
    rows: r.rows === null ? null : Number(r.rows), bytes: r.bytes === null ? null : Number(r.bytes), error: r.error, filename: r.filename,
    file_url: r.status === 'succeeded' ? `/v1/report-runs/${r.id}/file` : null, deliveries: r.deliveries ?? [], created_at: r.created_at,
  };
}

export function reportView(r: ReportRow, lastRun: RunView | null = null) {
  return {
    id: Number(r.id), name: r.name, kind: r.kind, params: r.params, format: r.format, schedule: r.schedule, recipients: r.recipients,
    next_run_at: r.next_run_at, created_at: r.created_at, updated_at: r.updated_at, last_run: lastRun,
  };
}

/** Parses with a zod schema, naming fields under `prefix` (`params.from`). */
function parseUnder<S extends z.ZodType>(schema: S, input: unknown, prefix: string): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const errors: FieldError[] = r.error.issues.map((i) => ({ path: [prefix, ...i.path.map(String)].filter(Boolean).join('.') || '(root)', message: i.message }));
  throw invalid(`The body is invalid: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors);
}

type ReportInput = z.output<typeof ReportInputSchema>;

/** Everything a definition must satisfy beyond its shape: the kind exists, takes the format and its params, every recipient exists. */
async function validate(h: Herald, orgId: number, body: unknown): Promise<ReportInput> {
  const input: ReportInput = parseUnder(ReportInputSchema, body, '');
  const kind = kindModule(input.kind);
  if (!kind) throw invalid(`kind: ${input.kind} reports are not available yet`, [{ path: 'kind', message: `${input.kind} reports are not available yet` }]);
  if (!kind.formats.includes(input.format)) {
    throw invalid(`format: a ${input.kind} report is available as ${kind.formats.join(', ')}`, [{ path: 'format', message: `use ${kind.formats.join(', ')}` }]);
  }
  input.params = parseUnder(kind.params, input.params, 'params') as Record<string, unknown>;
  await kind.check?.(h, orgId, input.params);
  await checkRecipients(h, orgId, input.recipients);
  return input;
}

async function checkRecipients(h: Herald, orgId: number, r: Recipients) {
  const errors: FieldError[] = [];
  if (r.users.length) {
    const found = await h.sql<{ id: number }[]>`select id from users where org_id = ${orgId} and deleted_at is null and id = any(${r.users}::bigint[])`;
    const ids = new Set(found.map((u) => Number(u.id)));
    r.users.forEach((u, i) => { if (!ids.has(u)) errors.push({ path: `recipients.users.${i}`, message: `user ${u} does not exist` }); });
  }
  if (r.roles.length) {
    const found = await h.sql<{ key: string }[]>`select key from roles where org_id = ${orgId} and key = any(${r.roles}::text[])`;
    const keys = new Set(found.map((x) => x.key));
    r.roles.forEach((k, i) => { if (!keys.has(k)) errors.push({ path: `recipients.roles.${i}`, message: `role ${k} does not exist` }); });
  }
  if (r.slack_channels.length && !h.channels.slack.enabled) errors.push({ path: 'recipients.slack_channels', message: 'Slack is not configured' });
  if ((r.users.length || r.roles.length || r.emails.length) && !h.channels.email.enabled) errors.push({ path: 'recipients', message: 'email is not configured (SMTP_URL)' });
  if (errors.length) throw invalid(`The body is invalid: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors);
}

export const scheduleKey = (reportId: number) => jobKey('report__generate', { report_id: reportId, scheduled_for: '' });

/** Sets the report's next run from its schedule (or clears it) and moves its keyed job, inside `tx`. */
async function reschedule(tx: Sql, reportId: number, schedule: Schedule | null | undefined, after = new Date()) {
  if (!schedule) {
    await tx`update reports set next_run_at = null where id = ${reportId}`;
    await removeJobs(tx, [scheduleKey(reportId)]);
    return null;
  }
  const next = nextRunAt(schedule.cron, schedule.timezone, after);
  await tx`update reports set next_run_at = ${next} where id = ${reportId}`;
  // The same key replaces the pending job: editing a schedule moves it.
  await addJobs(tx, [job('report__generate', { report_id: reportId, scheduled_for: next.toISOString() }, { run_at: next, max_attempts: SCHEDULE_ATTEMPTS })]);
  return next;
}

async function load(sql: Sql, orgId: number, id: number, lock = false): Promise<ReportRow> {
  const [r] = lock
    ? await sql<ReportRow[]>`select * from reports where org_id = ${orgId} and id = ${id} for update`
    : await sql<ReportRow[]>`select * from reports where org_id = ${orgId} and id = ${id}`;
  if (!r) throw notFound(`Report ${id}`);
  return r;
}

async function lastRuns(sql: Sql, ids: number[]): Promise<Map<number, RunView>> {
  if (!ids.length) return new Map();
  const rows = await sql.unsafe(`select distinct on (report_id) ${RUN_COLUMNS} from report_runs where report_id = any($1::bigint[]) order by report_id, id desc`, [ids as never]);
  return new Map(rows.map((r) => [Number(r.report_id), runView(r)]));
}

export async function createReport(h: Herald, actor: Actor, body: unknown) {
  require(actor, 'reports:write');
  const input = await validate(h, actor.orgId, body);
  const row = await h.sql.begin(async (tx) => {
    const [r] = await tx<ReportRow[]>`
      insert into reports (org_id, name, kind, params, format, schedule, recipients, created_by)
      values (${actor.orgId}, ${input.name}, ${input.kind}, ${input.params as never}, ${input.format}, ${(input.schedule ?? null) as never},
        ${input.recipients as never}, ${actorRef(actor) as never})
      returning *`;
    r.next_run_at = await reschedule(tx, Number(r.id), input.schedule);
    await recordAudit(tx, actor, 'report.created', { kind: 'report', id: Number(r.id), label: r.name }, { after: reportView(r) });
    return r;
  });
  return reportView(row);
}

export async function listReports(h: Herald, actor: Actor) {
  require(actor, 'reports:read');
  const rows = await h.sql<ReportRow[]>`select * from reports where org_id = ${actor.orgId} order by name, id`;
  const last = await lastRuns(h.sql, rows.map((r) => Number(r.id)));
  return { items: rows.map((r) => reportView(r, last.get(Number(r.id)) ?? null)), editable: can(actor, 'reports:write') };
}

export async function getReport(h: Herald, actor: Actor, id: number) {
  require(actor, 'reports:read');
  const r = await load(h.sql, actor.orgId, id);
  return reportView(r, (await lastRuns(h.sql, [id])).get(id) ?? null);
}

/** PATCH: the fields given replace the stored ones; the whole definition is then validated again. */
export async function updateReport(h: Herald, actor: Actor, id: number, body: unknown) {
  require(actor, 'reports:write');
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalid('The body must be a JSON object');
  const cur = await load(h.sql, actor.orgId, id);
  const merged = {
    name: cur.name, kind: cur.kind, params: cur.params, format: cur.format, schedule: cur.schedule, recipients: cur.recipients,
    // A new kind starts from the params given with it, not the old kind's.
    ...('kind' in body && (body as { kind: unknown }).kind !== cur.kind ? { params: {} } : {}),
    ...(body as Record<string, unknown>),
  };
  const input = await validate(h, actor.orgId, merged);
  const scheduleChanged = JSON.stringify(input.schedule ?? null) !== JSON.stringify(cur.schedule ?? null);
  const row = await h.sql.begin(async (tx) => {
    const before = await load(tx, actor.orgId, id, true);
    const [r] = await tx<ReportRow[]>`
      update reports set name = ${input.name}, kind = ${input.kind}, params = ${input.params as never}, format = ${input.format},
        schedule = ${(input.schedule ?? null) as never}, recipients = ${input.recipients as never}, updated_at = now()
      where id = ${id} returning *`;
    if (scheduleChanged) r.next_run_at = await reschedule(tx, id, input.schedule);
    await recordAudit(tx, actor, 'report.updated', { kind: 'report', id, label: r.name }, { before: reportView(before), after: reportView(r) });
    return r;
  });
  return reportView(row, (await lastRuns(h.sql, [id])).get(id) ?? null);
}

export async function deleteReport(h: Herald, actor: Actor, id: number) {
  require(actor, 'reports:write');
  await h.sql.begin(async (tx) => {
    const [r] = await tx<ReportRow[]>`delete from reports where org_id = ${actor.orgId} and id = ${id} returning *`;
    if (!r) throw notFound(`Report ${id}`);
    await removeJobs(tx, [scheduleKey(id)]);
    await recordAudit(tx, actor, 'report.deleted', { kind: 'report', id, label: r.name }, { before: reportView(r) });
  });
}

/** The time zone a report's periods are read in: its params', else its schedule's, else UTC. */
export function reportTz(r: Pick<ReportRow, 'kind' | 'params' | 'schedule'>): string {
  const k = kindModule(r.kind);
  return (k?.tzOf?.(r.params) as string | undefined) ?? r.schedule?.timezone ?? 'UTC';
}

/** Inserts a queued run of `report` for the period anchored at `anchor`, and its job, inside `tx`. */
export async function insertRun(tx: Sql, r: ReportRow, period: { from: Date; to: Date }, trigger: 'manual' | 'schedule', scheduledFor: Date | null) {
  const [run] = await tx<{ id: number }[]>`
    insert into report_runs (org_id, report_id, trigger, scheduled_for, period_from, period_to)
    values (${r.org_id}, ${r.id}, ${trigger}, ${scheduledFor}, ${period.from}, ${period.to}) returning id`;
  await addJobs(tx, [job('report__generate', { run_id: Number(run.id) })]);
  return Number(run.id);
}

/** POST /v1/reports/:id/run → {run_id}: one run now, for the period ending now. */
export async function runReportNow(h: Herald, actor: Actor, id: number) {
  require(actor, 'reports:write');
  const r = await load(h.sql, actor.orgId, id);
  const period = await resolvePeriod(h.sql, r.params as PeriodParams, new Date(), reportTz(r));
  const runId = await h.sql.begin(async (tx) => {
    const cur = await load(tx, actor.orgId, id, true);
    return insertRun(tx, cur, period, 'manual', null);
  });
  return { run_id: runId };
}

export async function listRuns(h: Herald, actor: Actor, reportId: number, limit = 50): Promise<RunView[]> {
  require(actor, 'reports:read');
  await load(h.sql, actor.orgId, reportId);
  const rows = await h.sql.unsafe(`select ${RUN_COLUMNS} from report_runs where report_id = $1 order by id desc limit $2`, [reportId, limit]);
  return rows.map(runView);
}

export async function getRun(h: Herald, actor: Actor, runId: number): Promise<RunView> {
  require(actor, 'reports:read');
  const [r] = await h.sql.unsafe(`select ${RUN_COLUMNS} from report_runs where org_id = $1 and id = $2`, [actor.orgId, runId]);
  if (!r) throw notFound(`Report run ${runId}`);
  return runView(r);
}

/** POST /v1/report-runs/:id/retry: a failed run goes back to the queue (same period, same report). */
export async function retryRun(h: Herald, actor: Actor, runId: number): Promise<RunView> {
  require(actor, 'reports:write');
  return h.sql.begin(async (tx) => {
    const [r] = await tx`select status from report_runs where org_id = ${actor.orgId} and id = ${runId} for update`;
    if (!r) throw notFound(`Report run ${runId}`);
    if (r.status !== 'failed') throw conflict(`Run ${runId} is ${r.status}; only a failed run can be retried`);
    const [u] = await tx.unsafe(`update report_runs set status = 'queued', progress = 0, error = null, started_at = null, finished_at = null
      where id = $1 returning ${RUN_COLUMNS}`, [runId]);
    await addJobs(tx, [job('report__generate', { run_id: runId })]);
    return runView(u);
  });
}

/**
 * GET /v1/report-runs/:id/file. A download is an export (`report.exported`, the run in `after`): a report file
 * carries the org's data out like the alerts export, so it is audited and counts toward the bulk-export alert.
 */
export async function runFile(h: Herald, actor: Actor, runId: number) {
  require(actor, 'reports:read');
  const r = await h.sql.begin(async (tx) => {
    const [r] = await tx<{ report_id: number; status: string; filename: string | null; content_type: string | null; file: Buffer | null }[]>`
      select report_id, status, filename, content_type, file from report_runs where org_id = ${actor.orgId} and id = ${runId}`;
    if (!r) throw notFound(`Report run ${runId}`);
    if (r.status !== 'succeeded' || !r.file) throw conflict(`Run ${runId} is ${r.status}: it has no file${r.status === 'failed' ? '; retry it first' : ' yet'}`);
    await exported(tx, h.config.security, actor, 'report', { run_id: runId, report_id: Number(r.report_id), filename: r.filename });
    return { ...r, file: r.file };
  });
  return { filename: r.filename ?? `report-${runId}`, contentType: r.content_type ?? 'application/octet-stream', data: r.file };
}
