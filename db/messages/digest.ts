// Digests: a person whose digest is on gets their low-priority notifications (other than the silent in-app
// rows) held as `held_digest`; once a period (daily, or weekly on Mondays, at their local time) one digest
// covers them all. "Find work" and "do one item" are separate jobs (digest__send {} on the crontab finds
// the people whose period closed; digest__send {user_id} closes one period; {digest_id} sends it).
//
// Invariants: a period closes once (the preferences row is locked and its next instant moved forward in
// the same transaction that marks the messages `digested` and writes the digest row); an empty period
// sends nothing; a digest is sent at most once per provider acceptance (its Message-ID is stable).
import type { Herald } from '../herald';
import type { Sql } from '../platform/sql';
import type { RecipientUser } from '../model/channels';
import type { AlertRow } from '../model/alert';
import type { DigestView } from '../model/digest';
import { toAlertView } from '../model/alert';
import { appendTimeline } from '../timeline/append';
import { SYSTEM_REF, require, type Actor } from '../actor';
import { invalid } from '../errors';
import { addJobs, job } from '../jobs/enqueue';
import { NEXT_DIGEST_SQL } from '../preferences/repo';

/** People whose digest period has closed (the crontab's sweep). */
export async function dueDigestUsers(sql: Sql, limit = 1000): Promise<number[]> {
  const rows = await sql<{ user_id: number }[]>`
    select user_id from user_preferences where digest_next_at <= now() order by digest_next_at limit ${limit}`;
  return rows.map((r) => Number(r.user_id));
}

/**
 * Closes one person's digest period: moves the next instant forward and, when messages were held, writes
 * the digest row (on the channel `digestChannel` chooses), marks them `digested` and enqueues the send.
 * Returns the digest id, or null (not due, or an empty period: nothing is sent).
 */
export async function closeDigest(h: Herald, userId: number, reaches: DigestReach): Promise<number | null> {
  return h.sql.begin(async (tx) => {
    // The due period, locked, with its next instant and the person (one statement).
    const [p] = await tx.unsafe(`
      select p.org_id, ${NEXT_DIGEST_SQL('p.digest_frequency', 'p.digest_at', 'u.timezone')} as next_at, now() as now,
        u.id, u.name, u.email, u.phone, u.slack_user_id, u.discord_user_id, u.sms_opted_out
      from user_preferences p join users u on u.id = p.user_id
      where p.user_id = $1 and p.digest_next_at <= now() + interval '1 second' for update of p`, [userId] as never[]);
    if (!p) return null;
    await tx`update user_preferences set digest_next_at = ${p.next_at}, updated_at = now() where user_id = ${userId}`;
    const held = await tx<{ id: number; alert_id: number; channel: string }[]>`
      update messages set status = 'digested', updated_at = now() where user_id = ${userId} and status = 'held_digest'
      returning id, alert_id, channel`;
    if (!held.length) return null;
    const u: RecipientUser = { id: Number(p.id), name: p.name, email: p.email, phone: p.phone, slack_user_id: p.slack_user_id, discord_user_id: p.discord_user_id, sms_opted_out: p.sms_opted_out };
    const channel = digestChannel(held.map((m) => m.channel), {
      email: h.channels.email.enabled && reaches.email(u), slack: h.channels.slack.enabled && reaches.slack(u) });
    const alertIds = [...new Set(held.map((m) => Number(m.alert_id)))].sort((a, b) => a - b);
    const [d] = await tx<{ id: number }[]>`
      insert into digests (org_id, user_id, channel, alert_ids, message_ids, period_end, status, sent_at)
      values (${p.org_id}, ${userId}, ${channel}, ${alertIds}, ${held.map((m) => Number(m.id))}, ${p.now}, ${channel === 'in_app' ? 'sent' : 'pending'},
        ${channel === 'in_app' ? p.now : null})
      returning id`;
    await appendTimeline(tx, alertIds.map((a) => ({ org_id: Number(p.org_id), alert_id: a, kind: 'digested' as const, actor: SYSTEM_REF,
      detail: { digest_id: Number(d.id), to: u.name, channel, messages: held.filter((m) => Number(m.alert_id) === a).length } })));
    if (channel !== 'in_app') await addJobs(tx, [job('digest__send', { digest_id: Number(d.id) })]);
    return Number(d.id);
  });
}

