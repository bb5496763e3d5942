// Who can be reached where: for each person, each channel's state (not configured for the organisation, no
// address for this person, opted out, push subscriptions and whether the last push failed). Behind
// `GET /v1/reachability/me` (the queue's "you cannot be reached" notice) and `GET /v1/reachability` (the
// Users page). Reads the people and their push subscriptions in one statement.
import type { Herald } from '../herald';
import { require, type Actor } from '../actor';
import { forbidden } from '../errors';
import { CHANNEL_KINDS, CHANNEL_LABELS, CHANNEL_MISSING, type ChannelKind, type ReachState, type RecipientUser } from '../model/channels';

export interface ChannelReach {
  channel: ChannelKind;
  state: ReachState;
  /** Plain words: "Email is not configured", "Ana has no push subscription". */
  text: string;
}

export interface PersonReach {
  user_id: number;
  name: string;
  channels: ChannelReach[];
  /** Channels that can reach the person outside the app (in-app only shows while the app is open). */
  working: ChannelKind[];
  push: { subscriptions: number; last_error: string | null; last_sent_at: string | null };
}

type Row = RecipientUser & { subs: number; last_error: string | null; last_sent_at: Date | null };

function reachOf(h: Pick<Herald, 'channels'>, u: Row): PersonReach {
  const channels = CHANNEL_KINDS.map((k): ChannelReach => {
    const label = CHANNEL_LABELS[k];
    if (!h.channels[k].enabled) return { channel: k, state: 'not_configured', text: `${label} is not configured` };
    if (k === 'push') {
      if (u.subs === 0) return { channel: k, state: 'no_address', text: `${u.name} ${CHANNEL_MISSING.push}` };
      if (u.last_error) return { channel: k, state: 'failing', text: `Push to ${u.name} failed last time: ${u.last_error}` };
      return { channel: k, state: 'ok', text: `Push on ${u.subs} device${u.subs === 1 ? '' : 's'}` };
    }
    if (k === 'sms' && u.phone && u.sms_opted_out) return { channel: k, state: 'opted_out', text: `${u.name} replied STOP to SMS` };
    if (!h.channels[k].reaches(u)) return { channel: k, state: 'no_address', text: `${u.name} ${CHANNEL_MISSING[k]}` };
    return { channel: k, state: 'ok', text: `${label} reaches ${u.name}` };
  });
  return {
    user_id: Number(u.id), name: u.name, channels,
    working: channels.filter((c) => c.state === 'ok' && c.channel !== 'in_app').map((c) => c.channel),
    push: { subscriptions: u.subs, last_error: u.last_error, last_sent_at: u.last_sent_at ? u.last_sent_at.toISOString() : null },
  };
}

async function load(h: Herald, orgId: number, userId: number | null): Promise<PersonReach[]> {
  const rows = await h.sql<Row[]>`
    select u.id, u.name, u.email, u.phone, u.slack_user_id, u.discord_user_id, u.sms_opted_out,
      count(s.id)::int as subs,
      (array_agg(s.last_error order by s.updated_at desc) filter (where s.last_error is not null))[1] as last_error,
      max(s.last_sent_at) as last_sent_at
    from users u left join push_subscriptions s on s.user_id = u.id
    where u.org_id = ${orgId} and u.deleted_at is null and (${userId}::bigint is null or u.id = ${userId})
    group by u.id order by u.id`;
  return rows.map((r) => reachOf(h, { ...r, id: Number(r.id) }));
}

/** GET /v1/reachability/me: how the signed-in person can be reached. */
export async function myReachability(h: Herald, actor: Actor): Promise<PersonReach> {
  require(actor, 'alerts:read');
  if (actor.kind !== 'user') throw forbidden('Only a person has channels; this key is not one');
  const [me] = await load(h, actor.orgId, actor.userId);
  return me;
}

/** GET /v1/reachability: everyone's channels and push status (the Users page). */
export async function everyonesReachability(h: Herald, actor: Actor): Promise<{ items: PersonReach[] }> {
  require(actor, 'users:read');
  return { items: await load(h, actor.orgId, null) };
}
