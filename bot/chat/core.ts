// Chat-ops shared by Slack and Discord: who is behind a chat account, what a `/herald` command says, and
// running it through the one verb every channel uses (db/alerts/act). The outcome is channel-neutral;
// bot/slack/replies.ts and bot/discord/replies.ts render it. Keeping the decisions here is what stops the
// two chats from drifting apart (the same command, the same answer, the same refusal).
import type { Herald } from '../../db/herald';
import type { Actor } from '../../db/actor';
import { act, type AlertAction } from '../../db/alerts/act';
import { getAlert, listAlerts } from '../../db/alerts/read';
import type { AlertView } from '../../db/model/alert';
import { HeraldError } from '../../db/errors';
import { signToken, verifyToken } from '../../db/platform/crypto';
import { CHANNEL_KINDS, CHANNEL_LABELS } from '../../db/model/channels';
import { loadTargetUsers } from '../../db/messages/plan';
import { listRoles } from '../../db/users/repo';
import { listSchedulesVerb } from '../../db/schedules/verbs';
import { findUnlinkedUserByEmail, findUserByChatId, rememberChatId, type ChatIdField, type ChatUser } from '../../db/users/chat-links';
import type { ChatProvider } from '../../db/chat/interactions';
import { log } from '../../db/platform/log';
import { ACTION_PAST } from '../wording';
import { DEFAULT_ORG_ID } from '../../db/model/org';

export type { ChatProvider, ChatUser };

/**
 * One Slack app and one Discord application are configured per installation (environment variables), and
 * they serve the installation's organisation: the first one, created by the core migration.
 */
export const CHAT_ORG_ID = DEFAULT_ORG_ID;

export const CHAT_ID_FIELD: Record<ChatProvider, ChatIdField> = { slack: 'slack_user_id', discord: 'discord_user_id' };
export const PROVIDER_LABEL: Record<ChatProvider, string> = { slack: 'Slack', discord: 'Discord' };

/** A second Snooze click within this many minutes of the first is a double click. */
const DOUBLE_CLICK_MINUTES = 2;

/** Minutes a Snooze button or a `/herald snooze <id>` without minutes snoozes for. */
export const DEFAULT_SNOOZE_MINUTES = 60;
export const MAX_SNOOZE_MINUTES = 60 * 24 * 7;

export type ChatCommand =
  | { cmd: 'list' }
  | { cmd: 'act'; action: AlertAction; alertId: number; minutes?: number }
  | { cmd: 'oncall'; role: string | null }
  | { cmd: 'link' }
  | { cmd: 'help'; unknown?: string };

const VERBS: Record<string, AlertAction> = { ack: 'ack', acknowledge: 'ack', a: 'ack', resolve: 'resolve', r: 'resolve', close: 'resolve', snooze: 'snooze', s: 'snooze' };

/** "#42", "42" → 42; anything else → null. */
export function parseAlertId(s: string | undefined): number | null {
  const m = /^#?([1-9][0-9]{0,14})$/.exec((s ?? '').trim());
  return m ? Number(m[1]) : null;
}

/** "30", "30m", "2h", "1d" → minutes; null when not a duration within a week. */
export function parseMinutes(s: string | undefined): number | null {
  const m = /^([0-9]{1,5}(?:\.[0-9]+)?)\s*(m|min|mins|minutes?|h|hr|hrs|hours?|d|days?)?$/i.exec((s ?? '').trim());
  if (!m) return null;
  const unit = (m[2] ?? 'm').toLowerCase()[0];
  const minutes = Number(m[1]) * (unit === 'h' ? 60 : unit === 'd' ? 1440 : 1);
  return minutes > 0 && minutes <= MAX_SNOOZE_MINUTES ? minutes : null;
}

/**
 * The text after `/herald` (Slack sends it as one string). Empty → list. Anything not understood → help,
 * carrying the input so the answer can say what was not understood (never an error).
 */
export function parseCommandText(text: string): ChatCommand {
  const words = text.trim().split(/\s+/).filter(Boolean);
  if (!words.length) return { cmd: 'list' };
  const verb = words[0].toLowerCase();
  if (verb === 'list' || verb === 'ls' || verb === 'mine') return { cmd: 'list' };
  if (verb === 'help' || verb === '?') return { cmd: 'help' };
  if (verb === 'link') return { cmd: 'link' };
  if (verb === 'oncall' || verb === 'on-call' || verb === 'who') return { cmd: 'oncall', role: words.slice(1).join(' ') || null };
  const action = VERBS[verb];
  if (action) {
    const alertId = parseAlertId(words[1]);
    if (alertId === null || words.length > (action === 'snooze' ? 3 : 2)) return { cmd: 'help', unknown: text.trim() };
    if (action !== 'snooze') return { cmd: 'act', action, alertId };
    if (words[2] === undefined) return { cmd: 'act', action, alertId, minutes: DEFAULT_SNOOZE_MINUTES };
    const minutes = parseMinutes(words[2]);
    return minutes === null ? { cmd: 'help', unknown: text.trim() } : { cmd: 'act', action, alertId, minutes };
  }
  return { cmd: 'help', unknown: text.trim() };
}

