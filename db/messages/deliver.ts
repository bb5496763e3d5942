// Loading a message for its adapter and recording what the provider said. The message row moves
// pending -> sent -> delivered, or to failed_temp (a retry is scheduled) and finally failed; an SMS over its
// phone's rate limit waits as `held` until the bundle text that covers it is sent.
import type { Herald } from '../herald';
import type { Sql } from '../platform/sql';
import type { ChannelKind, RecipientUser } from '../model/channels';
import { toAlertView, nextStepLabel } from '../model/alert';
import { type AlertRow, type AlertView } from '../model/alert';
import { appendTimeline } from '../timeline/append';
import { SYSTEM_REF } from '../actor';
import { addJobs, job } from '../jobs/enqueue';
import { messagesSent } from '../platform/metrics';
import type { DeferredResult, MessageStatus, SendResult } from '../model/delivery';

export interface LoadedMessage {
  id: number;
  orgId: number;
  alert: AlertView;
  alertRow: AlertRow;
  level: number;
  recipient: string;
  user: RecipientUser | null;
  room: string | null;
  channel: ChannelKind;
  status: MessageStatus;
  attempt: number;
  providerRef: string | null;
  providerState: unknown;
  reason: 'triggered' | 'escalated';
  nextEscalation: { at: string; to: string } | null;
}

export async function loadMessage(h: Herald, sql: Sql, id: number): Promise<LoadedMessage | null> {
  const [m] = await sql<Record<string, any>[]>`
    select m.*, to_jsonb(a.*) as alert_json,
      case when u.id is null then null else jsonb_build_object('id', u.id, 'name', u.name, 'email', u.email, 'phone', u.phone,
        'slack_user_id', u.slack_user_id, 'discord_user_id', u.discord_user_id, 'sms_opted_out', u.sms_opted_out) end as user_json
    from messages m join alerts a on a.id = m.alert_id left join users u on u.id = m.user_id
    where m.id = ${id}`;
  if (!m) return null;
  const aj = m.alert_json;
  const alertRow: AlertRow = {
    ...aj, id: Number(aj.id), org_id: Number(aj.org_id),
    created_at: new Date(aj.created_at), updated_at: new Date(aj.updated_at),
    acknowledged_at: aj.acknowledged_at ? new Date(aj.acknowledged_at) : null, resolved_at: aj.resolved_at ? new Date(aj.resolved_at) : null,
    escalation_next_at: aj.escalation_next_at ? new Date(aj.escalation_next_at) : null, snoozed_until: aj.snoozed_until ? new Date(aj.snoozed_until) : null,
  };
  const alert = toAlertView(alertRow, h.config.publicUrl);
  const next = alert.escalation.next_at ? { at: alert.escalation.next_at, to: nextStepLabel(alertRow) ?? '' } : null;
  return {
    id: Number(m.id), orgId: Number(m.org_id), alert, alertRow, level: m.level, recipient: m.recipient,
    user: m.user_json ? { ...m.user_json, id: Number(m.user_json.id) } : null,
    room: m.recipient.startsWith('room:') ? m.recipient.slice(5) : null,
    channel: m.channel, status: m.status, attempt: m.attempts + 1, providerRef: m.provider_ref, providerState: m.provider_state,
    reason: m.level === 0 ? 'triggered' : 'escalated', nextEscalation: next,
  };
}

const MAX_SEND_ATTEMPTS = 8;
/** Backoff for temporary failures: 5 s doubling to ~10 min; a provider's Retry-After wins when longer. */
export function retryDelayMs(attempt: number, retryAfterMs?: number): number {
  const base = Math.min(5_000 * 2 ** (attempt - 1), 600_000);
  return Math.max(base, retryAfterMs ?? 0);
}

/** What a send came to: the adapter's answer, or deferred (status `held`, no retry, no timeline row yet). */
export type Outcome = SendResult | DeferredResult;

