// Alert emails and the pages behind their one-tap links (docs/design.md "Acting on an alert, per channel": Email).
// Pure functions: the adapter and the API route pass in the alert and the (already signed) URLs.
//
// Everything that came from an event (title, body, metadata, SOP text, names) is HTML-escaped, and only
// http(s) URLs become links: an event is outside input and must not be able to inject markup or a
// javascript: link into someone's mailbox. HTML is self-contained (inline styles, no images or remote
// CSS) so it renders the same with remote content blocked.
import type { ActorRef, AlertView } from '../../db/model/alert';
import type { Priority } from '../../db/model/levels';
import { actorName as wordsActorName, categoryLabel, safeHttpUrl, truncate } from '../wording';

export type EmailReason = 'triggered' | 'escalated';
export interface AlertEmailLinks {
  open: string;
  ack?: string;
  resolve?: string;
}
export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

// ---- templates: per priority and per category ------------------------------------------------------

interface PriorityStyle {
  label: string;
  /** Badge background; white text on it has at least 4.5:1 contrast. */
  color: string;
  /** One line under the title saying what the priority asks of the reader. */
  ask: string;
}
export const PRIORITY_STYLES: Record<Priority, PriorityStyle> = {
  critical: { label: 'CRITICAL', color: '#b91c1c', ask: 'Critical: act now.' },
  high: { label: 'HIGH', color: '#c2410c', ask: 'High priority: needs action soon.' },
  normal: { label: 'NORMAL', color: '#374151', ask: 'Needs attention.' },
  low: { label: 'LOW', color: '#4b5563', ask: 'Low priority, for your information.' },
};

/** Accent colour per category (white text on each has at least 4.5:1 contrast). */
export const CATEGORY_ACCENTS: Record<string, string> = {
  finance: '#0f766e',
  sales: '#1d4ed8',
  production: '#b45309',
  system: '#6d28d9',
  support: '#0e7490',
  hr: '#be185d',
  security: '#9f1239',
};
const FALLBACK_ACCENTS = ['#0f766e', '#1d4ed8', '#b45309', '#6d28d9', '#0e7490', '#be185d', '#4d7c0f'];

export function categoryAccent(category: string): string {
  const known = CATEGORY_ACCENTS[category];
  if (known) return known;
  let h = 0;
  for (const c of category) h = (h * 31 + c.codePointAt(0)!) >>> 0;
  return FALLBACK_ACCENTS[h % FALLBACK_ACCENTS.length];
}


const priorityStyle = (p: Priority): PriorityStyle =>
  PRIORITY_STYLES[p] ?? { label: String(p).toUpperCase(), color: '#374151', ask: 'Needs attention.' };

// ---- helpers ---------------------------------------------------------------------------------------

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c]);

/** The URL if it is http(s), else null (never a javascript:/data: link). */
export const safeUrl = (u: string | null | undefined) => safeHttpUrl(u, 8192);

const oneLine = (s: string) => s.replace(/[\s\u2028\u2029]+/g, ' ').trim();

/** "2024-05-01 14:03 UTC" (recipients' time zones are not known here). */
export function formatUtc(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

const humanKey = (k: string) => {
  const s = k.replace(/[_.-]+/g, ' ').replace(/([a-z])([A-Z])/g, '$1 $2').trim().toLowerCase();
  return s.charAt(0).toUpperCase() + s.slice(1);
};

const actorName = (a: ActorRef | null) => wordsActorName(a) ?? 'someone';

/** Label/value pairs shown under the alert: where it came from, then up to 8 metadata fields. */
export function keyFields(alert: AlertView): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  if (alert.entity) {
    const name = alert.entity.name ? `${alert.entity.name} (${alert.entity.id})` : alert.entity.id;
    rows.push([humanKey(alert.entity.kind), name]);
  }
  if (alert.source) rows.push(['Source', alert.source]);
  rows.push(['Severity', alert.severity]);
  if (alert.occurrences > 1) rows.push(['Occurrences', String(alert.occurrences)]);
  rows.push(['Created', formatUtc(alert.created_at)]);
  let n = 0;
  for (const [k, v] of Object.entries(alert.metadata ?? {})) {
    if (n >= 8) break;
    if (v === null || v === undefined) continue;
    let value: string;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') value = String(v);
    else {
      try {
        value = JSON.stringify(v) ?? '';
      } catch {
        continue;
      }
    }
    rows.push([humanKey(k), truncate(oneLine(value), 200)]);
    n++;
  }
  return rows.map(([k, v]) => [truncate(oneLine(k), 60), v]);
}

