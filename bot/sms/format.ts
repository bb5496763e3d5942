// The texts Herald sends by SMS. Each fits one GSM-7 segment (160) when it can: see gsm7.ts for why.
import type { AlertView } from '../../db/model/alert';
import { ACTION_PAST, priorityLabel, shortDuration } from '../wording';
import { fitSms, toGsm7 } from './gsm7';
import type { SmsAction } from './reply';

export const SMS_LIMIT = 160;


/** One line, no runs of whitespace; the alert's category/type when it has no title. */
function oneLine(alert: Pick<AlertView, 'title' | 'category' | 'type'>): string {
  const t = alert.title.replace(/\s+/g, ' ').trim();
  return t || `${alert.category}/${alert.type}`;
}

/**
 * `[Herald] HIGH Invoice 1042 overdue 30d. Reply 4a ack, 4r resolve, 4s snooze 1h` in GSM-7, at most 160
 * septets: only the title is cut, never the reply instructions.
 */
export function formatAlertSms(alert: AlertView, code: number): string {
  const title = oneLine(alert).replace(/[.\s]+$/, '');
  // The sentence's full stop belongs to the title, so a cut title reads "Invoice 10... Reply", not "....".
  const sentence = /[!?]$/.test(title) ? title : `${title}.`;
  const prefix = `[Herald] ${priorityLabel(alert.priority)} `;
  const suffix = ` Reply ${code}a ack, ${code}r resolve, ${code}s snooze 1h`;
  return fitSms(prefix, sentence, suffix, SMS_LIMIT);
}

/** The one text a burst is bundled into when a phone hits its rate limit. */
export function formatBundleSms(count: number, link: string): string {
  const n = Math.max(1, Math.floor(count));
  return toGsm7(`[Herald] ${n} more ${n === 1 ? 'alert' : 'alerts'} for you: ${link}`);
}


/** `Acknowledged #1042: Invoice 1042 overdue` (snooze: `Snoozed #1042 for 1h: …`), one segment. */
export function formatReplyConfirmation(
  action: SmsAction,
  alert: Pick<AlertView, 'id' | 'title' | 'category' | 'type'>,
  opts: { minutes?: number } = {},
): string {
  const forHow = action === 'snooze' && opts.minutes ? ` for ${shortDuration(opts.minutes)}` : '';
  return fitSms(`${ACTION_PAST[action]} #${alert.id}${forHow}: `, oneLine(alert), '', SMS_LIMIT);
}

/** Answer to HELP/INFO (and to a reply that could not be read). */
export const SMS_HELP_TEXT =
  'Herald alerts: reply 4a to acknowledge alert code 4, 4r to resolve, 4s to snooze 1h (4s 30: 30 min). ' +
  'A bare a or r acts on the latest. STOP to opt out.';

/** Answer to a reply that is not a command. */
export const SMS_UNKNOWN_TEXT = "Herald didn't understand that. Reply like 4a (ack), 4r (resolve) or 4s (snooze); HELP for more.";