/** Records a send outcome; on a temporary failure schedules the next attempt under the message's job key. */
export async function recordSend(h: Herald, m: LoadedMessage, r: Outcome): Promise<void> {
  const who = m.user ? m.user.name : m.room;
  await h.sql.begin(async (tx) => {
    if (r.outcome === 'deferred') {
      await tx`update messages set status = 'held', attempts = attempts + 1, last_error = ${r.reason}, updated_at = now() where id = ${m.id}`;
      messagesSent.inc({ channel: m.channel, outcome: 'deferred' });
      return;
    }
    if (r.outcome === 'sent') {
      const status: MessageStatus = r.delivered ? 'delivered' : 'sent';
      // A provider callback for this very reference may have landed first (the ref is saved the moment the
      // provider accepts): a delivered or failed it recorded is newer news than "sent" and is kept.
      const ref = r.providerRef ?? null;
      await tx`update messages set
        status = case when status in ('delivered', 'failed') and provider_ref = ${ref} then status else ${status} end,
        last_error = case when status = 'failed' and provider_ref = ${ref} then last_error else null end,
        attempts = attempts + 1, provider_ref = ${ref},
        provider_state = ${(r.providerState ?? null) as never}, updated_at = now() where id = ${m.id}`;
      await appendTimeline(tx, [{ org_id: m.orgId, alert_id: m.alert.id, kind: 'delivered', actor: SYSTEM_REF,
        detail: { message_id: m.id, channel: m.channel, to: who, level: m.level, status, ...(r.detail ?? {}) } }]);
      messagesSent.inc({ channel: m.channel, outcome: 'sent' });
      return;
    }
    const final = r.outcome === 'failed_perm' || m.attempt >= MAX_SEND_ATTEMPTS;
    const failedStatus: MessageStatus = final ? 'failed' : 'failed_temp';
    await tx`update messages set status = ${failedStatus}, attempts = attempts + 1, last_error = ${r.error},
      updated_at = now() where id = ${m.id}`;
    if (final) {
      await appendTimeline(tx, [{ org_id: m.orgId, alert_id: m.alert.id, kind: 'failed', actor: SYSTEM_REF,
        detail: { message_id: m.id, channel: m.channel, to: who, level: m.level, error: r.error, attempts: m.attempt } }]);
    } else {
      const delay = retryDelayMs(m.attempt, r.outcome === 'failed_temp' ? r.retryAfterMs : undefined);
      await addJobs(tx, [job('message__send', { message_id: m.id }, { run_at: new Date(Date.now() + delay) })]);
    }
    messagesSent.inc({ channel: m.channel, outcome: final ? 'failed' : 'failed_temp' });
  });
}

/**
 * Messages held for quiet hours that should have gone out a minute ago but whose send job is gone (deleted by
 * an operator, out of attempts): the sweeper re-creates their jobs, so a held message is never stranded.
 */
export async function strandedHeldMessages(sql: Sql, limit = 1000): Promise<number[]> {
  const rows = await sql<{ id: number }[]>`
    select m.id from messages m
    where m.status = 'held_quiet' and m.held_until < now() - interval '60 seconds'
      and not exists (select 1 from graphile_worker._private_jobs j where j.key = 'message:' || m.id || ':send')
    limit ${limit}`;
  return rows.map((r) => Number(r.id));
}

/**
 * A message held for quiet hours whose alert was acknowledged or resolved before they ended is not sent:
 * it becomes `dropped` with a timeline note. Settled in the WHERE (only a still-held message moves).
 */
export async function dropHeldMessage(h: Herald, m: LoadedMessage): Promise<boolean> {
  return h.sql.begin(async (tx) => {
    const r = await tx`update messages set status = 'dropped', last_error = ${`alert ${m.alertRow.status} before quiet hours ended`}, updated_at = now()
      where id = ${m.id} and status = 'held_quiet'`;
    if (!r.count) return false;
    await appendTimeline(tx, [{ org_id: m.orgId, alert_id: m.alert.id, kind: 'dropped', actor: SYSTEM_REF,
      detail: { message_id: m.id, channel: m.channel, to: m.user ? m.user.name : m.room, level: m.level, reason: `the alert was ${m.alertRow.status} before quiet hours ended` } }]);
    return true;
  });
}

/**
 * Provider callbacks (Twilio status, etc.) move a sent message to delivered or failed. Several messages
 * can share one provider reference (SMS held for a bundle all carry the bundle text's SID): each moves and
 * gets its timeline row. A late `sent` (callbacks arrive out of order) never moves a message back.
 */
export async function recordProviderStatus(h: Herald, channel: ChannelKind, providerRef: string, status: 'sent' | 'delivered' | 'undelivered' | 'failed', error?: string): Promise<boolean> {
  return h.sql.begin(async (tx) => {
    const rows = await tx<{ id: number; org_id: number; alert_id: number; status: string; channel: string; level: number }[]>`
      update messages set status = ${status === 'undelivered' ? 'failed' : status}, last_error = ${error ?? null}, updated_at = now()
      where channel = ${channel} and provider_ref = ${providerRef} and status <> ${status === 'undelivered' ? 'failed' : status}
        and not (${status} = 'sent' and status in ('delivered', 'failed'))
      returning id, org_id, alert_id, status, channel, level`;
    if (!rows.length) return false;
    if (status !== 'sent') {
      await appendTimeline(tx, rows.map((m) => ({ org_id: Number(m.org_id), alert_id: Number(m.alert_id), kind: status === 'delivered' ? 'delivered' as const : 'failed' as const,
        actor: { kind: 'system', name: channel }, detail: { message_id: Number(m.id), channel, level: m.level, status, ...(error ? { error } : {}) } })));
    }
    return true;
  });
}