/** "Acknowledged by Ana at 2024-05-01 14:03 UTC", "Open: waiting for someone to acknowledge", … */
export function stateSentence(alert: AlertView): string {
  if (alert.status === 'resolved') return `Resolved by ${actorName(alert.resolved_by)} at ${formatUtc(alert.resolved_at)}.`;
  if (alert.status === 'acknowledged') {
    const snooze =
      alert.snoozed_until && Date.parse(alert.snoozed_until) > Date.now()
        ? ` Snoozed until ${formatUtc(alert.snoozed_until)}.`
        : '';
    return `Acknowledged by ${actorName(alert.acknowledged_by)} at ${formatUtc(alert.acknowledged_at)}.${snooze}`;
  }
  return 'Open: waiting for someone to acknowledge it.';
}

function escalationSentence(alert: AlertView): string | null {
  if (alert.status !== 'triggered' || !alert.escalation.next_at) return null;
  const to = alert.escalation.next_to ? ` to ${alert.escalation.next_to}` : '';
  return `Escalates${to} at ${formatUtc(alert.escalation.next_at)} unless someone acknowledges it.`;
}

function reasonSentence(reason: EmailReason, alert: AlertView): string {
  if (reason === 'escalated')
    return `Escalated to you (level ${alert.escalation.level}): nobody acknowledged this alert in time.`;
  return 'A new alert needs you.';
}

// ---- the email -----------------------------------------------------------------------------------

/** `[HIGH] Finance: Invoice 1042 overdue` (escalations append " (escalated)"); one line, ≤ 200 chars. */
export function alertSubject(alert: AlertView, reason: EmailReason): string {
  const title = oneLine(alert.title) || `${alert.category}/${alert.type}`;
  const tail = reason === 'escalated' ? ' (escalated)' : '';
  return truncate(`[${priorityStyle(alert.priority).label}] ${categoryLabel(alert.category)}: ${title}`, 200 - tail.length) + tail;
}

const FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";

function button(href: string, label: string, color: string): string {
  return (
    `<a href="${escapeHtml(href)}" style="display:inline-block;margin:0 8px 8px 0;padding:12px 20px;` +
    `background:${color};color:#ffffff;text-decoration:none;border-radius:6px;font-weight:600;font-size:16px">` +
    `${escapeHtml(label)}</a>`
  );
}

const paragraphs = (s: string) =>
  s
    .split(/\r?\n\s*\r?\n/)
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => `<p style="margin:0 0 12px;line-height:1.5">${escapeHtml(p).replace(/\r?\n/g, '<br>')}</p>`)
    .join('');

/**
 * The alert email: subject, a self-contained HTML body and the same content as plain text. Links are
 * used as given (signed elsewhere); non-http(s) ones are left out.
 */
