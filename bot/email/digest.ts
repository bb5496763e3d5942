// The digest email: what happened in the period, what is still open, with one-tap Acknowledge / Resolve
// links (signed per person and alert, as in alert emails) for the alerts still open. Pure: the adapter
// passes in the signed URLs. Everything from events is HTML-escaped; only http(s) URLs become links.
import type { DigestView } from '../../db/model/digest';
import type { AlertView } from '../../db/model/alert';
import { escapeHtml, safeUrl, type RenderedEmail } from './render';
import { categoryLabel, truncate } from '../wording';

export interface DigestLinks { ack: (alertId: number) => string; resolve: (alertId: number) => string }

const stateWord = (a: AlertView) => (a.status === 'triggered' ? 'still open' : a.status === 'acknowledged' ? `acknowledged${a.acknowledged_by ? ` by ${a.acknowledged_by.name}` : ''}` : 'resolved');

export function renderDigestEmail(d: DigestView, links: DigestLinks): RenderedEmail {
  const n = d.alerts.length;
  const open = d.alerts.filter((a) => a.status !== 'resolved');
  const period = d.frequency === 'weekly' ? 'weekly' : 'daily';
  const subject = `[Herald] Your ${period} digest: ${n} low-priority alert${n === 1 ? '' : 's'}${open.length ? `, ${open.length} still open` : ''}`;
  const line = (a: AlertView) => `#${a.id} ${truncate(a.title, 200)} (${categoryLabel(a.category)}, ${stateWord(a)})`;
  const text = [
    `${n} low-priority alert${n === 1 ? '' : 's'} since your last digest; ${open.length} still open.`, '',
    ...d.alerts.flatMap((a) => [
      `• ${line(a)}`, `  Open: ${a.url}`,
      ...(a.status === 'triggered' ? [`  Acknowledge: ${links.ack(a.id)}`] : []),
      ...(a.status !== 'resolved' ? [`  Resolve: ${links.resolve(a.id)}`] : []),
    ]),
    '', 'You get this digest instead of one message per low-priority alert. Change it in Herald → Settings.',
  ].join('\n');
  const link = (href: string, label: string) => {
    const u = safeUrl(href);
    return u ? `<a href="${escapeHtml(u)}" style="color:#1d4ed8">${escapeHtml(label)}</a>` : '';
  };
  const items = d.alerts.map((a) => `<li style="margin:0 0 12px">${escapeHtml(line(a))}<br>${[
    link(a.url, 'Open'),
    a.status === 'triggered' ? link(links.ack(a.id), 'Acknowledge') : '',
    a.status !== 'resolved' ? link(links.resolve(a.id), 'Resolve') : '',
  ].filter(Boolean).join(' · ')}</li>`).join('');
  const html = `<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#111827">
<h1 style="font-size:18px">Your ${period} digest</h1>
<p>${n} low-priority alert${n === 1 ? '' : 's'} since your last digest; ${open.length} still open.</p>
<ul style="padding-left:18px">${items}</ul>
<p style="color:#4b5563;font-size:13px">You get this digest instead of one message per low-priority alert. Change it in Herald → Settings.</p>
</body></html>`;
  return { subject, text, html };
}