export type DigestChannel = 'email' | 'slack' | 'in_app';
export interface DigestReach { email: (u: RecipientUser) => boolean; slack: (u: RecipientUser) => boolean }

/**
 * Where a digest goes: the channel the person's held messages were meant for — email when any was an email
 * (and email reaches them), else a Slack DM when any was a Slack message (and Slack reaches them) — then
 * whichever of the two reaches them, else in-app (read in the PWA).
 */
export function digestChannel(heldChannels: string[], can: { email: boolean; slack: boolean }): DigestChannel {
  if (can.email && heldChannels.includes('email')) return 'email';
  if (can.slack && heldChannels.includes('slack')) return 'slack';
  if (can.email) return 'email';
  if (can.slack) return 'slack';
  return 'in_app';
}

/**
 * Claims a pending digest for sending (`pending` → `sending`, settled in the WHERE so two jobs cannot both
 * send it) and loads everything its message needs. Null when already claimed, sent or failed.
 */
export async function claimDigest(h: Herald, digestId: number): Promise<{ digest: DigestView; user: RecipientUser; channel: DigestChannel } | null> {
  const [d] = await h.sql<Record<string, any>[]>`
    update digests d set status = 'sending' from user_preferences p
    where d.id = ${digestId} and d.status = 'pending' and p.user_id = d.user_id
    returning d.*, p.digest_frequency`;
  if (!d) return null;
  const [u] = await h.sql<Array<RecipientUser>>`select id, name, email, phone, slack_user_id, discord_user_id, sms_opted_out from users where id = ${d.user_id}`;
  const rows = await h.sql<AlertRow[]>`select * from alerts where id = any(${d.alert_ids}::bigint[]) order by id`;
  return {
    channel: d.channel as DigestChannel,
    user: { ...u, id: Number(u.id) },
    digest: {
      id: Number(d.id), frequency: d.digest_frequency === 'weekly' ? 'weekly' : 'daily', period_end: new Date(d.period_end).toISOString(),
      alerts: rows.map((r) => toAlertView({ ...r, id: Number(r.id), org_id: Number(r.org_id) }, h.config.publicUrl)),
    },
  };
}

/** The outcome of a claimed digest's send: sent, failed for good, or back to `pending` for the job's retry. */
export async function recordDigestSend(sql: Sql, digestId: number, r: { ok: true; providerRef?: string } | { ok: false; error: string; retry?: boolean }): Promise<void> {
  if (r.ok) await sql`update digests set status = 'sent', provider_ref = ${r.providerRef ?? null}, sent_at = now(), last_error = null where id = ${digestId}`;
  else if (r.retry) await sql`update digests set status = 'pending', last_error = ${r.error} where id = ${digestId} and status = 'sending'`;
  else await sql`update digests set status = 'failed', last_error = ${r.error} where id = ${digestId}`;
}

/** `GET /v1/me/digests`: the person's digests, newest first (the in-app ones are read here). */
export async function listDigests(sql: Sql, orgId: number, userId: number) {
  const rows = await sql<Record<string, any>[]>`
    select d.id, d.channel, d.alert_ids, d.status, d.period_end, d.sent_at, coalesce(
      (select jsonb_agg(jsonb_build_object('id', a.id, 'title', a.title, 'status', a.status, 'priority', a.priority) order by a.id) from alerts a where a.id = any(d.alert_ids)), '[]') as alerts
    from digests d where d.org_id = ${orgId} and d.user_id = ${userId} order by d.id desc limit 50`;
  return rows.map((r) => ({ id: Number(r.id), channel: r.channel, status: r.status, period_end: new Date(r.period_end).toISOString(),
    sent_at: r.sent_at ? new Date(r.sent_at).toISOString() : null, alerts: r.alerts }));
}

/** `GET /v1/me/digests`: a signed-in person's own digests. */
export async function myDigestsVerb(h: Herald, actor: Actor) {
  if (actor.kind !== 'user') throw invalid('/v1/me is a person: sign in (an API key is nobody)');
  require(actor, 'alerts:read');
  return listDigests(h.sql, actor.orgId, actor.userId);
}
