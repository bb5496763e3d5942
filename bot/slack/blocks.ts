// Block Kit rendering of an alert for Slack: the message posted to a DM or channel, re-rendered and sent
// with chat.update on every state change, plus the `/herald list` and `/herald help` answers.
//
// Invariants:
// - Every text that came from outside (title, body, metadata, actor names) is escaped for mrkdwn (&, <, >):
//   without it an event body containing "<!channel>" would ping a whole channel, and "<https://evil|Pay>"
//   would render as a trusted-looking link.
// - Every Slack limit is respected here, not at the API: Slack answers `invalid_blocks` for the whole
//   message, so one oversized metadata value would otherwise cost the alert its notification.
// - Buttons carry only the alert id; the action is the action_id. The receiver re-checks state, so a stale
//   button on an old message is harmless.
import type { types as slackTypes } from '@slack/bolt';
import type { AlertView } from '../../db/model/alert';
import type { DigestView } from '../../db/model/digest';
import {
  ASSIGNEE_EMOJI,
  assigneeText,
  escalationText,
  headline,
  keyFields,
  metaLine,
  NOTE_EMOJI,
  noteReply,
  priorityEmoji,
  safeHttpUrl,
  stateEmoji,
  stateText,
  truncate,
} from '../wording';

export type KnownBlock = slackTypes.KnownBlock;
type Button = slackTypes.Button;
type SectionBlock = slackTypes.SectionBlock;

/** Slack's documented limits (https://docs.slack.dev/reference/block-kit/blocks). */
export const SLACK_LIMITS = {
  blocks: 50,
  headerText: 150,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  contextElements: 10,
  contextText: 3000,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  buttonUrl: 3000,
  blockId: 255,
  /** Not a hard limit (Slack truncates at 40,000) — kept short because it is the notification preview. */
  fallbackText: 1000,
} as const;

export const ACTION_IDS = {
  ack: 'herald_ack',
  resolve: 'herald_resolve',
  snooze: 'herald_snooze',
  open: 'herald_open',
} as const;

/** Minutes a Snooze button snoozes for. */
export const SNOOZE_BUTTON_MINUTES = 60;

/** Escape the three characters Slack mrkdwn treats as control characters. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Truncate already-escaped mrkdwn to `max` without leaving half an entity ("&am") or half a link ("<http")
 * behind: Slack would show the former as garbage and reject or mangle the latter.
 */
export function truncateMrkdwn(s: string, max: number): string {
  if (s.length <= max) return s;
  const out = truncate(s, max);
  if (!out.endsWith('…')) return out;
  let body = out.slice(0, -1);
  const amp = body.lastIndexOf('&');
  if (amp !== -1 && body.indexOf(';', amp) === -1 && body.length - amp <= 5) body = body.slice(0, amp);
  const lt = body.lastIndexOf('<');
  if (lt !== -1 && body.indexOf('>', lt) === -1) body = body.slice(0, lt);
  return body + '…';
}

/** Escape then truncate: the common case for outside text. */
const esc = (s: string, max: number) => truncateMrkdwn(escapeMrkdwn(s), max);

const plain = (text: string, max: number) => ({ type: 'plain_text' as const, text: truncate(text, max) || ' ', emoji: true });
const mrkdwn = (text: string) => ({ type: 'mrkdwn' as const, text: text || ' ' });

function button(alert: AlertView, action: 'ack' | 'resolve' | 'snooze', label: string, primary: boolean): Button {
  const b: Button = {
    type: 'button',
    action_id: ACTION_IDS[action],
    text: plain(label, SLACK_LIMITS.buttonText),
    value: String(alert.id),
  };
  if (primary) b.style = 'primary';
  return b;
}

/** The buttons an alert in this state offers: triggered → Ack, Resolve, Snooze 1h, Open; acknowledged → Resolve, Open; resolved → Open. */
export function alertButtons(alert: AlertView): Button[] {
  const out: Button[] = [];
  if (alert.status === 'triggered') {
    out.push(button(alert, 'ack', 'Acknowledge', true));
    out.push(button(alert, 'resolve', 'Resolve', false));
    out.push(button(alert, 'snooze', 'Snooze 1h', false));
  } else if (alert.status === 'acknowledged') {
    out.push(button(alert, 'resolve', 'Resolve', true));
  }
  const url = safeHttpUrl(alert.url, SLACK_LIMITS.buttonUrl);
  // A URL button still sends a block_actions payload; the receiver only acknowledges it.
  if (url) out.push({ type: 'button', action_id: ACTION_IDS.open, text: plain('Open', SLACK_LIMITS.buttonText), url, value: String(alert.id) });
  return out;
}

