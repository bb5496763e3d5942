// Stories about reports nobody has to ask for. The finance lead wants the alert figures every Monday 08:00
// Berlin time as a PDF by email and in #reports; the ops lead a KPI dashboard as a PDF. Everything runs
// through the real API, the real worker, the real nodemailer against the SMTP fake and the real Slack Web
// API client against the Slack fake; only alert timestamps are set in SQL to known instants, and "the clock
// is advanced" by moving the report's keyed schedule job to now, as its time coming would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { parse as parseCsv } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { startReceiver, startTestHerald, type Receiver, type TestHerald } from './harness';
import { startFakeSmtp, type FakeSmtp } from './fakes/smtp';
import { startFakeSlack, type FakeSlack } from './fakes/slack';
import { nextRunAt } from '../db/reports/schedule';
import { duration } from '../db/model/charts';
import { renderPdf } from '../db/reports/render/pdf';

const STANDARD_FONTS = join(dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json')), 'standard_fonts') + '/';

let h: TestHerald;
let smtp: FakeSmtp;
let slack: FakeSlack;
let hooks: Receiver;
let salesKey: string;

/** Every page's text, joined, as a PDF reader extracts it (pdfjs-dist). */
async function pdfText(data: Buffer | Uint8Array): Promise<{ text: string; pages: number }> {
  const pdf = await getDocument({ data: new Uint8Array(data), useSystemFonts: false, isEvalSupported: false, standardFontDataUrl: STANDARD_FONTS }).promise;
  const parts: string[] = [];
  for (let i = 1; i <= pdf.numPages; i++) {
    const content = await (await pdf.getPage(i)).getTextContent();
    parts.push(content.items.map((it) => ('str' in it ? it.str : '')).join(' '));
  }
  const pages = pdf.numPages;
  await pdf.destroy();
  return { text: parts.join('\n').replace(/\s+/g, ' '), pages };
}

async function postEvent(body: Record<string, unknown>): Promise<number> {
  const ev = await h.api('POST', '/v1/events', { severity: 'error', ...body });
  expect(ev.status).toBe(202);
  return (await h.eventually(async () => {
    const e = await h.api('GET', `/v1/events/${ev.body.event_id}`);
    return e.body.alert_id && ['routed', 'deduplicated'].includes(e.body.status) && e.body;
  })).alert_id;
}

/** Created at `at`, first acknowledged `ack` s and resolved `res` s later (null: never). */
async function setTimes(id: number, at: Date, ack: number | null, res: number | null) {
  await h.sql`
    update alerts set created_at = ${at},
      first_acknowledged_at = case when ${ack}::int is null then null else ${at}::timestamptz + make_interval(secs => ${ack}::int) end,
      acknowledged_at = case when acknowledged_at is null then null else ${at}::timestamptz + make_interval(secs => ${ack}::int) end,
      resolved_at = case when ${res}::int is null then null else ${at}::timestamptz + make_interval(secs => ${res}::int) end
    where id = ${id}`;
}

const runsOf = async (id: number) => (await h.api('GET', `/v1/reports/${id}/runs`)).body as any[];
const waitRun = (runId: number, status: 'succeeded' | 'failed') =>
  h.eventually(async () => {
    const r = await h.api('GET', `/v1/report-runs/${runId}`);
    if (r.body.status !== status) throw new Error(`run ${r.body.status} ${r.body.progress} ${r.body.error}`);
    return r.body;
  }, 30_000);
const scheduleJob = async (reportId: number) =>
  (await h.sql<{ run_at: Date; payload: any }[]>`select run_at, payload from graphile_worker._private_jobs where key = ${`report:${reportId}:schedule`}`)[0];
/** The clock reaches the report's next run: its keyed job is due now. */
const advanceClock = (reportId: number) => h.sql`update graphile_worker._private_jobs set run_at = now() where key = ${`report:${reportId}:schedule`}`;
const hooksOf = (type: string) => hooks.hits.map((x) => JSON.parse(x.body)).filter((b) => b.type === type);

beforeAll(async () => {
  smtp = await startFakeSmtp();
  slack = await startFakeSlack({ token: 'xoxb-reports' });
  hooks = await startReceiver();
  h = await startTestHerald({ SMTP_URL: smtp.url, SLACK_BOT_TOKEN: 'xoxb-reports', SLACK_SIGNING_SECRET: 'slack-secret', SLACK_API_URL: slack.url });
  await h.api('POST', '/v1/users', { name: 'Fiona Finance', email: 'fiona@example.com', roles: ['accounting'] });
  const rule = await h.api('POST', '/v1/rules', { name: 'Finance', match: { category: 'finance' }, targets: { roles: ['accounting'] }, channels: ['in_app'], priority: 'high' });
  expect(rule.status, JSON.stringify(rule.body)).toBe(201);
  const sales = await h.api('POST', '/v1/rules', { name: 'Sales', match: { category: 'sales' }, targets: { roles: ['sales'] }, channels: ['in_app'] });
  expect(sales.status, JSON.stringify(sales.body)).toBe(201);
  expect((await h.api('POST', '/v1/webhooks', { url: hooks.url, events: ['report.succeeded', 'report.failed'] })).status).toBe(201);
  salesKey = (await h.api('POST', '/v1/api-keys', { name: 'Reader', scopes: ['reports:read'] })).body.key;
}, 60_000);

afterAll(async () => {
  await h?.stop();
  await smtp?.close();
  await slack?.close();
  await hooks?.close();
});

describe('the Monday report', () => {
  let reportId: number;
  let slot: Date;

  it('is scheduled for the next Monday 08:00 in Berlin, as one keyed job', async () => {
    const r = await h.api('POST', '/v1/reports', {
      name: 'Finance weekly', kind: 'alerts', format: 'pdf', params: { period: 'previous_week', category: 'finance' },
      schedule: { cron: '0 8 * * 1', timezone: 'Europe/Berlin' },
      recipients: { roles: ['accounting'], emails: ['cfo@example.com'], slack_channels: ['#reports'] },
    });
    expect(r.status).toBe(201);
    reportId = r.body.id;
    slot = new Date(r.body.next_run_at);
    expect(slot.getTime()).toBe(nextRunAt('0 8 * * 1', 'Europe/Berlin', new Date(Date.parse(r.body.created_at) - 1)).getTime());
    const local = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', weekday: 'long', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(slot);
    expect(local).toBe('Monday 08:00');
    const j = await scheduleJob(reportId);
    expect(j.run_at.getTime()).toBe(slot.getTime());
    expect(j.payload).toEqual({ report_id: reportId, scheduled_for: slot.toISOString() });
    expect(await runsOf(reportId)).toEqual([]);
  });

  it('runs once when its time comes, mails a PDF with the figures, posts it to #reports and keeps it in the history', async () => {
    // Four finance alerts in the week before the slot (Saturday 08:00 Berlin is two days before it), known times:
    // acknowledged after 60 s, 120 s and 600 s (one never); resolved after 300 s and 900 s.
    const a = [];
    for (let i = 0; i < 4; i++) a.push(await postEvent({ category: 'finance', type: 'payment_failed', title: `Payment ${i + 1} failed`, dedup_key: `pay-${i}` }));
    const sat = new Date(slot.getTime() - 2 * 86_400_000);
    await setTimes(a[0], new Date(sat.getTime() + 0), 60, 300);
    await setTimes(a[1], new Date(sat.getTime() + 3600_000), 120, 900);
    await setTimes(a[2], new Date(sat.getTime() + 7200_000), 600, null);
    await setTimes(a[3], new Date(sat.getTime() + 10800_000), null, null);
    // An alert of another category and one after the period are not in the report.
    const other = await postEvent({ category: 'sales', type: 'lead', title: 'Lead', dedup_key: 'lead-1' });
    await setTimes(other, sat, 30, 30);
    const mails = smtp.messages.length;

    await advanceClock(reportId);
    const [run] = await h.eventually<any[]>(async () => {
      const runs = await runsOf(reportId);
      if (!runs.length) return null;
      if (runs[0].status !== 'succeeded') throw new Error(`run ${runs[0].status} ${runs[0].progress} ${runs[0].error}`);
      return runs;
    }, 30_000);
    expect(run).toMatchObject({ status: 'succeeded', trigger: 'schedule', progress: 1, rows: 4, error: null });
    expect(new Date(run.scheduled_for).getTime()).toBe(slot.getTime());
    expect(run.bytes).toBeGreaterThan(1000);
    expect(Date.parse(run.finished_at)).toBeGreaterThanOrEqual(Date.parse(run.started_at));
    // previous_week: Monday 00:00 to Monday 00:00, Berlin, the week before the slot.
    expect(Date.parse(run.period.to)).toBe(slot.getTime() - 8 * 3600_000);
    const berlin = (t: string) => new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', weekday: 'long', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(t));
    expect(berlin(run.period.from)).toBe('Monday 00:00');
    expect(Date.parse(run.period.to) - Date.parse(run.period.from)).toBeGreaterThanOrEqual(167 * 3600_000);

    // Fiona (accounting) and the CFO each get one email with the PDF attached.
    const got = await smtp.waitFor(mails + 2, 10_000);
    const reportMails = got.slice(mails).filter((m) => m.subject === '[Herald report] Finance weekly');
    expect(reportMails.map((m) => (m.to as any).value[0].address).sort()).toEqual(['cfo@example.com', 'fiona@example.com']);
    const att = reportMails[0].attachments[0];
    expect(att.contentType).toBe('application/pdf');
    expect(att.filename).toMatch(/^finance-weekly-\d{4}-\d{2}-\d{2}-to-\d{4}-\d{2}-\d{2}\.pdf$/);
    const { text, pages } = await pdfText(att.content);
    // The figures, computed by hand: 4 created, 3 acknowledged (75 %), 2 resolved; MTTA over 60/120/600 s:
    // p50 120 s, p90 504 s, mean 260 s; MTTR over 300/900 s: p50 600 s, p90 840 s, mean 600 s.
    expect(text).toContain('Finance weekly');
    expect(text).toContain('Alerts created 4');
    expect(text).toContain('Acknowledged 3');
    expect(text).toContain('acknowledgement rate 75 %');
    expect(text).toContain('Resolved 2');
    expect(text).toContain(`MTTA p50 ${duration(120)}`);
    expect(text).toContain(`p90 ${duration(504)}, mean ${duration(260)}`);
    expect(text).toContain(`MTTR p50 ${duration(600)}`);
    expect(text).toContain(`p90 ${duration(840)}, mean ${duration(600)}`);
    expect(text).toContain('Category finance');
    expect(text).toContain('(Europe/Berlin)');
    expect(text).toContain('Payment 4 failed');
    expect(text).not.toContain('Lead');
    expect(pages).toBeGreaterThanOrEqual(3); // title, charts, tables

    // #reports gets the same file through files.uploadV2.
    const file = await h.eventually(async () => slack.files.find((f) => f.channel === slack.channelIdOf('#reports')));
    expect(file.filename).toBe(att.filename);
    expect(Buffer.compare(file.data, att.content)).toBe(0);

    // The history keeps the run and its file; the deliveries are recorded.
    const dl = await fetch(`${h.url}/v1/report-runs/${run.id}/file`, { headers: { authorization: `Bearer ${salesKey}` } });
    expect(dl.status).toBe(200);
    expect(dl.headers.get('content-type')).toBe('application/pdf');
    expect(dl.headers.get('content-disposition')).toContain(`filename="${att.filename}"`);
    expect(Buffer.compare(Buffer.from(await dl.arrayBuffer()), att.content)).toBe(0);
    const after = await h.eventually(async () => {
      const r = (await runsOf(reportId))[0];
      return r.deliveries.length === 3 && r;
    });
    expect(after.deliveries.every((d: any) => d.ok)).toBe(true);
    const hook = await h.eventually(async () => hooksOf('report.succeeded').find((b) => b.data.run.id === run.id));
    expect(hook.data.report).toMatchObject({ id: reportId, name: 'Finance weekly', kind: 'alerts', format: 'pdf' });
    expect(hook.data.run.file_url).toBe(`${h.ctx.config.publicUrl}/v1/report-runs/${run.id}/file`);

    // Once: one run, and the schedule moved on to the Monday after, still one keyed job.
    await new Promise((r) => setTimeout(r, 500));
    expect(await runsOf(reportId)).toHaveLength(1);
    const report = (await h.api('GET', `/v1/reports/${reportId}`)).body;
    expect(new Date(report.next_run_at).getTime()).toBe(nextRunAt('0 8 * * 1', 'Europe/Berlin', slot).getTime());
    expect(report.last_run.id).toBe(run.id);
    expect((await scheduleJob(reportId)).payload.scheduled_for).toBe(report.next_run_at);
  }, 60_000);

  it('a slot due while Herald was down runs once when it is back, not once per missed slot', async () => {
    const r = await h.api('POST', '/v1/reports', { name: 'Daily finance CSV', kind: 'alerts', format: 'csv', params: { period: 'last_24h' },
      schedule: { cron: '0 8 * * *', timezone: 'Europe/Berlin' } });
    expect(r.status).toBe(201);
    const id = r.body.id;
    // Herald was away for three days: the job that was due three days ago is still waiting when it comes back.
    const missed = new Date(Date.now() - 3 * 86_400_000);
    await h.sql.begin(async (tx) => {
      await tx`update reports set next_run_at = ${missed} where id = ${id}`;
      await tx`update graphile_worker._private_jobs set run_at = ${missed}, payload = ${{ report_id: id, scheduled_for: missed.toISOString() } as never}
        where key = ${`report:${id}:schedule`}`;
    });
    const runs = await h.eventually<any[]>(async () => {
      const x = await runsOf(id);
      return x.length > 0 && x[0].status === 'succeeded' && x;
    }, 30_000);
    await new Promise((res) => setTimeout(res, 800));
    expect(await runsOf(id)).toHaveLength(1);
    expect(runs[0].filename).toMatch(/\.csv$/);
    const next = new Date((await h.api('GET', `/v1/reports/${id}`)).body.next_run_at);
    expect(next.getTime()).toBeGreaterThan(Date.now());
    expect(next.getTime()).toBe(nextRunAt('0 8 * * *', 'Europe/Berlin', new Date(Date.parse(runs[0].started_at) - 5000)).getTime());
    const csv = await fetch(`${h.url}/v1/report-runs/${runs[0].id}/file`, { headers: { authorization: `Bearer ${salesKey}` } });
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect((await csv.text()).split('\r\n')[0]).toContain('id,status,priority');
  }, 60_000);

  it('editing the schedule moves its job; deleting the report removes it', async () => {
    const p = await h.api('PATCH', `/v1/reports/${reportId}`, { schedule: { cron: '30 7 * * 5', timezone: 'America/New_York' } });
    expect(p.status).toBe(200);
    const next = new Date(p.body.next_run_at);
    expect(new Intl.DateTimeFormat('en-GB', { timeZone: 'America/New_York', weekday: 'long', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(next)).toBe('Friday 07:30');
    const j = await scheduleJob(reportId);
    expect(j.run_at.getTime()).toBe(next.getTime());
    const [{ n }] = await h.sql`select count(*)::int as n from graphile_worker._private_jobs where task_id = (select id from graphile_worker._private_tasks where identifier = 'report__generate') and payload->>'report_id' = ${String(reportId)}`;
    expect(n).toBe(1);
    // A name-only edit leaves the job alone.
    expect((await h.api('PATCH', `/v1/reports/${reportId}`, { name: 'Finance weekly (US)' })).status).toBe(200);
    expect((await scheduleJob(reportId)).run_at.getTime()).toBe(next.getTime());
    // No schedule: no job.
    expect((await h.api('PATCH', `/v1/reports/${reportId}`, { schedule: null })).body.next_run_at).toBeNull();
    expect(await scheduleJob(reportId)).toBeUndefined();
    expect((await h.api('PATCH', `/v1/reports/${reportId}`, { schedule: { cron: '0 9 * * *', timezone: 'UTC' } })).status).toBe(200);
    expect(await scheduleJob(reportId)).toBeDefined();
    expect((await h.api('DELETE', `/v1/reports/${reportId}`)).status).toBe(204);
    expect(await scheduleJob(reportId)).toBeUndefined();
    expect((await h.api('GET', `/v1/reports/${reportId}`)).status).toBe(404);
  });
});

describe('a run that fails', () => {
  it('is kept with its error, announced, and succeeds when retried', async () => {
    const preset = (await h.api('GET', '/v1/dashboards/system')).body;
    const widgets = preset.widgets.map(({ type, metric, title, options }: any) => ({ type, metric, title, options }));
    const dash = { key: 'weekly-ops', name: 'Weekly ops', roles: [], widgets };
    expect((await h.api('POST', '/v1/dashboards', dash)).status).toBe(201);
    const r = await h.api('POST', '/v1/reports', { name: 'Ops dashboard', kind: 'dashboard', format: 'pdf', params: { dashboard: 'weekly-ops', period: 'last_30d' } });
    expect(r.status).toBe(201);
    // The dashboard goes away after the report was saved: the renderer throws.
    expect((await h.api('DELETE', '/v1/dashboards/weekly-ops')).status).toBe(204);
    const run = await h.api('POST', `/v1/reports/${r.body.id}/run`);
    expect(run.status).toBe(202);
    const failed = await waitRun(run.body.run_id, 'failed');
    expect(failed.error).toContain('weekly-ops');
    expect(failed.file_url).toBeNull();
    expect((await h.api('GET', `/v1/report-runs/${run.body.run_id}/file`)).status).toBe(409);
    await h.eventually(async () => hooksOf('report.failed').find((b) => b.data.run.id === run.body.run_id));
    // The worker is still up: other work goes on.
    expect(await postEvent({ category: 'finance', type: 'x', title: 'Still routing', dedup_key: 'still' })).toBeGreaterThan(0);
    expect((await h.api('POST', `/v1/report-runs/${run.body.run_id}/retry`)).status).toBe(202);

    // Retried before the cause is fixed, it fails again; after, it succeeds.
    await waitRun(run.body.run_id, 'failed');
    expect((await h.api('POST', '/v1/dashboards', dash)).status).toBe(201);
    const retried = await h.api('POST', `/v1/report-runs/${run.body.run_id}/retry`);
    expect(retried.status).toBe(202);
    expect(retried.body.status).toBe('queued');
    const ok = await waitRun(run.body.run_id, 'succeeded');
    expect(ok.error).toBeNull();
    expect(ok.attempts).toBe(3);
    expect((await h.api('POST', `/v1/report-runs/${run.body.run_id}/retry`)).status).toBe(409);
    const file = await fetch(`${h.url}/v1/report-runs/${ok.id}/file`, { headers: { authorization: `Bearer ${salesKey}` } });
    const { text } = await pdfText(Buffer.from(await file.arrayBuffer()));
    expect(text).toContain('Ops dashboard');
    expect(text).toContain('Weekly ops (weekly-ops)');
    await h.eventually(async () => hooksOf('report.succeeded').find((b) => b.data.run.id === ok.id));
    expect(await runsOf(r.body.id)).toHaveLength(1);
  }, 60_000);
});

describe('bad input', () => {
  const good = { name: 'R', kind: 'alerts', format: 'pdf' };
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['an invalid cron expression', { schedule: { cron: '61 * * * *', timezone: 'UTC' } }, 'schedule.cron'],
    ['a cron expression with six fields', { schedule: { cron: '0 0 8 * * 1', timezone: 'UTC' } }, 'schedule.cron'],
    ['a schedule every minute', { schedule: { cron: '* * * * *', timezone: 'UTC' } }, 'schedule.cron'],
    ['an unknown time zone', { schedule: { cron: '0 8 * * 1', timezone: 'Mars/Olympus' } }, 'schedule.timezone'],
    ['from after to', { params: { from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' } }, 'params.from'],
    ['a period and from/to', { params: { period: 'last_7d', from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' } }, 'params.period'],
    ['an unknown period', { params: { period: 'last_year' } }, 'params.period'],
    ['an unknown filter value', { params: { priority: ['urgent'] } }, 'params.priority.0'],
    ['an unknown filter', { params: { colour: 'red' } }, 'params'],
    ['a rule that does not exist', { params: { rule_id: 999999 } }, 'params.rule_id'],
    ['more than 10,000 points', { params: { from: '2020-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z', bucket: 'hour' } }, 'params.bucket'],
    ['an unknown format', { format: 'docx' }, 'format'],
    ['a user who does not exist', { recipients: { users: [999999] } }, 'recipients.users.0'],
    ['a role that does not exist', { recipients: { roles: ['astronauts'] } }, 'recipients.roles.0'],
    ['an address that is not one', { recipients: { emails: ['not-an-address'] } }, 'recipients.emails.0'],
    ['a scores report without a score', { kind: 'scores', params: {} }, 'params.score'],
    ['a score that does not exist', { kind: 'scores', params: { score: 'no-such-score' } }, 'params.score'],
    ['a score key that is not one', { kind: 'scores', params: { score: 'Trust Score!' } }, 'params.score'],
    ['a scores filter that selects nothing by definition', { kind: 'scores', params: { score: 'health', below: 20, above: 30 } }, 'params.above'],
    ['a top of 0', { kind: 'scores', params: { score: 'health', top: 0 } }, 'params.top'],
    ['a threshold that is not a number', { kind: 'scores', params: { score: 'health', below: '50' } }, 'params.below'],
    ['an unknown scores order', { kind: 'scores', params: { score: 'health', order: 'random' } }, 'params.order'],
    ['an alerts filter on a scores report', { kind: 'scores', params: { score: 'health', category: 'finance' } }, 'params'],
    ['an unknown kind', { kind: 'weather' }, 'kind'],
    ['a format the kind has not', { kind: 'dashboard', format: 'csv', params: { dashboard: 'system' } }, 'format'],
    ['a dashboard that does not exist', { kind: 'dashboard', params: { dashboard: 'nope' } }, 'params.dashboard'],
    ['a NUL in the name', { name: 'Weekly\u0000' }, 'name'],
    ['a lone surrogate in a category', { params: { category: 'fin\ud800' } }, 'params.category'],
    ['no name', { name: '' }, 'name'],
  ];
  it.each(cases)('%s is a 400 naming the field, and nothing is saved', async (_what, patch, field) => {
    const before = (await h.api('GET', '/v1/reports')).body.items.length;
    const r = await h.api('POST', '/v1/reports', { ...good, ...patch });
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toContain('application/problem+json');
    expect(r.body.errors.map((e: { path: string }) => e.path)).toContain(field);
    expect((await h.api('GET', '/v1/reports')).body.items.length).toBe(before);
    const [{ n }] = await h.sql`select count(*)::int as n from reports`;
    expect(n).toBe(before);
  });

  it('a bad edit is refused the same way and changes nothing', async () => {
    const r = await h.api('POST', '/v1/reports', { ...good, name: 'Edit me', schedule: { cron: '0 8 * * 1', timezone: 'Europe/Berlin' } });
    const bad = await h.api('PATCH', `/v1/reports/${r.body.id}`, { schedule: { cron: 'every monday', timezone: 'Europe/Berlin' } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toBe('schedule.cron');
    const now = (await h.api('GET', `/v1/reports/${r.body.id}`)).body;
    expect(now.schedule).toEqual({ cron: '0 8 * * 1', timezone: 'Europe/Berlin' });
    expect((await scheduleJob(r.body.id)).run_at.getTime()).toBe(Date.parse(now.next_run_at));
  });

  it('reading needs reports:read, writing reports:write (the 403 names it)', async () => {
    expect((await h.api('GET', '/v1/reports', undefined, { key: salesKey })).status).toBe(200);
    const w = await h.api('POST', '/v1/reports', good, { key: salesKey });
    expect(w.status).toBe(403);
    expect(w.body.detail).toContain('reports:write');
    expect((await h.api('POST', '/v1/report-runs/1/retry', undefined, { key: salesKey })).status).toBe(403);
    expect((await h.api('GET', '/v1/report-runs/abc/file')).status).toBe(400);
    expect((await h.api('GET', '/v1/report-runs/99999999/file')).status).toBe(404);
  });
});

describe('schedules follow the wall clock across daylight-saving changes', () => {
  it('08:00 in Berlin is 07:00 UTC before the spring change and 06:00 UTC after it', () => {
    const runs: string[] = [];
    let t = new Date('2026-03-27T12:00:00Z');
    for (let i = 0; i < 3; i++) runs.push((t = nextRunAt('0 8 * * *', 'Europe/Berlin', t)).toISOString());
    expect(runs).toEqual(['2026-03-28T07:00:00.000Z', '2026-03-29T06:00:00.000Z', '2026-03-30T06:00:00.000Z']);
    // And back in the autumn; Monday 08:00 New York across its November change.
    expect(nextRunAt('0 8 * * *', 'Europe/Berlin', new Date('2026-10-25T00:00:00Z')).toISOString()).toBe('2026-10-25T07:00:00.000Z');
    expect(nextRunAt('0 8 * * 1', 'America/New_York', new Date('2026-10-27T00:00:00Z')).toISOString()).toBe('2026-11-02T13:00:00.000Z');
  });
});

// The account managers want their accounts' health ranked every week: who is at risk, who moved. The score's
// value is the account's `health` attribute (weight 100 on health scaled 0–100) minus 10 for overdue invoices,
// so every value is known. The first values are moved ten days back in the score history (fixture time, like
// the alert timestamps above); then three accounts change inside the week.
describe('a scores report', () => {
  const HEALTH = {
    key: 'health', name: 'Account health', entity_kind: 'account', base: 0, range: [0, 100],
    factors: [
      { field: 'metadata.health', weight: 100, scale: { min: 0, max: 100 }, name: 'health' },
      { field: 'metadata.overdue_invoices', op: 'gt', value: 0, points: -10, name: 'overdue invoices' },
    ],
    thresholds: [{ below: 50, severity: 'warning', title: 'Watch' }, { below: 25, severity: 'critical', title: 'At risk' }],
  };
  const account = (id: string, name: string, metadata: Record<string, unknown>) =>
    ({ category: 'crm', type: 'account_updated', title: `${name} updated`, severity: 'info', entity: { kind: 'account', id, name }, metadata });
  const valuesNow = async () => Object.fromEntries(
    ((await h.api('GET', '/v1/scores/health/entities?order=desc&limit=50')).body.items as Array<{ id: string; value: number }>).map((x) => [x.id, x.value]));
  const waitValues = (want: Record<string, number>) => h.eventually(async () => {
    const got = await valuesNow();
    if (JSON.stringify(got) !== JSON.stringify({ ...got, ...want }) || Object.keys(got).length !== Object.keys(want).length) throw new Error(`values ${JSON.stringify(got)}`);
    return got;
  }, 30_000);
  const NAME = 'Account health — Kontogesundheit überfällig — 請求書 — Счёт — Λογαριασμοί';
  let runFileOf: (params: Record<string, unknown>, format: 'pdf' | 'csv' | 'xlsx', name?: string) => Promise<{ run: any; data: Buffer }>;

  beforeAll(async () => {
    const s = await h.api('POST', '/v1/scores', HEALTH);
    expect(s.status, JSON.stringify(s.body)).toBe(201);
    const first = [
      account('acme', 'Acme', { health: 80 }), account('bolt', 'Bolt', { health: 75 }), account('cora', 'Cora', { health: 40 }),
      account('dune', 'Dune', { health: 30 }), account('echo', 'Echo', { health: 20, overdue_invoices: 2 }),
    ];
    expect((await h.api('POST', '/v1/events/batch', { events: first })).status).toBe(202);
    await waitValues({ acme: 80, bolt: 75, cora: 40, dune: 30, echo: 10 });
    // Those values were reached ten days ago, before the week the report covers.
    const [{ id: scoreId }] = await h.sql`select id from scores where key = 'health'`;
    await h.sql`update score_history set at = now() - interval '10 days' where score_id = ${scoreId}`;
    // This week: Acme rises by 10, Bolt falls by 5, Dune by 10.
    const later = [account('acme', 'Acme', { health: 90 }), account('bolt', 'Bolt', { health: 70 }), account('dune', 'Dune', { health: 20 })];
    expect((await h.api('POST', '/v1/events/batch', { events: later })).status).toBe(202);
    await waitValues({ acme: 90, bolt: 70, cora: 40, dune: 20, echo: 10 });

    runFileOf = async (params, format, name = `Health ${format}`) => {
      const r = await h.api('POST', '/v1/reports', { name, kind: 'scores', format, params });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      const run = await h.api('POST', `/v1/reports/${r.body.id}/run`);
      expect(run.status).toBe(202);
      const done = await waitRun(run.body.run_id, 'succeeded');
      const file = await fetch(`${h.url}/v1/report-runs/${done.id}/file`, { headers: { authorization: `Bearer ${salesKey}` } });
      expect(file.status).toBe(200);
      return { run: done, data: Buffer.from(await file.arrayBuffer()) };
    };
  }, 90_000);

  it('a PDF has the hand-computed figures, the movers, the ranking and its non-Latin name intact', async () => {
    const { run, data } = await runFileOf({ score: 'health', period: 'last_7d' }, 'pdf', NAME);
    expect(run.rows).toBe(5);
    const { text, pages } = await pdfText(data);
    // By hand over 90, 70, 40, 20, 10: 5 accounts, mean 46, median 40; below 50: Cora, Dune, Echo (3 of 5);
    // below 25: Dune, Echo (2 of 5). Over the week Acme rose 80 → 90, Dune fell 30 → 20 and Bolt 75 → 70.
    expect(text).toContain(NAME);
    expect(text).toContain('Scores: Account health');
    expect(text).toContain('Score Account health (health), account entities');
    expect(text).toContain('Filters none');
    expect(text).toContain('Entities 5');
    expect(text).toContain('Mean 46');
    expect(text).toContain('median 40, min 10, max 90');
    expect(text).toContain('Below 50 (warning) 3');
    expect(text).toContain('Watch: 60 % of them');
    expect(text).toContain('Below 25 (critical) 2');
    expect(text).toContain('At risk: 40 % of them');
    expect(text).toContain('Biggest rise +10');
    expect(text).toContain('Acme (acme): 80 → 90');
    expect(text).toContain('Biggest fall −10');
    expect(text).toContain('Dune (dune): 30 → 20');
    expect(text).toContain('Distribution of values');
    expect(text).toContain('Biggest changes over the period');
    // The movers table: up first (biggest rise first), then the falls, biggest last.
    const movers = text.slice(text.indexOf('Movers over the period'));
    expect(movers).toMatch(/Acme \(acme\) 80 90 \+10 Bolt \(bolt\) 75 70 −5 Dune \(dune\) 30 20 −10/);
    expect(movers).toContain('5 of 5 entities had a value at both ends of the period.');
    // The ranking, highest first, with each value's change over the week and its top factors.
    const ranking = text.slice(text.indexOf('Ranking (highest first)'));
    expect(ranking).toMatch(/1 Acme \(acme\) 90 \+10 — health \+90 2 Bolt \(bolt\) 70 −5 — health \+70 3 Cora \(cora\) 40 0 below:50 health \+40/);
    expect(ranking).toMatch(/5 Echo \(echo\) 10 0 below:50, below:25 health \+20; overdue invoices −10/);
    expect(pages).toBeGreaterThanOrEqual(3);
  }, 60_000);

  it('a CSV is the filtered ranking, one row per account, numbers and times that parse', async () => {
    const { run, data } = await runFileOf({ score: 'health', order: 'asc', below: 50 }, 'csv');
    expect(run.filename).toMatch(/\.csv$/);
    const rows: Array<Record<string, string>> = parseCsv(data, { bom: true, columns: true });
    expect(run.rows).toBe(3);
    expect(rows.map((r) => [r.rank, r.entity_id, r.name, r.value, r.change])).toEqual([
      ['1', 'echo', 'Echo', '10', '0'], ['2', 'dune', 'Dune', '20', '-10'], ['3', 'cora', 'Cora', '40', '0'],
    ]);
    for (const r of rows) {
      expect(Number.isFinite(Number(r.value))).toBe(true);
      expect(new Date(r.scored_at).toISOString()).toBe(r.scored_at);
    }
    expect(rows[0].past_thresholds).toBe('below:50; below:25');
    expect(rows[0].top_factors).toBe('health +20; overdue invoices −10');
  }, 60_000);

  it('hostile values in any scores parameter are a 400 (or a harmless report), never a 5xx', async () => {
    const params = { score: 'health', order: 'asc', top: 10, below: 50, above: 1, crossed: true, q: 'acme', period: 'last_7d' };
    const hostile = ['"bad\\u0000value"', '"\\ud800"', '{"a":'.repeat(3000) + '1' + '}'.repeat(3000), '[[[[[[[[[[]]]]]]]]]]', '1e400', '-1e400', '1e308', '-0', '123456789012345678901234567890', 'null', '{}'];
    for (const field of Object.keys(params)) {
      for (const v of hostile) {
        const raw = JSON.stringify({ name: 'Hostile', kind: 'scores', format: 'pdf', params: { ...params, [field]: '__X__' } }).replace('"__X__"', v);
        const r = await h.api('POST', '/v1/reports', undefined, { raw });
        expect([201, 400], `${field}=${v.slice(0, 20)}: ${JSON.stringify(r.body).slice(0, 200)}`).toContain(r.status);
        if (r.status === 201) expect((await h.api('DELETE', `/v1/reports/${r.body.id}`)).status).toBe(204);
        else if (r.body.errors?.length) expect(r.body.errors[0].path, `${field}=${v.slice(0, 20)}`).toMatch(/^(params|\(root\))/);
      }
    }
  }, 60_000);

  it('an XLSX of the top two has typed cells', async () => {
    const { run, data } = await runFileOf({ score: 'health', top: 2 }, 'xlsx');
    expect(run.rows).toBe(2);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(data as unknown as ArrayBuffer);
    const ws = wb.getWorksheet('health')!;
    expect(ws.getRow(1).values).toEqual([undefined, 'rank', 'entity_id', 'name', 'value', 'change', 'scored_at', 'past_thresholds', 'top_factors']);
    expect(ws.rowCount).toBe(3);
    const acme = ws.getRow(2);
    expect(acme.getCell(1).value).toBe(1);
    expect(acme.getCell(2).value).toBe('acme');
    expect(acme.getCell(4).value).toBe(90);
    expect(acme.getCell(5).value).toBe(10);
    expect(acme.getCell(6).value).toBeInstanceOf(Date);
    expect(Math.abs((acme.getCell(6).value as Date).getTime() - Date.now())).toBeLessThan(10 * 60_000);
    const bolt = ws.getRow(3);
    expect([bolt.getCell(2).value, bolt.getCell(4).value, bolt.getCell(5).value]).toEqual(['bolt', 70, -5]);
  }, 60_000);
});

// Titles, entity names and categories come from people in many languages: every report PDF is set in embedded
// fonts (DejaVu Sans with Noto Sans JP for CJK), so the text a reader extracts is the text that was written.
describe('PDF text in any script', () => {
  it('keeps Latin accents, Cyrillic, Greek and CJK, and breaks a long table between rows with its header repeated', async () => {
    const strings = ['Rechnung überfällig — Zahlungserinnerung', 'Счёт просрочен', 'Τιμολόγιο ληξιπρόθεσμο', '請求書の支払期限', 'Façade Ærø Łódź Œuvre'];
    const rows = Array.from({ length: 150 }, (_, i) => [String(i + 1), `${strings[i % strings.length]} ${i + 1}`, String(100 - (i % 100))]);
    const render = () => renderPdf({
      name: 'Rechnung überfällig — 請求書 — Счёт — Λογαριασμός', generatedAt: new Date(), tz: 'Europe/Berlin',
      doc: {
        title: 'Scores: Kundenvertrauen', details: [['Period', 'Μάιος — май — 五月'], ['Filters', 'none']], rows: 150,
        figures: [{ label: 'Entities', value: '150', note: 'Ελληνικά, русский, 日本語' }], charts: [],
        tables: [{ title: 'Ranking', columns: [{ label: '#', align: 'right', width: 40 }, { label: 'Entity' }, { label: 'Value', align: 'right', width: 60 }], rows }],
      },
    });
    // Twice: the fonts are shared by every document in the process, and the second must read back as well as the first.
    await render();
    const data = await render();
    const { text, pages } = await pdfText(data);
    for (const s of ['Rechnung überfällig — 請求書 — Счёт — Λογαριασμός', 'Scores: Kundenvertrauen', 'Μάιος — май — 五月', 'Ελληνικά, русский, 日本語']) expect(text).toContain(s);
    for (const r of rows) expect(text).toContain(`${r[0]} ${r[1]} ${r[2]}`);
    expect(pages).toBeGreaterThanOrEqual(3);
    // Each page the table continues on has its title and header again.
    const continued = text.split('Ranking (continued) # Entity Value').length - 1;
    expect(continued).toBe(pages - 2);
    // The fonts are embedded as subsets: the PDF stays small.
    expect(data.length).toBeLessThan(200_000);
  }, 30_000);
});
