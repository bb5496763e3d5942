// Discord answers to chat-ops outcomes (bot/chat/core.ts): ephemeral replies to `/herald` and to clicks,
// and the `/herald list` message (one embed, a row of buttons per alert for the first five).
// Replies never ping anyone (`allowed_mentions: {parse: []}`), whatever names or titles contain.
import { ButtonStyle, MessageFlags, type APIActionRowComponent, type APIButtonComponent, type APIEmbed, type APIInteractionResponseCallbackData } from 'discord-api-types/v10';
import type { AlertView } from '../../db/model/alert';
import type { AlertAction } from '../../db/alerts/act';
import { ACTION_PAST, LINK_TTL_MINUTES, minutesText, type ChatOutcome } from '../chat/core';
import { escalationText, priorityEmoji, stateEmoji, stateText, truncate } from '../wording';
import { alertMessage } from './render';

export type DiscordReply = APIInteractionResponseCallbackData;

const NO_PINGS = { parse: [] as never[] };
/** Alerts whose buttons fit in one list message (Discord allows 5 action rows). */
const LIST_BUTTON_ALERTS = 5;
const LIST_LINES = 25;

/** List buttons carry their own prefix: a click re-renders the list, not a single alert. */
const listCustomId = (action: AlertAction, alertId: number) => `herald-list:${action}:${alertId}`;

export function parseListCustomId(s: unknown): { action: AlertAction; alertId: number } | null {
  if (typeof s !== 'string' || s.length > 100) return null;
  const m = /^herald-list:(ack|resolve|snooze):([1-9][0-9]{0,15})$/.exec(s);
  if (!m || !Number.isSafeInteger(Number(m[2]))) return null;
  return { action: m[1] as AlertAction, alertId: Number(m[2]) };
}