/** "🔴 HIGH · Finance: Invoice 1042 overdue — Acknowledged by Ana": the notification preview / fallback. */
function fallbackText(alert: AlertView, now: Date): string {
  const state = alert.status === 'triggered' ? '' : ` — ${stateText(alert, now)}`;
  return esc(`${headline(alert)}: ${alert.title}${state}`, SLACK_LIMITS.fallbackText);
}

function sopSection(alert: AlertView): SectionBlock | null {
  const sop = alert.sop;
  if (!sop || (!sop.title && !sop.steps?.length && !sop.url)) return null;
  const lines = [`*📋 ${esc(sop.title || 'Procedure', 300)}*`];
  (sop.steps ?? []).forEach((step, i) => lines.push(`${i + 1}. ${esc(String(step), 1000)}`));
  const url = safeHttpUrl(sop.url, 2000);
  // `|` would end the link target early; percent-encode it (URL.href already encodes < > and spaces).
  const link = url ? `<${url.replace(/\|/g, '%7C')}|Open the procedure>` : null;
  const budget = SLACK_LIMITS.sectionText - (link ? link.length + 1 : 0);
  // Keep whole lines while they fit, then say how many steps were left out: a cut step is worse than none.
  let text = '';
  let shown = 0;
  for (const line of lines) {
    const next = text ? `${text}\n${line}` : line;
    if (next.length > budget - 40) break;
    text = next;
    shown++;
  }
  if (shown < lines.length) text += `\n…and ${lines.length - shown} more step${lines.length - shown === 1 ? '' : 's'}`;
  if (link) text += `\n${link}`;
  return { type: 'section', block_id: `herald_sop_${alert.id}`, text: mrkdwn(truncateMrkdwn(text, SLACK_LIMITS.sectionText)) };
}

/**
 * The full alert message: header, title + body, up to 6 key fields, the SOP, a context line (id, type, age,
 * state and who acted, escalation countdown) and the buttons for its state. Within every Slack limit.
 */
export function alertBlocks(alert: AlertView, opts: { now?: Date } = {}): { text: string; blocks: KnownBlock[] } {
  const now = opts.now ?? new Date();
  const blocks: KnownBlock[] = [];

  blocks.push({ type: 'header', block_id: `herald_head_${alert.id}`, text: plain(headline(alert), SLACK_LIMITS.headerText) });

  const title = `*${esc(alert.title || '(untitled)', 500)}*`;
  const body = alert.body?.trim() ? esc(alert.body.trim(), SLACK_LIMITS.sectionText - title.length - 1) : '';
  blocks.push({ type: 'section', block_id: `herald_body_${alert.id}`, text: mrkdwn(body ? `${title}\n${body}` : title) });

  const { fields, omitted } = keyFields(alert, 6);
  if (fields.length) {
    blocks.push({
      type: 'section',
      block_id: `herald_fields_${alert.id}`,
      fields: fields.map((f) => {
        const label = `*${esc(f.label, 100)}*\n`;
        return mrkdwn(label + esc(f.value, SLACK_LIMITS.fieldText - label.length));
      }),
    });
  }

  const sop = sopSection(alert);
  if (sop) blocks.push(sop);

  // One element per fact, each within its own limit: outside text in one can never crowd out the state.
  const context = [escapeMrkdwn(metaLine(alert, now))];
  if (omitted) context.push(`+${omitted} more field${omitted === 1 ? '' : 's'} in Herald`);
  context.push(`${stateEmoji(alert, now)} ${escapeMrkdwn(stateText(alert, now))}`);
  const assignee = assigneeText(alert);
  if (assignee) context.push(`${ASSIGNEE_EMOJI} ${escapeMrkdwn(assignee)}`);
  const escalation = escalationText(alert, now);
  if (escalation) context.push(`⏫ ${escapeMrkdwn(escalation)}`);
  blocks.push({
    type: 'context',
    block_id: `herald_context_${alert.id}`,
    elements: context.map((t) => mrkdwn(truncateMrkdwn(t, SLACK_LIMITS.contextText))),
  });

  const buttons = alertButtons(alert);
  if (buttons.length) blocks.push({ type: 'actions', block_id: `herald_actions_${alert.id}`, elements: buttons });

  return { text: fallbackText(alert, now), blocks };
}

/** A note as a Slack thread reply: "📝 *Ana*: text", escaped like every outside text, within the fallback-text limit. */
export function noteText(by: string, text: string): string {
  const n = noteReply(by, text, 4000);
  return `${NOTE_EMOJI} *${escapeMrkdwn(n.who)}*: ${truncateMrkdwn(escapeMrkdwn(n.text), 4000)}`;
}

/** Alerts shown in one `/herald list` answer: 1 title block + 2 per alert + 1 "more" line ≤ 50 blocks. */
export const LIST_MAX_ALERTS = Math.floor((SLACK_LIMITS.blocks - 2) / 2);

