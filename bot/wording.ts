// The words every channel uses for an alert (Slack blocks, Discord embeds, email, SMS, push): labels,
// truncation, safe links, durations, who acted, and the past tense of each action. Pure functions of an
// AlertView and "now": renderers decide markup, these decide words, so "Acknowledged by Ana 3 min ago" or
// "Escalates to Admin in 12 min" cannot drift between channels. No provider imports here.
import type { ActorRef, AlertView } from '../db/model/alert';
import type { Priority } from '../db/model/levels';

const PRIORITY_EMOJI: Record<Priority, string> = { critical: '🚨', high: '🔴', normal: '🟡', low: '🔵' };

export function priorityEmoji(p: Priority): string {
  return PRIORITY_EMOJI[p] ?? '⚪';
}

export function priorityLabel(p: Priority): string {
  return String(p).toUpperCase();
}

/** "finance" → "Finance", "shop_floor" → "Shop floor". */
export function categoryLabel(category: string): string {
  const s = category.replace(/[_-]+/g, ' ').trim();
  return truncate(s ? s.charAt(0).toUpperCase() + s.slice(1) : category, 100);
}

/** "🔴 HIGH · Finance" */
export function headline(alert: Pick<AlertView, 'priority' | 'category'>): string {
  return `${priorityEmoji(alert.priority)} ${priorityLabel(alert.priority)} · ${categoryLabel(alert.category)}`;
}

const ms = (iso: string | null | undefined): number | null => {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : null;
};