export function renderAlertEmail(alert: AlertView, links: AlertEmailLinks, reason: EmailReason): RenderedEmail {
  const subject = alertSubject(alert, reason);
  const pr = priorityStyle(alert.priority);
  const accent = categoryAccent(alert.category);
  const cat = categoryLabel(alert.category);
  const title = oneLine(alert.title) || `${alert.category}/${alert.type}`;
  const body = alert.body ? truncate(alert.body.trim(), 4000) : '';
  const open = safeUrl(links.open) ?? safeUrl(alert.url);
  const ack = alert.status === 'triggered' ? safeUrl(links.ack) : null;
  const resolve = alert.status !== 'resolved' ? safeUrl(links.resolve) : null;
  const fields = keyFields(alert);
  const escalation = escalationSentence(alert);
  const state = alert.status === 'triggered' ? null : stateSentence(alert);
  const sop = alert.sop;
  const sopUrl = safeUrl(sop?.url);
  const reasonText = reasonSentence(reason, alert);

  // ---- text
  const t: string[] = [];
  t.push(`[${pr.label}] ${cat} - alert #${alert.id}`, '', title, '', `${reasonText} ${pr.ask}`);
  if (state) t.push(state);
  if (escalation) t.push(escalation);
  if (body) t.push('', body);
  t.push('', 'Details');
  for (const [k, v] of fields) t.push(`- ${k}: ${v}`);
  if (sop) {
    t.push('', `What to do: ${oneLine(sop.title)}`);
    sop.steps.forEach((s, i) => t.push(`${i + 1}. ${oneLine(s)}`));
    if (sopUrl) t.push(`Full procedure: ${sopUrl}`);
  }
  t.push('');
  if (ack) t.push(`Acknowledge: ${ack}`);
  if (resolve) t.push(`Resolve: ${resolve}`);
  if (open) t.push(`Open in Herald: ${open}`);
  t.push('', '-- ', `Herald alert #${alert.id}. The Acknowledge and Resolve links ask you to confirm before acting.`);
  const text = t.join('\n') + '\n';

  // ---- html
  const h: string[] = [];
  h.push(
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width,initial-scale=1">',
    '<meta name="color-scheme" content="light">',
    `<title>${escapeHtml(subject)}</title></head>`,
    `<body style="margin:0;padding:0;background:#f3f4f6;color:#111827;font-family:${FONT}">`,
    // Preheader: the inbox preview line; hidden from sight and from screen readers (it repeats the body).
    `<div style="display:none;max-height:0;overflow:hidden;opacity:0" aria-hidden="true">${escapeHtml(truncate(`${reasonText} ${escalation ?? ''}`.trim(), 140))}</div>`,
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f3f4f6"><tr><td align="center" style="padding:24px 12px">',
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:600px;background:#ffffff;border-radius:8px;overflow:hidden">',
    `<tr><td style="height:6px;background:${accent};font-size:0;line-height:0">&nbsp;</td></tr>`,
    '<tr><td style="padding:24px">',
    '<main>',
    `<p style="margin:0 0 12px">` +
      `<span style="display:inline-block;padding:3px 8px;border-radius:4px;background:${pr.color};color:#ffffff;font-weight:700;font-size:13px;letter-spacing:0.03em">${escapeHtml(pr.label)}</span> ` +
      `<span style="display:inline-block;padding:3px 8px;border-radius:4px;background:${accent};color:#ffffff;font-weight:600;font-size:13px">${escapeHtml(cat)}</span> ` +
      `<span style="color:#4b5563;font-size:13px">Alert #${alert.id}</span></p>`,
    `<h1 style="margin:0 0 8px;font-size:22px;line-height:1.3;color:#111827">${escapeHtml(title)}</h1>`,
    `<p style="margin:0 0 16px;color:#374151;line-height:1.5">${escapeHtml(reasonText)} <strong>${escapeHtml(pr.ask)}</strong></p>`,
  );
  if (state) h.push(`<p style="margin:0 0 16px;padding:8px 12px;background:#ecfdf5;color:#065f46;border-radius:6px"><strong>${escapeHtml(state)}</strong></p>`);
  if (escalation) h.push(`<p style="margin:0 0 16px;padding:8px 12px;background:#fff7ed;color:#9a3412;border-radius:6px">${escapeHtml(escalation)}</p>`);
  if (ack || resolve || open) {
    h.push('<p style="margin:0 0 16px">');
    if (ack) h.push(button(ack, 'Acknowledge', '#1d4ed8'));
    if (resolve) h.push(button(resolve, 'Resolve', '#047857'));
    if (open) h.push(button(open, 'Open in Herald', '#374151'));
    h.push('</p>');
  }
  if (body) h.push(`<div style="margin:0 0 16px;color:#111827">${paragraphs(body)}</div>`);
  h.push(
    `<h2 style="margin:16px 0 8px;font-size:16px;color:#111827">Details</h2>`,
    '<table style="border-collapse:collapse;width:100%;font-size:14px">',
    '<caption style="position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)">Alert details</caption>',
  );
  for (const [k, v] of fields)
    h.push(
      `<tr><th scope="row" style="text-align:left;vertical-align:top;padding:6px 12px 6px 0;color:#4b5563;font-weight:600;white-space:nowrap;border-top:1px solid #e5e7eb">${escapeHtml(k)}</th>` +
        `<td style="padding:6px 0;border-top:1px solid #e5e7eb;word-break:break-word">${escapeHtml(v)}</td></tr>`,
    );
  h.push('</table>');
  if (sop) {
    h.push(
      `<section style="margin:20px 0 0;padding:12px 16px;border-left:4px solid ${accent};background:#f9fafb">`,
      `<h2 style="margin:0 0 8px;font-size:16px;color:#111827">What to do: ${escapeHtml(oneLine(sop.title))}</h2>`,
    );
    if (sop.steps.length) {
      h.push('<ol style="margin:0 0 8px;padding-left:20px;line-height:1.5">');
      for (const s of sop.steps) h.push(`<li>${escapeHtml(oneLine(s))}</li>`);
      h.push('</ol>');
    }
    if (sopUrl) h.push(`<p style="margin:0"><a href="${escapeHtml(sopUrl)}" style="color:#1d4ed8">Full procedure</a></p>`);
    h.push('</section>');
  }
  h.push(
    '</main>',
    '</td></tr>',
    `<tr><td style="padding:16px 24px;background:#f9fafb;color:#4b5563;font-size:12px;line-height:1.5">` +
      `Herald alert #${alert.id}. The Acknowledge and Resolve buttons ask you to confirm before acting.</td></tr>`,
    '</table></td></tr></table>',
    '</body></html>',
  );
  return { subject, html: h.join('\n'), text };
}

