// SMS bookkeeping: reply codes, the texts sent to each phone (rate limit, "was it sent to this phone?"),
// messages held back for a bundle text, and inbound texts. Every read-modify-write on one phone runs under
// that phone's transaction-scoped advisory lock, so two send jobs for one phone cannot both take code 1 or
// both squeeze under the rate limit; the unique indexes on sms_codes are the backstop.
import type { Pool, Sql } from '../platform/sql';
import { saveProviderRef, saveProviderRefs } from '../messages/provider';
import { addJobs, job } from '../jobs/enqueue';

export interface SmsRate {
  /** At most this many texts to one phone... */
  max: number;
  /** ...within this many seconds; more are held and bundled into one text. */
  windowSeconds: number;
}
export const DEFAULT_SMS_RATE: SmsRate = { max: 3, windowSeconds: 60 };


async function lockPhone(tx: Sql, phone: string): Promise<void> {
  await tx`select pg_advisory_xact_lock(hashtextextended(${`herald-sms:${phone}`}, 0))`;
}

const isUniqueViolation = (e: unknown) => (e as { code?: string }).code === '23505';

/** Runs `fn` in a transaction holding the phone's lock; retried on a unique violation (a race the lock missed). */
async function withPhone<T>(sql: Pool, phone: string, fn: (tx: Sql) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await sql.begin(async (tx) => {
        await lockPhone(tx, phone);
        return fn(tx);
      }) as T;
    } catch (e) {
      if (!isUniqueViolation(e) || attempt >= 3) throw e;
    }
  }
}

async function textsInWindow(tx: Sql, phone: string, rate: SmsRate): Promise<number> {
  const [r] = await tx<{ n: number }[]>`
    select count(*)::int as n from sms_texts
    where phone = ${phone} and created_at > now() - make_interval(secs => ${rate.windowSeconds})`;
  return r.n;
}

/** When the phone may be texted again: the moment the max-th newest text in the window leaves it. */
async function nextSlotAt(tx: Sql, phone: string, rate: SmsRate): Promise<Date> {
  const [r] = await tx<{ at: Date }[]>`
    select created_at + make_interval(secs => ${rate.windowSeconds}) as at from sms_texts
    where phone = ${phone} and created_at > now() - make_interval(secs => ${rate.windowSeconds})
    order by created_at desc offset ${rate.max - 1} limit 1`;
  return r?.at ?? new Date();
}

/**
 * The reply code for this alert on this phone: the code it already holds (an escalation texting the same
 * person again keeps its code), else the smallest code not held by an open alert. Codes of resolved alerts
 * are released here first, which is what frees them.
 */
async function allocateCode(tx: Sql, orgId: number, phone: string, alertId: number): Promise<number> {
  await tx`
    update sms_codes c set released_at = now() from alerts a
    where c.phone = ${phone} and c.released_at is null and a.id = c.alert_id and a.status = 'resolved'`;
  const [live] = await tx<{ code: number }[]>`
    select code from sms_codes where phone = ${phone} and alert_id = ${alertId} and released_at is null`;
  if (live) return live.code;
  const [row] = await tx<{ code: number }[]>`
    insert into sms_codes (org_id, phone, code, alert_id)
    select ${orgId}, ${phone}, min(n), ${alertId}
    from generate_series(1, (select count(*)::int + 1 from sms_codes where phone = ${phone} and released_at is null)) n
    where not exists (select 1 from sms_codes s where s.phone = ${phone} and s.released_at is null and s.code = n)
    returning code`;
  return row.code;
}

export type AlertTextSlot =
  /** Send now, with this code; `textId` is the reservation to confirm or cancel. */
  | { kind: 'text'; textId: number; code: number }
  /** Twilio already accepted this message's text (a retry): do not send again. */
  | { kind: 'sent'; sid: string; code: number | null }
  /** Over the rate limit: held for the bundle text (whose job is queued). */
  | { kind: 'held' };

/**
 * Decides what to do with an alert text for `phone`, under the phone's lock: already sent, held for a
 * bundle (over the rate limit), or reserved with a reply code. A reservation counts against the rate limit
 * at once, so concurrent sends to one phone cannot all get through.
 */
