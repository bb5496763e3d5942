// What Herald does with a text someone sends to its Twilio number. The phone is outside input twice over
// (any phone can text the number; the body is free text), so:
// - only a phone that belongs to a user can act, and only as that user;
// - a reply acts only on an alert that was texted to that phone: a code is looked up among the codes
//   texted to the phone, `#1042` must have been texted to it, a bare `a` means the latest one texted to it;
// - every action goes through the same verb as every other channel (db/alerts/act.ts);
// - texts that do nothing get at most UNRECOGNISED_BUDGET answers per phone per hour;
// - Twilio retrying the same MessageSid gets the first answer again and acts once.
import type { Herald } from '../../db/herald';
import type { Actor } from '../../db/actor';
import type { Sql } from '../../db/platform/sql';
import { act } from '../../db/alerts/act';
import { HeraldError } from '../../db/errors';
import { findUsersByPhone, setSmsOptOut, type ActingUser } from '../../db/users/lookup';
import { alertForCode, alertSentTo, latestAlertSentTo, previousAnswer, recordInbound, type SentAlert } from '../../db/sms/repo';
import { parseSmsReply, type SmsAction, type SmsCommand, type SmsTarget } from './reply';
import { formatReplyConfirmation, SMS_HELP_TEXT, SMS_UNKNOWN_TEXT, SMS_LIMIT } from './format';
import { fitSms } from './gsm7';

/** Answers to texts that did nothing, per phone per hour. */
export const UNRECOGNISED_BUDGET = 3;

export const UNKNOWN_PHONE_TEXT = 'Herald: this phone number is not linked to a Herald user, so nothing was changed. Ask your Herald admin to add it to your profile.';

export interface InboundSms {
  from: string;
  body: string;
  messageSid?: string | null;
}

export type InboundOutcome =
  | 'acted' | 'conflict' | 'refused' | 'stop' | 'start' | 'help'
  | 'unknown_phone' | 'unreadable' | 'no_target' | 'duplicate';

export interface InboundResult {
  /** The text to answer with (TwiML <Message>), or null for an empty TwiML response. */
  answer: string | null;
  outcome: InboundOutcome;
  /** Set when a verb ran successfully. */
  acted?: { alertId: number; action: SmsAction; userId: number };
  /** Set when the reply named an alert texted to this phone (acted or not). */
  alertId?: number;
}

/** The alert a reply's target names, among those texted to `phone`; null when none was. */
export async function resolveSmsTarget(sql: Sql, phone: string, target: SmsTarget): Promise<SentAlert | null> {
  if ('code' in target) return alertForCode(sql, phone, target.code);
  if ('alertId' in target) return alertSentTo(sql, phone, target.alertId);
  return latestAlertSentTo(sql, phone);
}

function noTargetText(target: SmsTarget): string {
  if ('code' in target) return `Herald: no open alert with code ${target.code} was texted to this phone. Reply HELP for help.`;
  if ('alertId' in target) return `Herald: alert #${target.alertId} was not texted to this phone. Reply HELP for help.`;
  return 'Herald: no alert has been texted to this phone yet.';
}

const oneSms = (s: string) => fitSms('', s, '', SMS_LIMIT);

export async function handleInboundSms(h: Herald, msg: InboundSms, opts: { budget?: number } = {}): Promise<InboundResult> {
  const budget = opts.budget ?? UNRECOGNISED_BUDGET;
  const phone = msg.from.trim();
  const sid = msg.messageSid || null;
  if (sid) {
    const prev = await previousAnswer(h.sql, sid);
    if (prev) return { answer: prev.answer, outcome: 'duplicate' };
  }
  const cmd: SmsCommand = parseSmsReply(msg.body);
  const users = await findUsersByPhone(h.sql, phone);

  const finish = async (r: InboundResult & { orgId?: number | null; unrecognised?: boolean }): Promise<InboundResult> => {
    const answer = await recordInbound(h.sql, {
      messageSid: sid, phone, orgId: r.orgId ?? null, body: msg.body, outcome: r.outcome, alertId: r.alertId ?? null,
      answer: r.answer, unrecognised: r.unrecognised ?? false,
    }, budget);
    return { answer, outcome: r.outcome, ...(r.acted ? { acted: r.acted } : {}), ...(r.alertId ? { alertId: r.alertId } : {}) };
  };

  // Opt-out keywords are mirrored even for a phone we do not know (nothing to change then). Twilio
  // answers STOP/START itself on real numbers, so Herald's answer is empty.
  if (cmd.kind === 'stop' || cmd.kind === 'start') {
    if (users.length) await setSmsOptOut(h.sql, phone, cmd.kind === 'stop');
    return finish({ answer: null, outcome: cmd.kind });
  }
  if (!users.length) return finish({ answer: UNKNOWN_PHONE_TEXT, outcome: 'unknown_phone', unrecognised: true });
  if (cmd.kind === 'help') return finish({ answer: SMS_HELP_TEXT, outcome: 'help' });
  if (cmd.kind === 'unknown') return finish({ answer: SMS_UNKNOWN_TEXT, outcome: 'unreadable', unrecognised: true });

  const target = await resolveSmsTarget(h.sql, phone, cmd.target);
  if (!target) return finish({ answer: noTargetText(cmd.target), outcome: 'no_target', unrecognised: true });
  const user: ActingUser | undefined = users.find((u) => u.orgId === target.orgId);
  if (!user) return finish({ answer: UNKNOWN_PHONE_TEXT, outcome: 'unknown_phone', orgId: target.orgId, unrecognised: true });

  const actor: Actor = { kind: 'user', orgId: user.orgId, userId: user.id, name: user.name, roles: user.roles, permissions: user.permissions, via: 'sms' };
  try {
    const alert = await act(h, actor, target.alertId, cmd.action, cmd.minutes);
    return finish({
      answer: formatReplyConfirmation(cmd.action, alert, { minutes: cmd.minutes }), outcome: 'acted', orgId: user.orgId,
      alertId: target.alertId, acted: { alertId: target.alertId, action: cmd.action, userId: user.id },
    });
  } catch (e) {
    if (!(e instanceof HeraldError) || e.status >= 500) throw e;
    // 409 "Alert 1042 is already acknowledged by Ana", 404, 403: the person gets the reason.
    return finish({ answer: oneSms(`Herald: ${e.message}`), outcome: e.status === 409 ? 'conflict' : 'refused', orgId: user.orgId, alertId: target.alertId });
  }
}