// ---- the pages behind the one-tap links ----------------------------------------------------------

export type LinkAction = 'ack' | 'resolve';
const ACTION_LABEL: Record<LinkAction, string> = { ack: 'Acknowledge', resolve: 'Resolve' };

function page(title: string, main: string): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width,initial-scale=1">',
    // The URL carries a signed token: keep it out of Referer headers and search indexes.
    '<meta name="referrer" content="no-referrer">',
    '<meta name="robots" content="noindex,nofollow">',
    `<title>${escapeHtml(title)}</title>`,
    '<style>',
    `body{margin:0;background:#f3f4f6;color:#111827;font-family:${FONT};line-height:1.5}`,
    'main{max-width:480px;margin:32px auto;padding:24px;background:#fff;border-radius:8px}',
    'h1{font-size:22px;margin:0 0 12px}',
    '.badge{display:inline-block;padding:2px 8px;border-radius:4px;color:#fff;font-weight:700;font-size:13px}',
    '.state{padding:8px 12px;border-radius:6px;background:#f9fafb}',
    'button{font:inherit;font-size:18px;font-weight:600;padding:12px 24px;border:0;border-radius:6px;background:#1d4ed8;color:#fff;cursor:pointer;min-width:44px;min-height:44px}',
    'a{color:#1d4ed8}',
    'button:focus-visible,a:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}',
    '</style></head>',
    `<body><main>${main}</main></body></html>`,
  ].join('\n');
}

function summary(alert: AlertView): string {
  const pr = priorityStyle(alert.priority);
  return (
    `<p><span class="badge" style="background:${pr.color}">${escapeHtml(pr.label)}</span> ` +
    `<span class="badge" style="background:${categoryAccent(alert.category)}">${escapeHtml(categoryLabel(alert.category))}</span> ` +
    `Alert #${alert.id}</p>` +
    `<p><strong>${escapeHtml(oneLine(alert.title) || `${alert.category}/${alert.type}`)}</strong></p>`
  );
}

const openLink = (alert: AlertView, url?: string) => {
  const href = safeUrl(url ?? alert.url);
  return href ? `<p><a href="${escapeHtml(href)}">Open alert #${alert.id} in Herald</a></p>` : '';
};

/**
 * The page a one-tap link opens: it changes nothing (mail scanners follow GET links), and asks for one
 * tap on a button that POSTs the form back to the same URL (`postUrl`, or the page's own URL when absent).
 * `fields` become hidden inputs (e.g. a CSRF token).
 */
export function renderConfirmPage(opts: {
  alert: AlertView;
  action: LinkAction;
  postUrl?: string;
  fields?: Record<string, string>;
  openUrl?: string;
}): string {
  const { alert, action } = opts;
  const label = ACTION_LABEL[action];
  const relative = opts.postUrl && /^\/(?![/\\])/.test(opts.postUrl) ? opts.postUrl : null;
  const target = safeUrl(opts.postUrl) ?? relative;
  const hidden = Object.entries(opts.fields ?? {})
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('');
  return page(
    `${label} alert #${alert.id}?`,
    `<h1>${escapeHtml(label)} alert #${alert.id}?</h1>` +
      summary(alert) +
      `<p class="state">${escapeHtml(stateSentence(alert))}</p>` +
      `<form method="post"${target ? ` action="${escapeHtml(target)}"` : ''}>${hidden}` +
      `<button type="submit">${escapeHtml(label)}</button></form>` +
      openLink(alert, opts.openUrl),
  );
}

/**
 * The page for a link that can no longer act (used, expired, or the alert moved on) and after a
 * successful POST: the alert's current state, with an optional notice ("This link has expired.").
 */
export function renderStatePage(alert: AlertView, opts: { notice?: string; openUrl?: string } = {}): string {
  const state = stateSentence(alert);
  const heading = opts.notice ?? `Alert #${alert.id} is ${alert.status === 'triggered' ? 'open' : alert.status}`;
  return page(
    `${heading} - Herald`,
    `<h1>${escapeHtml(heading)}</h1>` +
      summary(alert) +
      `<p class="state" role="status">${escapeHtml(state)}</p>` +
      openLink(alert, opts.openUrl),
  );
}