function span(minutes: number): string {
  if (minutes < 60) return `${minutes} min`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h < 48) return m && h < 6 ? `${h} h ${m} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return d === 1 ? '1 day' : `${d} days`;
}

/** "just now", "12 min ago", "3 h ago", "2 days ago". A time in the future (clock skew) is "just now". */
export function timeAgo(iso: string | null | undefined, now: Date): string {
  const t = ms(iso);
  if (t === null) return '';
  const minutes = Math.floor((now.getTime() - t) / 60_000);
  return minutes < 1 ? 'just now' : `${span(minutes)} ago`;
}

/** "in 12 min", "in 1 h 30 min"; "now" once due. Rounded up so "in 1 min" is never early. */
export function timeUntil(iso: string | null | undefined, now: Date): string {
  const t = ms(iso);
  if (t === null) return '';
  const diff = t - now.getTime();
  if (diff <= 0) return 'now';
  return `in ${span(Math.ceil(diff / 60_000))}`;
}

/** What each action is called once done ("Acknowledged #1042", "Resolved by Ana"). */
export const ACTION_PAST = { ack: 'Acknowledged', resolve: 'Resolved', snooze: 'Snoozed' } as const satisfies Record<'ack' | 'resolve' | 'snooze', string>;

/** "45 min", "1h", "1h30m": a snooze length, short enough for an SMS. */
export function shortDuration(minutes: number): string {
  if (minutes % 60 === 0) return `${minutes / 60}h`;
  if (minutes > 60) return `${Math.floor(minutes / 60)}h${minutes % 60}m`;
  return `${minutes} min`;
}

export function actorName(actor: ActorRef | null | undefined): string | null {
  const n = actor?.name?.trim();
  return n ? truncate(n, 80) : null;
}

const isSnoozed = (alert: AlertView, now: Date) => {
  const until = ms(alert.snoozed_until);
  return alert.status === 'acknowledged' && until !== null && until > now.getTime();
};

/**
 * The state and who acted: "Triggered", "Acknowledged by Ana 3 min ago", "Snoozed by Ana, back in 45 min",
 * "Resolved by Ana just now". No emoji and no markup: renderers add their own.
 */
export function stateText(alert: AlertView, now: Date): string {
  if (alert.status === 'resolved') {
    const who = actorName(alert.resolved_by);
    const when = timeAgo(alert.resolved_at, now);
    return ['Resolved', who && `by ${who}`, when].filter(Boolean).join(' ');
  }
  if (alert.status === 'acknowledged') {
    const who = actorName(alert.acknowledged_by);
    if (isSnoozed(alert, now)) {
      return `${['Snoozed', who && `by ${who}`].filter(Boolean).join(' ')}, back ${timeUntil(alert.snoozed_until, now)}`;
    }
    const when = timeAgo(alert.acknowledged_at, now);
    return ['Acknowledged', who && `by ${who}`, when].filter(Boolean).join(' ');
  }
  return 'Triggered';
}

/** "Assigned to Wes" — who is working on the alert, on every channel; null when nobody is (or it is resolved). */
export function assigneeText(alert: Pick<AlertView, 'assigned_to' | 'status'>): string | null {
  if (alert.status === 'resolved') return null;
  const who = alert.assigned_to?.name?.trim();
  return who ? `Assigned to ${truncate(who, 80)}` : null;
}

/** The emoji beside assigneeText. */
export const ASSIGNEE_EMOJI = '👤';

/** A note as a thread reply says it, before markup: who wrote it, then the text (capped at `max`). */
export function noteReply(by: string, text: string, max: number): { who: string; text: string } {
  const who = truncate(by.trim() || 'Someone', 80);
  return { who, text: truncate(text.trim(), Math.max(1, max - who.length - 10)) };
}

/** The emoji that marks a note. */
export const NOTE_EMOJI = '📝';

export function stateEmoji(alert: AlertView, now: Date): string {
  if (alert.status === 'resolved') return '✅';
  if (alert.status === 'acknowledged') return isSnoozed(alert, now) ? '💤' : '👀';
  return '🔔';
}

/**
 * "Escalates to Admin in 12 min" — only for a triggered alert with a next escalation time; null otherwise
 * (an acknowledged or resolved alert never shows a countdown, even if a stale next_at leaked through).
 */
export function escalationText(alert: AlertView, now: Date): string | null {
  if (alert.status !== 'triggered' || !alert.escalation?.next_at) return null;
  const when = timeUntil(alert.escalation.next_at, now);
  if (!when) return null;
  const to = alert.escalation.next_to?.trim() ? truncate(alert.escalation.next_to.trim(), 200) : null;
  return to ? `Escalates to ${to} ${when}` : `Escalates ${when}`;
}

/** "amount_due" → "Amount due", "customerId" → "Customer id". */
export function fieldLabel(key: string): string {
  const s = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_.-]+/g, ' ')
    .trim()
    .toLowerCase();
  return s ? s.charAt(0).toUpperCase() + s.slice(1) : key;
}

function fieldValue(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v.trim() || '—';
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  try {
    return JSON.stringify(v) ?? '—';
  } catch {
    return String(v);
  }
}

export interface KeyField {
  label: string;
  value: string;
}

/**
 * The alert's key facts as label/value pairs: the entity first ("Customer: ACME (c-17)"), then metadata in
 * its own order, at most `max`. `omitted` counts what did not fit so renderers can say "+54 more".
 */
export function keyFields(alert: AlertView, max = 6): { fields: KeyField[]; omitted: number } {
  const all: KeyField[] = [];
  if (alert.entity) {
    const { kind, id, name } = alert.entity;
    all.push({ label: fieldLabel(kind || 'entity'), value: name ? `${name} (${id})` : String(id) });
  }
  const meta = alert.metadata && typeof alert.metadata === 'object' ? alert.metadata : {};
  for (const [k, v] of Object.entries(meta)) all.push({ label: fieldLabel(k), value: fieldValue(v) });
  const n = Math.max(0, max);
  return { fields: all.slice(0, n), omitted: Math.max(0, all.length - n) };
}

/**
 * "#42 · finance/invoice_overdue · 12 min ago · ×3 · via crm". Each outside piece is capped so the line
 * stays short whatever an integration sends (it shares room with the state line).
 */
export function metaLine(alert: AlertView, now: Date): string {
  return [
    `#${alert.id}`,
    `${truncate(alert.category, 60)}/${truncate(alert.type, 60)}`,
    timeAgo(alert.created_at, now),
    alert.occurrences > 1 ? `×${alert.occurrences}` : '',
    alert.source ? `via ${truncate(alert.source, 60)}` : '',
  ]
    .filter(Boolean)
    .join(' · ');
}

/**
 * Cut `s` to at most `max` UTF-16 units, ending with "…" when cut, never splitting a surrogate pair
 * (a half emoji is rejected by some APIs and renders as garbage everywhere).
 */
export function truncate(s: string, max: number): string {
  if (max <= 0) return '';
  if (s.length <= max) return s;
  if (max === 1) return '…';
  let cut = max - 1;
  const c = s.charCodeAt(cut - 1);
  if (c >= 0xd800 && c <= 0xdbff) cut--;
  return s.slice(0, cut) + '…';
}

/** Only http(s) links are rendered as links or link buttons; anything else is dropped. */
export function safeHttpUrl(url: string | null | undefined, maxLength = 2048): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    const href = u.href;
    return href.length <= maxLength ? href : null;
  } catch {
    return null;
  }
}
