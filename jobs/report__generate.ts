import type { Task } from './task';
import type { FileRecipient } from '../bot/adapter';
import { announceRun, generateRun, recipientsOf, recordDeliveries, scheduleTick, type Delivery } from '../db/reports/generate';
import { periodText } from '../db/reports/period';
import { reportTz } from '../db/reports/verbs';
import { log } from '../db/platform/log';

/**
 * Reports. `{report_id, scheduled_for}`: the schedule came due; it creates that slot's run (whose own job
 * follows) and moves itself to the next slot. `{run_id}`: renders the run, keeps the file, sends it by email
 * (attachment) and to Slack (file upload), and announces `report.succeeded` / `report.failed` to webhooks.
 * A renderer that throws fails the run (generateRun catches it); a delivery that fails is recorded on the
 * run and never fails it: the file is there to download.
 */
export const report__generate: Task<'report__generate'> = async (h, p, adapters) => {
  if ('report_id' in p) {
    await scheduleTick(h, p.report_id, p.scheduled_for);
    return;
  }
  const finished = await generateRun(h, p.run_id);
  if (!finished) return;
  const { run, report, file } = finished;
  if (file) {
    const ctx = { sql: h.sql, config: h.config, key: h.key };
    const to = await recipientsOf(h.sql, Number(report.org_id), report.recipients);
    const period = periodText({ from: run.period.from, to: run.period.to, tz: reportTz(report) });
    const out = { filename: file.filename, contentType: file.contentType, data: file.data, title: report.name,
      text: `${report.name}, ${period}: ${file.rows.toLocaleString('en-US')} rows, ${report.format.toUpperCase()}.` };
    const deliveries: Delivery[] = [];
    const send = async (channel: 'email' | 'slack', target: FileRecipient, label: string) => {
      const adapter = adapters[channel];
      if (!adapter.enabled || !adapter.sendFile) { deliveries.push({ to: label, channel, ok: false, error: `${channel} is not configured` }); return; }
      try {
        const r = await adapter.sendFile(target, out, ctx);
        deliveries.push(r.outcome === 'sent' ? { to: label, channel, ok: true } : { to: label, channel, ok: false, error: r.error });
      } catch (e) {
        deliveries.push({ to: label, channel, ok: false, error: (e as Error).message });
      }
    };
    for (const e of to.emails) await send('email', e, e.address);
    for (const c of to.slack) await send('slack', { channel: c }, c);
    if (deliveries.length) await recordDeliveries(h.sql, run.id, deliveries);
    const failed = deliveries.filter((d) => !d.ok);
    if (failed.length) log.warn('report: some deliveries failed', { run_id: run.id, failed: failed.map((d) => `${d.channel} ${d.to}: ${d.error}`) });
    run.deliveries = deliveries;
  }
  await announceRun(h, finished);
};