/**
 * The `/herald list` ephemeral answer: each alert as one compact section (priority, id, title, category,
 * age, state, countdown) followed by its buttons. At most LIST_MAX_ALERTS alerts; the rest are counted.
 */
export function alertListBlocks(alerts: AlertView[], opts: { now?: Date } = {}): { text: string; blocks: KnownBlock[] } {
  const now = opts.now ?? new Date();
  if (!alerts.length) {
    const text = 'No open alerts for you 🎉';
    return { text, blocks: [{ type: 'section', block_id: 'herald_list_empty', text: mrkdwn(text) }] };
  }
  const n = alerts.length;
  const text = `You have ${n} open alert${n === 1 ? '' : 's'}`;
  const blocks: KnownBlock[] = [{ type: 'section', block_id: 'herald_list_title', text: mrkdwn(`*${text}*`) }];
  blocks.push(...alertRows(alerts, now));
  return { text, blocks };
}

/**
 * Alerts as compact rows (priority, id, title, category, age, state, countdown), each followed by its
 * buttons: at most `max` alerts (two blocks each), the rest counted in a last line.
 */
function alertRows(alerts: AlertView[], now: Date, max = LIST_MAX_ALERTS): KnownBlock[] {
  const blocks: KnownBlock[] = [];
  const shown = alerts.slice(0, max);
  const seen = new Set<number>();
  for (const a of shown) {
    // block_id must be unique in a message; a duplicated alert in the input is shown once.
    if (seen.has(a.id)) continue;
    seen.add(a.id);
    const escalation = escalationText(a, now);
    const details = [
      escapeMrkdwn(metaLine(a, now)),
      `${stateEmoji(a, now)} ${escapeMrkdwn(stateText(a, now))}`,
      escalation ? `⏫ ${escapeMrkdwn(escalation)}` : '',
    ]
      .filter(Boolean)
      .join(' · ');
    const line = `${priorityEmoji(a.priority)} *${esc(a.title || '(untitled)', 300)}*\n${details}`;
    blocks.push({ type: 'section', block_id: `herald_list_${a.id}`, text: mrkdwn(truncateMrkdwn(line, SLACK_LIMITS.sectionText)) });
    const buttons = alertButtons(a);
    if (buttons.length) blocks.push({ type: 'actions', block_id: `herald_list_actions_${a.id}`, elements: buttons });
  }
  if (alerts.length > shown.length) {
    blocks.push({ type: 'context', block_id: 'herald_list_more', elements: [mrkdwn(`+${alerts.length - shown.length} more not shown — open Herald to see them all`)] });
  }
  return blocks;
}

/**
 * A digest as a Slack DM: what happened in the period and what is still open, each open alert with its
 * buttons (the same action ids as an alert message, so a click acts like any other).
 */
export function digestBlocks(d: DigestView, opts: { now?: Date } = {}): { text: string; blocks: KnownBlock[] } {
  const now = opts.now ?? new Date();
  const n = d.alerts.length;
  const open = d.alerts.filter((a) => a.status !== 'resolved').length;
  const period = d.frequency === 'weekly' ? 'weekly' : 'daily';
  const text = `Your ${period} digest: ${n} low-priority alert${n === 1 ? '' : 's'}${open ? `, ${open} still open` : ''}`;
  return {
    text,
    blocks: [
      { type: 'section', block_id: 'herald_digest_title', text: mrkdwn(`*${escapeMrkdwn(text)}*`) },
      // Title and footer take two blocks: one alert fewer than a list answer keeps the DM within 50.
      ...alertRows(d.alerts, now, LIST_MAX_ALERTS - 1),
      { type: 'context', block_id: 'herald_digest_footer', elements: [mrkdwn('You get this digest instead of one message per low-priority alert. Change it in Herald → Settings.')] },
    ],
  };
}

/** The `/herald help` answer, Slack mrkdwn (the angle brackets are escaped so Slack shows them). */
export function helpText(): string {
  const cmd = (s: string) => `\`/herald ${escapeMrkdwn(s)}\``;
  return [
    '*Herald commands*',
    `• ${cmd('list')} — your open alerts, with buttons`,
    `• ${cmd('ack|resolve <id>')} — acknowledge or resolve an alert by its number`,
    `• ${cmd('snooze <id> [minutes]')} — snooze an alert (default ${SNOOZE_BUTTON_MINUTES} min); it escalates again afterwards`,
    `• ${cmd('oncall [role]')} — who is on call, for every role or one`,
    `• ${cmd('link')} — link your Slack account to your Herald user`,
    `• ${cmd('help')} — this help`,
  ].join('\n');
}