export async function reserveAlertText(
  sql: Pool, p: { orgId: number; phone: string; messageId: number; alertId: number }, rate: SmsRate = DEFAULT_SMS_RATE,
): Promise<AlertTextSlot> {
  return withPhone(sql, p.phone, async (tx) => {
    const [done] = await tx<{ sid: string; code: number | null }[]>`
      select sid, code from sms_texts where message_id = ${p.messageId} and kind = 'alert' and sid is not null`;
    if (done) return { kind: 'sent', sid: done.sid, code: done.code };
    const [held] = await tx`select 1 from sms_held where message_id = ${p.messageId}`;
    if (held) return { kind: 'held' };
    // A reservation without a SID is a send that never finished (crash or timeout): replace it.
    await tx`delete from sms_texts where message_id = ${p.messageId} and kind = 'alert' and sid is null`;

    if ((await textsInWindow(tx, p.phone, rate)) >= rate.max) {
      await tx`insert into sms_held (message_id, org_id, phone, alert_id) values (${p.messageId}, ${p.orgId}, ${p.phone}, ${p.alertId})`;
      // One bundle job per phone; re-adding the key moves nothing (the slot time is the same for all holds).
      await addJobs(tx, [job('sms__bundle', { phone: p.phone }, { run_at: await nextSlotAt(tx, p.phone, rate) })]);
      return { kind: 'held' };
    }
    const code = await allocateCode(tx, p.orgId, p.phone, p.alertId);
    const [t] = await tx<{ id: number }[]>`
      insert into sms_texts (org_id, phone, kind, message_id, alert_ids, code)
      values (${p.orgId}, ${p.phone}, 'alert', ${p.messageId}, ${[p.alertId]}::bigint[], ${code}) returning id`;
    return { kind: 'text', textId: Number(t.id), code };
  });
}

/** Twilio accepted the text: the SID goes on the reservation, the code becomes usable, the message gets its provider_ref. */
export async function confirmAlertText(sql: Pool, textId: number, sid: string, messageId: number, providerState: unknown): Promise<void> {
  await sql.begin(async (tx) => {
    const [t] = await tx<{ phone: string; alert_ids: number[] }[]>`update sms_texts set sid = ${sid} where id = ${textId} returning phone, alert_ids`;
    if (t) await tx`update sms_codes set last_sent_at = now() where phone = ${t.phone} and alert_id = ${Number(t.alert_ids[0])} and released_at is null`;
    await saveProviderRef(tx, messageId, sid, providerState);
  });
}

/** Twilio refused the text: the reservation goes, and so does a code no text ever carried. */
export async function cancelAlertText(sql: Pool, textId: number): Promise<void> {
  const [t] = await sql<{ phone: string; alert_ids: number[] }[]>`select phone, alert_ids from sms_texts where id = ${textId}`;
  if (!t) return;
  await withPhone(sql, t.phone, async (tx) => {
    await tx`delete from sms_texts where id = ${textId} and sid is null`;
    await tx`
      delete from sms_codes c where c.phone = ${t.phone} and c.alert_id = ${Number(t.alert_ids[0])} and c.released_at is null
        and c.last_sent_at is null
        and not exists (select 1 from sms_texts x where x.phone = c.phone and x.kind = 'alert' and x.alert_ids = array[c.alert_id])`;
  });
}

export interface BundleClaim {
  textId: number;
  phone: string;
  messageIds: number[];
  alertIds: number[];
}

/**
 * Claims every message held for `phone` for one bundle text, if the rate limit allows a text now;
 * otherwise re-queues the bundle job for when it will. Null when there is nothing to send yet.
 */
export async function claimBundle(sql: Pool, phone: string, rate: SmsRate = DEFAULT_SMS_RATE): Promise<BundleClaim | null> {
  return withPhone(sql, phone, async (tx) => {
    const held = await tx<{ message_id: number; org_id: number; alert_id: number }[]>`
      select message_id, org_id, alert_id from sms_held where phone = ${phone} and text_id is null order by created_at, message_id`;
    if (!held.length) return null;
    if ((await textsInWindow(tx, phone, rate)) >= rate.max) {
      await addJobs(tx, [job('sms__bundle', { phone }, { run_at: await nextSlotAt(tx, phone, rate) })]);
      return null;
    }
    const messageIds = held.map((m) => Number(m.message_id));
    const alertIds = [...new Set(held.map((m) => Number(m.alert_id)))];
    const [t] = await tx<{ id: number }[]>`
      insert into sms_texts (org_id, phone, kind, alert_ids) values (${Number(held[0].org_id)}, ${phone}, 'bundle', ${alertIds}::bigint[]) returning id`;
    await tx`update sms_held set text_id = ${t.id} where message_id = any(${messageIds}::bigint[])`;
    return { textId: Number(t.id), phone, messageIds, alertIds };
  });
}

