// The report jobs' work (jobs/report__generate.ts calls these):
// - `scheduleTick`: a report's schedule came due. Under the report's lock it checks the job is still the
//   current one (an edited or deleted schedule leaves nothing to do), creates the slot's run, and moves the
//   schedule to the next instant after *now*: a slot missed while Herald was down runs once, not once per slot.
// - `generateRun`: claims a queued run, renders it (PDF through the kind's document, CSV/XLSX through its
//   file), keeps the file, and records success or failure. A renderer that throws fails the run with its
//   error; it never propagates to the worker.
// - `recordDeliveries`, `announceRun`: what happened to each recipient; `report.succeeded|failed` webhooks.
import type { Herald } from '../herald';
import type { Sql } from '../platform/sql';
import { log } from '../platform/log';
import { reportRenderSeconds, reportRuns } from '../platform/metrics';
import { addJobs, job } from '../jobs/enqueue';
import { fanOutOrgEvent } from '../webhooks/fanout';
import { kindModule } from './kinds';
import { CONTENT_TYPES, type Format, type RenderedFile } from './doc';
import { nextRunAt, SCHEDULE_ATTEMPTS } from './schedule';
import { resolvePeriod, type PeriodParams } from './period';
import { insertRun, reportTz, RUN_COLUMNS, runView, type Recipients, type ReportRow, type RunView } from './verbs';

export async function scheduleTick(h: Herald, reportId: number, scheduledFor: string): Promise<number | null> {
  const slot = new Date(scheduledFor);
  if (Number.isNaN(slot.getTime())) return null;
  const [peek] = await h.sql<ReportRow[]>`select * from reports where id = ${reportId}`;
  if (!peek?.schedule || peek.next_run_at?.getTime() !== slot.getTime()) return null;
  const period = await resolvePeriod(h.sql, peek.params as PeriodParams, slot, reportTz(peek));
  return h.sql.begin(async (tx) => {
    const [r] = await tx<ReportRow[]>`select * from reports where id = ${reportId} for update`;
    // Stale: the report was deleted, unscheduled, or its schedule moved since this job was queued.
    if (!r?.schedule || r.next_run_at?.getTime() !== slot.getTime()) return null;
    const runId = await insertRun(tx, r, period, 'schedule', slot);
    const now = new Date();
    const next = nextRunAt(r.schedule.cron, r.schedule.timezone, now > slot ? now : slot);
    await tx`update reports set next_run_at = ${next} where id = ${reportId}`;
    await addJobs(tx, [job('report__generate', { report_id: reportId, scheduled_for: next.toISOString() }, { run_at: next, max_attempts: SCHEDULE_ATTEMPTS })]);
    if (now.getTime() - slot.getTime() > 60_000) log.info('report: a schedule slot was due while Herald was away; running it once', { report_id: reportId, slot: scheduledFor });
    return runId;
  });
}

export interface FinishedRun { run: RunView; report: ReportRow; file: RenderedFile | null }

async function setProgress(sql: Sql, runId: number, f: number) {
  await sql`update report_runs set progress = ${Math.max(0, Math.min(1, Math.round(f * 100) / 100))} where id = ${runId} and status = 'running'`;
}

/** Renders one run. Null when the run is gone or already finished (a stale or repeated job). */
export async function generateRun(h: Herald, runId: number): Promise<FinishedRun | null> {
  const [claimed] = await h.sql`
    update report_runs set status = 'running', started_at = now(), finished_at = null, progress = 0, attempts = attempts + 1
    where id = ${runId} and status in ('queued', 'running') returning id, report_id, period_from, period_to`;
  if (!claimed) return null;
  const [report] = await h.sql<ReportRow[]>`select * from reports where id = ${claimed.report_id}`;
  if (!report) return null;
  const tz = reportTz(report);
  const period = { from: claimed.period_from as Date, to: claimed.period_to as Date, tz };
  let file: RenderedFile;
  const t0 = performance.now();
  const count = (status: string) => reportRuns.inc({ kind: report.kind, format: report.format, status });
  try {
    file = await render(h, report, period, runId);
    reportRenderSeconds.observe({ format: report.format }, (performance.now() - t0) / 1000);
  } catch (e) {
    count('failed');
    const error = (e instanceof Error ? e.message : String(e)).slice(0, 1000) || 'the renderer failed';
    log.warn('report: run failed', { run_id: runId, report_id: Number(report.id), error });
    const [failed] = await h.sql`update report_runs set status = 'failed', finished_at = now(), error = ${error} where id = ${runId} returning ${h.sql.unsafe(RUN_COLUMNS)}`;
    return { run: runView(failed), report, file: null };
  }
  const [done] = await h.sql`
    update report_runs set status = 'succeeded', progress = 1, finished_at = now(), rows = ${file.rows}, bytes = ${file.data.length},
      filename = ${file.filename}, content_type = ${file.contentType}, file = ${file.data}, error = null
    where id = ${runId} and status = 'running' returning ${h.sql.unsafe(RUN_COLUMNS)}`;
  if (!done) return null;
  count('succeeded');
  return { run: runView(done), report, file };
}