/** The chat account behind a request, as the provider told us. */
export interface ChatPerson {
  provider: ChatProvider;
  chatId: string;
  displayName: string;
  /** Slack team / Discord guild, shown on the link confirmation. */
  space?: string;
}

export function actorFor(user: ChatUser, provider: ChatProvider): Actor {
  return { kind: 'user', orgId: Number(user.org_id), userId: Number(user.id), name: user.name, roles: user.roles, permissions: user.permissions, via: provider };
}

/**
 * The Herald user behind a chat account: the one linked to it, else (Slack) the user whose email the
 * chat profile shows, who is then linked so the next click needs no lookup. `emailOf` may fail (missing
 * users:read.email scope): then the person counts as unknown.
 */
export async function identify(h: Herald, provider: ChatProvider, chatId: string, emailOf?: () => Promise<string | null>): Promise<ChatUser | null> {
  const field = CHAT_ID_FIELD[provider];
  const linked = await findUserByChatId(h.sql, CHAT_ORG_ID, field, chatId);
  if (linked || !emailOf) return linked;
  let email: string | null = null;
  try {
    email = await emailOf();
  } catch (e) {
    log.warn(`${provider}: could not read the profile email of ${chatId}`, { error: (e as Error).message });
  }
  if (!email) return null;
  const byEmail = await findUnlinkedUserByEmail(h.sql, CHAT_ORG_ID, field, email);
  if (!byEmail) return null;
  await rememberChatId(h.sql, Number(byEmail.id), field, chatId);
  log.info(`${provider}: linked ${chatId} to user ${byEmail.id} by email`);
  return { ...byEmail, [field]: chatId };
}

// ------------------------------------------------------------------ linking by signed link

export const LINK_PURPOSE = 'chat-link';
export const LINK_TTL_MINUTES = 60;

export interface LinkClaim {
  p: ChatProvider;
  /** The chat user id to link. */
  sub: string;
  /** Display name and workspace, shown on the confirmation page so nobody links an account they do not recognise. */
  name: string;
  space?: string;
  /** Expiry, epoch seconds. */
  exp: number;
}

export function linkUrl(h: Herald, person: ChatPerson, now = Date.now()): string {
  const claim: LinkClaim = { p: person.provider, sub: person.chatId, name: person.displayName.slice(0, 100), exp: Math.floor(now / 1000) + LINK_TTL_MINUTES * 60 };
  if (person.space) claim.space = person.space.slice(0, 100);
  return `${h.config.publicUrl}/link/${person.provider}?token=${encodeURIComponent(signToken(h.key, LINK_PURPOSE, claim))}`;
}

/** The claim in a link token, or null when forged, for another provider, malformed or expired. */
export function verifyLinkToken(key: Buffer, provider: string, token: string | undefined | null, now = Date.now()): LinkClaim | null {
  if (!token || token.length > 2000) return null;
  const c = verifyToken<LinkClaim>(key, LINK_PURPOSE, token);
  if (!c || c.p !== provider || typeof c.sub !== 'string' || typeof c.exp !== 'number') return null;
  if (c.exp * 1000 < now) return null;
  if (provider === 'discord' && !/^\d{5,25}$/.test(c.sub)) return null;
  if (provider === 'slack' && !/^[UW][A-Z0-9]{2,39}$/.test(c.sub)) return null;
  return c;
}

// ------------------------------------------------------------------ running a command

export interface OncallPerson { name: string; channels: string[] }
export interface OncallRole { key: string; name: string; people: OncallPerson[] }
/** A schedule and whoever is on call in it now (an alert targeting it would reach them). */
export interface OncallSchedule { id: number; name: string; people: OncallPerson[] }

export type ChatOutcome =
  | { kind: 'help'; unknown?: string }
  | { kind: 'link'; url: string; linkedTo: string | null }
  | { kind: 'unlinked'; url: string }
  | { kind: 'list'; alerts: AlertView[] }
  | { kind: 'acted'; action: AlertAction; alert: AlertView; minutes?: number }
  | { kind: 'refused'; status: number; message: string }
  | { kind: 'oncall'; roles: OncallRole[]; schedules: OncallSchedule[]; asked: string | null; emptyRoles: number };

/** Alerts one `/herald list` fetches (the renderers show what fits and count the rest). */
const LIST_FETCH = 200;

export async function myOpenAlerts(h: Herald, actor: Actor): Promise<AlertView[]> {
  return (await listAlerts(h, actor, { status: 'open', mine: 'true', limit: String(LIST_FETCH) })).items;
}

/**
 * The one verb, with its refusals (409 already acknowledged by X, 404, 403) turned into an answer for the
 * person instead of an error: a stale button is a normal thing in a chat.
 */