/** Twilio accepted the bundle: its SID goes on the text and on every message it covers (status callbacks find them). */
export async function confirmBundle(sql: Pool, claim: BundleClaim, sid: string, providerState: unknown): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`update sms_texts set sid = ${sid} where id = ${claim.textId}`;
    await saveProviderRefs(tx, claim.messageIds, sid, providerState);
  });
}

/** The bundle text failed: its messages wait again (or are finished by the caller on a permanent failure). */
export async function cancelBundle(sql: Pool, textId: number, opts: { release: boolean }): Promise<void> {
  await sql.begin(async (tx) => {
    if (opts.release) await tx`update sms_held set text_id = null where text_id = ${textId}`;
    else await tx`delete from sms_held where text_id = ${textId}`;
    await tx`delete from sms_texts where id = ${textId} and sid is null`;
  });
}

// ---- inbound: which alert a reply may act on -------------------------------------------------------

export interface SentAlert {
  orgId: number;
  alertId: number;
}

/** The open alert a code names on this phone, only if a text carrying that code was accepted by Twilio. */
export async function alertForCode(sql: Sql, phone: string, code: number): Promise<SentAlert | null> {
  const [r] = await sql<{ org_id: number; alert_id: number }[]>`
    select org_id, alert_id from sms_codes
    where phone = ${phone} and code = ${code} and released_at is null and last_sent_at is not null`;
  return r ? { orgId: Number(r.org_id), alertId: Number(r.alert_id) } : null;
}

/** The alert if it was texted to this phone (on its own or in a bundle), else null. */
export async function alertSentTo(sql: Sql, phone: string, alertId: number): Promise<SentAlert | null> {
  const [r] = await sql<{ org_id: number }[]>`
    select org_id from sms_texts where phone = ${phone} and sid is not null and ${alertId}::bigint = any(alert_ids)
    order by id desc limit 1`;
  return r ? { orgId: Number(r.org_id), alertId } : null;
}

/** The alert of the latest alert text (with a reply code) sent to this phone. */
export async function latestAlertSentTo(sql: Sql, phone: string): Promise<SentAlert | null> {
  const [r] = await sql<{ org_id: number; alert_id: number }[]>`
    select org_id, alert_ids[1] as alert_id from sms_texts where phone = ${phone} and kind = 'alert' and sid is not null
    order by id desc limit 1`;
  return r ? { orgId: Number(r.org_id), alertId: Number(r.alert_id) } : null;
}

// ---- inbound log ------------------------------------------------------------------------------------

export interface InboundRecord {
  messageSid: string | null;
  phone: string;
  orgId: number | null;
  body: string;
  outcome: string;
  alertId: number | null;
  answer: string | null;
  /** The text did nothing: its answer counts against the per-phone budget. */
  unrecognised: boolean;
}

/** The answer already given to this Twilio MessageSid (Twilio retried the webhook), if any. */
export async function previousAnswer(sql: Sql, messageSid: string): Promise<{ answer: string | null; outcome: string } | null> {
  const [r] = await sql<{ answer: string | null; outcome: string }[]>`select answer, outcome from sms_inbound where message_sid = ${messageSid}`;
  return r ?? null;
}

/**
 * Records an inbound text and returns the answer to send: an answer to an unrecognised text is dropped
 * once the phone has had `budget` such answers in the last hour (a loop with another robot, or abuse,
 * must not cost a text per message).
 */
export async function recordInbound(sql: Pool, rec: InboundRecord, budget: number): Promise<string | null> {
  return withPhone(sql, rec.phone, async (tx) => {
    let answer = rec.answer;
    if (answer !== null && rec.unrecognised) {
      const [r] = await tx<{ n: number }[]>`
        select count(*)::int as n from sms_inbound
        where phone = ${rec.phone} and unrecognised and answer is not null and created_at > now() - interval '1 hour'`;
      if (r.n >= budget) answer = null;
    }
    await tx`
      insert into sms_inbound (message_sid, phone, org_id, body, outcome, alert_id, answer, unrecognised)
      values (${rec.messageSid}, ${rec.phone}, ${rec.orgId}, ${rec.body.slice(0, 1600)}, ${rec.outcome}, ${rec.alertId}, ${answer}, ${rec.unrecognised})
      on conflict (message_sid) do nothing`;
    return answer;
  });
}