async function render(h: Herald, report: ReportRow, period: { from: Date; to: Date; tz: string }, runId: number): Promise<RenderedFile> {
  const kind = kindModule(report.kind);
  if (!kind) throw new Error(`${report.kind} reports are not available in this version of Herald`);
  const params = kind.params.parse(report.params);
  const progress = (f: number) => setProgress(h.sql, runId, f);
  const day = (d: Date) => new Intl.DateTimeFormat('en-CA', { timeZone: period.tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
  const slug = report.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60) || 'report';
  const base = `${slug}-${day(period.from)}-to-${day(new Date(Math.max(period.from.getTime(), period.to.getTime() - 1)))}`;
  const format = report.format as Format;
  if (format === 'pdf') {
    const doc = await kind.document(h, Number(report.org_id), params, period, (f) => progress(f * 0.5));
    // pdfkit, Chart.js and the Skia canvas load on the first PDF, not in every worker at start.
    const { renderPdf } = await import('./render/pdf');
    const data = await renderPdf({ name: report.name, doc, generatedAt: new Date(), tz: period.tz }, (f) => progress(0.5 + f * 0.5));
    return { filename: `${base}.pdf`, contentType: CONTENT_TYPES.pdf, data, rows: doc.rows };
  }
  if (!kind.file) throw new Error(`a ${report.kind} report cannot be written as ${format}`);
  const f = await kind.file(h, Number(report.org_id), params, period, format);
  return { ...f, filename: `${base}.${format}` };
}

export interface Delivery { to: string; channel: 'email' | 'slack'; ok: boolean; error?: string }

/** Every address and channel a finished run goes to: users and role members with an email, addresses, Slack channels. */
export async function recipientsOf(sql: Sql, orgId: number, r: Recipients): Promise<{ emails: Array<{ address: string; name?: string }>; slack: string[] }> {
  const users = r.users.length || r.roles.length
    ? await sql<{ name: string; email: string }[]>`
        select name, email from users where org_id = ${orgId} and deleted_at is null and email <> ''
          and (id = any(${r.users}::bigint[]) or roles && ${r.roles}::text[]) order by id`
    : [];
  const seen = new Set<string>();
  const emails: Array<{ address: string; name?: string }> = [];
  for (const u of users) if (!seen.has(u.email.toLowerCase())) { seen.add(u.email.toLowerCase()); emails.push({ address: u.email, name: u.name }); }
  for (const e of r.emails) if (!seen.has(e.toLowerCase())) { seen.add(e.toLowerCase()); emails.push({ address: e }); }
  return { emails, slack: [...new Set(r.slack_channels)] };
}

export async function recordDeliveries(sql: Sql, runId: number, deliveries: Delivery[]) {
  await sql`update report_runs set deliveries = ${deliveries as never} where id = ${runId}`;
}

/** `report.succeeded` / `report.failed` to every subscribed webhook. */
export async function announceRun(h: Herald, f: FinishedRun) {
  const r = f.report;
  const type = f.run.status === 'succeeded' ? 'report.succeeded' : 'report.failed';
  const data = {
    report: { id: Number(r.id), name: r.name, kind: r.kind, format: r.format },
    run: { ...f.run, file_url: f.run.file_url ? `${h.config.publicUrl}${f.run.file_url}` : null },
  };
  await h.sql.begin(async (tx) => addJobs(tx, await fanOutOrgEvent(tx, { org_id: Number(r.org_id), type, data })));
}