export async function performAction(h: Herald, actor: Actor, alertId: number, action: AlertAction, minutes = DEFAULT_SNOOZE_MINUTES, opts: { button?: boolean } = {}): Promise<ChatOutcome> {
  try {
    // Acknowledge and resolve settle double clicks themselves (the second one is a 409). Snooze may be
    // repeated on purpose, so a second Snooze *button* click that finds the alert freshly snoozed for about
    // as long is taken for a double click and changes nothing.
    if (action === 'snooze' && opts.button) {
      const a = await getAlert(h, actor, alertId);
      const left = a.snoozed_until ? Date.parse(a.snoozed_until) - Date.now() : 0;
      if (a.status === 'acknowledged' && left > (minutes - DOUBLE_CLICK_MINUTES) * 60_000) {
        const by = a.acknowledged_by?.name ? ` by ${a.acknowledged_by.name}` : '';
        return { kind: 'refused', status: 409, message: `Alert ${alertId} is already snoozed${by} until ${a.snoozed_until!.slice(11, 16)} UTC` };
      }
    }
    const alert = await act(h, actor, alertId, action, minutes);
    return { kind: 'acted', action, alert, ...(action === 'snooze' ? { minutes } : {}) };
  } catch (e) {
    if (e instanceof HeraldError && e.status < 500) return { kind: 'refused', status: e.status, message: e.message };
    throw e;
  }
}

/**
 * Who an alert would reach now: for each schedule, whoever is on call in it; for each role, the people
 * holding it; with the channels that reach each person. `asked` picks roles and schedules by key or name.
 */
export async function oncall(h: Herald, actor: Actor, asked: string | null): Promise<ChatOutcome> {
  const [roles, schedules] = await Promise.all([listRoles(h, actor), listSchedulesVerb(h, actor)]);
  let chosen: Array<{ key: string; name: string }> = [...roles];
  let chosenSchedules = schedules.map((s) => ({ id: s.id, name: s.name }));
  if (asked) {
    const q = asked.trim().toLowerCase();
    chosen = roles.filter((r) => r.key === q || r.name.toLowerCase() === q || r.key === q.replace(/[\s-]+/g, '_'));
    chosenSchedules = chosenSchedules.filter((s) => s.name.toLowerCase() === q);
    if (!chosen.length && !chosenSchedules.length) {
      const message = schedules.length
        ? `There is no role or schedule "${asked}". Roles: ${roles.map((r) => r.key).join(', ')}; schedules: ${schedules.map((s) => s.name).join(', ')}`
        : `There is no role "${asked}". Roles: ${roles.map((r) => r.key).join(', ')}`;
      return { kind: 'refused', status: 404, message };
    }
  }
  const people = await loadTargetUsers(h.sql, actor.orgId, chosen.map((r) => r.key), [], chosenSchedules.map((s) => s.id));
  const reach = (u: (typeof people)[number]) =>
    CHANNEL_KINDS.filter((k) => h.channels[k].enabled && h.channels[k].reaches(u)).map((k) => CHANNEL_LABELS[k]);
  const out: OncallRole[] = chosen.map((r) => ({
    key: r.key,
    name: r.name,
    people: people.filter((u) => u.roles.includes(r.key)).map((u) => ({ name: u.name, channels: reach(u) })),
  }));
  // Asked for one role: show it even when nobody holds it. All roles: only those with people.
  const shown = asked ? out : out.filter((r) => r.people.length);
  const onSchedules: OncallSchedule[] = chosenSchedules.map((s) => ({
    id: s.id, name: s.name, people: people.filter((u) => u.schedules.includes(s.id)).map((u) => ({ name: u.name, channels: reach(u) })),
  }));
  return { kind: 'oncall', roles: shown, schedules: onSchedules, asked, emptyRoles: out.length - shown.length };
}

/** Runs a `/herald` command for a chat person (`user` null: not linked to Herald). */
export async function runCommand(h: Herald, person: ChatPerson, user: ChatUser | null, c: ChatCommand): Promise<ChatOutcome> {
  if (c.cmd === 'help') return { kind: 'help', unknown: c.unknown };
  if (c.cmd === 'link') return { kind: 'link', url: linkUrl(h, person), linkedTo: user?.name ?? null };
  // Everything else acts as, or shows data to, a Herald user: unknown people only get the way to link.
  if (!user) return { kind: 'unlinked', url: linkUrl(h, person) };
  const actor = actorFor(user, person.provider);
  if (c.cmd === 'list') return { kind: 'list', alerts: await myOpenAlerts(h, actor) };
  if (c.cmd === 'oncall') return oncall(h, actor, c.role);
  return performAction(h, actor, c.alertId, c.action, c.minutes);
}

export { ACTION_PAST };

/** "Snoozed for 1 h", "Snoozed for 30 min". */
export function minutesText(minutes: number): string {
  if (minutes % 1440 === 0) return `${minutes / 1440} day${minutes === 1440 ? '' : 's'}`;
  if (minutes % 60 === 0) return `${minutes / 60} h`;
  return `${Math.round(minutes * 10) / 10} min`;
}