const escapeMd = (s: string) => s.replace(/([\\*_~`|>[\]()#-])/g, '\\$1').replace(/@/g, '@\u200b');

function listButtons(a: AlertView): APIActionRowComponent<APIButtonComponent> | null {
  const b = (action: AlertAction, label: string, style: ButtonStyle.Primary | ButtonStyle.Secondary | ButtonStyle.Success): APIButtonComponent =>
    ({ type: 2, custom_id: listCustomId(action, a.id), label: `${label} #${a.id}`.slice(0, 80), style });
  const buttons: APIButtonComponent[] = [];
  if (a.status === 'triggered') buttons.push(b('ack', 'Ack', ButtonStyle.Primary), b('resolve', 'Resolve', ButtonStyle.Success), b('snooze', 'Snooze 1h', ButtonStyle.Secondary));
  else if (a.status === 'acknowledged') buttons.push(b('resolve', 'Resolve', ButtonStyle.Success));
  return buttons.length ? { type: 1, components: buttons } : null;
}

/** `/herald list`: my open alerts, newest first, with buttons for the first five. */
export function listMessage(alerts: AlertView[], now = new Date()): DiscordReply {
  if (!alerts.length) return { content: 'No open alerts for you 🎉', embeds: [], components: [], flags: MessageFlags.Ephemeral, allowed_mentions: NO_PINGS };
  const lines = alerts.slice(0, LIST_LINES).map((a) => {
    const esc = escalationText(a, now);
    return truncate(`${priorityEmoji(a.priority)} **#${a.id}** ${escapeMd(a.title || '(untitled)')} · ${stateEmoji(a, now)} ${stateText(a, now)}${esc ? ` · ⏫ ${esc}` : ''}`, 150);
  });
  if (alerts.length > LIST_LINES) lines.push(`+${alerts.length - LIST_LINES} more — open Herald to see them all`);
  const embed: APIEmbed = { title: `You have ${alerts.length} open alert${alerts.length === 1 ? '' : 's'}`, description: truncate(lines.join('\n'), 4000) };
  const components = alerts.slice(0, LIST_BUTTON_ALERTS).map(listButtons).filter((r): r is APIActionRowComponent<APIButtonComponent> => r !== null);
  return { embeds: [embed], components, flags: MessageFlags.Ephemeral, allowed_mentions: NO_PINGS };
}

function helpContent(): string {
  return [
    '**Herald commands**',
    '• `/herald list` — your open alerts, with buttons',
    '• `/herald ack <id>` / `/herald resolve <id>` — acknowledge or resolve an alert by its number',
    '• `/herald snooze <id> [minutes]` — snooze an alert (default 60 min); it escalates again afterwards',
    '• `/herald oncall [role]` — who an alert for a role would reach now',
    '• `/herald link` — link your Discord account to your Herald user',
    '• `/herald help` — this help',
  ].join('\n');
}

function unlinkedContent(url: string): string {
  return `👋 Herald doesn't know your Discord account yet, so nothing was changed. [Link your Discord account to Herald](${url}) (sign in to Herald, then confirm; the link works for ${LINK_TTL_MINUTES} minutes), or ask an admin to add your Discord id to your Herald user.`;
}

/** A short ephemeral text answer that pings nobody. */
export const ephemeral = (content: string): DiscordReply => ({ content: truncate(content, 2000), flags: MessageFlags.Ephemeral, allowed_mentions: NO_PINGS });

/** An ephemeral answer to a command or a refused click. */
export function discordReply(o: ChatOutcome): DiscordReply {
  switch (o.kind) {
    case 'help':
      return ephemeral((o.unknown ? `I didn't understand \`${o.unknown.replace(/`/g, "'").slice(0, 200)}\`.\n` : '') + helpContent());
    case 'link':
      return ephemeral(`[Link my Discord account to Herald](${o.url}) — open it while signed in to Herald and confirm. It works for ${LINK_TTL_MINUTES} minutes.` +
        (o.linkedTo ? ` It is linked to **${escapeMd(o.linkedTo)}** now; opening the link as someone else moves it.` : ''));
    case 'unlinked':
      return ephemeral(unlinkedContent(o.url));
    case 'list':
      return listMessage(o.alerts);
    case 'acted': {
      const extra = o.action === 'snooze' && o.minutes ? ` for ${minutesText(o.minutes)}` : '';
      const msg = alertMessage(o.alert, []);
      return { ...msg, content: `✅ ${ACTION_PAST[o.action]} #${o.alert.id}${extra}`, flags: MessageFlags.Ephemeral, allowed_mentions: NO_PINGS };
    }
    case 'refused':
      return ephemeral(`⚠️ ${o.message}`);
    case 'oncall': {
      if (!o.roles.length && !o.schedules.length) return ephemeral('Nobody holds a role yet: an alert would reach no one. Add people in Herald (Admin → Users).');
      const lines = [`**On call now**${o.asked ? ` for ${escapeMd(o.asked)}` : ''} — who an alert for the role would reach, and where:`];
      for (const sc of o.schedules) {
        lines.push(`**${escapeMd(sc.name)}** (schedule)`);
        if (!sc.people.length) lines.push('  • nobody is on call now: an alert for it would reach no one');
        for (const p of sc.people) lines.push(`  • ${escapeMd(p.name)} — ${p.channels.length ? p.channels.join(', ') : 'no channel reaches them'}`);
      }
      for (const r of o.roles) {
        lines.push(`**${escapeMd(r.name)}** (\`${r.key}\`)`);
        if (!r.people.length) lines.push('  • nobody holds this role: an alert for it would reach no one');
        for (const p of r.people) lines.push(`  • ${escapeMd(p.name)} — ${p.channels.length ? p.channels.join(', ') : 'no channel reaches them'}`);
      }
      if (o.emptyRoles) lines.push(`_${o.emptyRoles} other role${o.emptyRoles === 1 ? ' has' : 's have'} nobody._`);
      return ephemeral(lines.join('\n'));
    }
  }
}
