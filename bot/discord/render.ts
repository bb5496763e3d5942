// Discord rendering of an alert: one embed plus a row of buttons, posted with
// POST /channels/:id/messages and re-rendered for PATCH on every state change; the `/herald` command
// definition; and the parser for the custom_id our buttons carry.
//
// Invariants:
// - `components` is always present (possibly empty): an edit without it would leave stale Acknowledge
//   buttons on a resolved alert.
// - `allowed_mentions` is always present and lists only the users we mean to ping: without it a title
//   containing "@everyone" pasted into content could ping a whole server.
// - Every Discord limit is respected here (embed 6000 total, title 256, description 4096, field 256/1024,
//   footer 2048, content 2000, custom_id 100) — the builders throw on violations, and a throw must never
//   cost an alert its notification.
import { ActionRowBuilder, ButtonBuilder, EmbedBuilder, SlashCommandBuilder } from '@discordjs/builders';
import {
  ButtonStyle,
  type RESTPostAPIChannelMessageJSONBody,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord-api-types/v10';
import type { AlertView } from '../../db/model/alert';
import type { Severity } from '../../db/model/levels';
import {
  ASSIGNEE_EMOJI,
  assigneeText,
  escalationText,
  NOTE_EMOJI,
  noteReply,
  headline,
  keyFields,
  metaLine,
  safeHttpUrl,
  stateEmoji,
  stateText,
  truncate,
} from '../wording';

export const DISCORD_LIMITS = {
  content: 2000,
  embedTotal: 6000,
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
  author: 256,
  customId: 100,
  buttonLabel: 80,
  url: 512,
  allowedMentionUsers: 100,
} as const;

// Our own budget inside the 6000-character embed: author 120 + title 256 + footer 700 + 6 facts × 400 +
// SOP 1124 ≈ 4600, so the description always keeps at least ~1400 characters for the body.
const AUTHOR_MAX = 120;
const FOOTER_MAX = 700;
const FACT_NAME_MAX = 100;
const FACT_VALUE_MAX = 300;

export const SEVERITY_COLOURS: Record<Severity, number> = {
  info: 0x3498db,
  warning: 0xf1c40f,
  error: 0xe67e22,
  critical: 0xe74c3c,
};
/** A resolved alert turns green whatever its severity, so a channel shows at a glance what is done. */
export const RESOLVED_COLOUR = 0x2ecc71;

export type DiscordAction = 'ack' | 'resolve' | 'snooze';

export const customId = (action: DiscordAction, alertId: number) => `herald:${action}:${alertId}`;

/**
 * `herald:<ack|resolve|snooze>:<id>` → `{action, alertId}`; anything else (other apps' buttons, tampered
 * ids, ids beyond a safe integer) → null.
 */
export function parseCustomId(s: unknown): { action: DiscordAction; alertId: number } | null {
  if (typeof s !== 'string' || s.length > DISCORD_LIMITS.customId) return null;
  const m = /^herald:(ack|resolve|snooze):([1-9][0-9]{0,15})$/.exec(s);
  if (!m) return null;
  const alertId = Number(m[2]);
  if (!Number.isSafeInteger(alertId)) return null;
  return { action: m[1] as DiscordAction, alertId };
}

/** Buttons by state, as in Slack: triggered → Ack, Resolve, Snooze 1h, Open; acknowledged → Resolve, Open; resolved → Open. */
export function alertButtons(alert: AlertView): ButtonBuilder[] {
  const out: ButtonBuilder[] = [];
  const b = (action: DiscordAction, label: string, style: ButtonStyle) =>
    new ButtonBuilder().setCustomId(customId(action, alert.id)).setLabel(label).setStyle(style);
  if (alert.status === 'triggered') {
    out.push(b('ack', 'Acknowledge', ButtonStyle.Primary));
    out.push(b('resolve', 'Resolve', ButtonStyle.Success));
    out.push(b('snooze', 'Snooze 1h', ButtonStyle.Secondary));
  } else if (alert.status === 'acknowledged') {
    out.push(b('resolve', 'Resolve', ButtonStyle.Success));
  }
  const url = safeHttpUrl(alert.url, DISCORD_LIMITS.url);
  if (url) out.push(new ButtonBuilder().setStyle(ButtonStyle.Link).setLabel('Open').setURL(url));
  return out;
}

const SNOWFLAKE = /^[0-9]{15,21}$/;

/**
 * The alert as a Discord message body. `mentions` are Discord user ids; invalid ones are dropped, the rest
 * are mentioned in `content` and are the only pings allowed.
 */
export function alertMessage(alert: AlertView, mentions: string[], opts: { now?: Date } = {}): RESTPostAPIChannelMessageJSONBody {
  const now = opts.now ?? new Date();
  // Only ids whose mention fits in content are allowed to ping (a ping without a visible mention confuses).
  const users: string[] = [];
  let content = '';
  for (const id of new Set(mentions.map(String).filter((m) => SNOWFLAKE.test(m)))) {
    const next = content ? `${content} <@${id}>` : `<@${id}>`;
    if (next.length > DISCORD_LIMITS.content || users.length >= DISCORD_LIMITS.allowedMentionUsers) break;
    content = next;
    users.push(id);
  }

  const head = headline(alert);
  const embed = new EmbedBuilder()
    .setColor(alert.status === 'resolved' ? RESOLVED_COLOUR : SEVERITY_COLOURS[alert.severity] ?? SEVERITY_COLOURS.warning)
    .setAuthor({ name: truncate(head, AUTHOR_MAX) })
    .setTitle(truncate(alert.title?.trim() || '(untitled)', DISCORD_LIMITS.title));
  const url = safeHttpUrl(alert.url, DISCORD_LIMITS.url);
  if (url) embed.setURL(url);
  const created = Date.parse(alert.created_at);
  if (Number.isFinite(created)) embed.setTimestamp(created);

  const fields: Array<{ name: string; value: string; inline?: boolean }> = [];
  const { fields: facts, omitted } = keyFields(alert, 6);
  for (const f of facts) {
    // Facts are capped well below the field limits: six full fields alone (6 × 1280) would exceed the
    // 6000-character embed budget and leave no room for the body.
    fields.push({ name: truncate(f.label, FACT_NAME_MAX) || '—', value: truncate(f.value, FACT_VALUE_MAX) || '—', inline: true });
  }
  if (alert.sop && (alert.sop.title || alert.sop.steps?.length || alert.sop.url)) {
    const steps = (alert.sop.steps ?? []).map((s, i) => `${i + 1}. ${s}`);
    const sopUrl = safeHttpUrl(alert.sop.url, DISCORD_LIMITS.url);
    const link = sopUrl ? `[Open the procedure](${sopUrl})` : '';
    const budget = DISCORD_LIMITS.fieldValue - (link ? link.length + 1 : 0);
    let value = '';
    let shown = 0;
    for (const line of steps) {
      const next = value ? `${value}\n${line}` : line;
      if (next.length > budget - 30) break;
      value = next;
      shown++;
    }
    if (shown < steps.length) value += `${value ? '\n' : ''}…and ${steps.length - shown} more`;
    if (link) value += `${value ? '\n' : ''}${link}`;
    fields.push({
      name: truncate(`📋 ${alert.sop.title || 'Procedure'}`, DISCORD_LIMITS.fieldName),
      value: truncate(value || '—', DISCORD_LIMITS.fieldValue),
      inline: false,
    });
  }
  if (fields.length) embed.addFields(fields);

  const escalation = escalationText(alert, now);
  const assignee = assigneeText(alert);
  const footer = [
    metaLine(alert, now),
    omitted ? `+${omitted} more field${omitted === 1 ? '' : 's'} in Herald` : '',
    `${stateEmoji(alert, now)} ${stateText(alert, now)}`,
    assignee ? `${ASSIGNEE_EMOJI} ${assignee}` : '',
    escalation ? `⏫ ${escalation}` : '',
  ]
    .filter(Boolean)
    .join(' · ');
  const footerText = truncate(footer, FOOTER_MAX);
  embed.setFooter({ text: footerText });

  // The description gets what is left of the 6000-character embed budget after everything else.
  const used =
    truncate(head, AUTHOR_MAX).length +
    (embed.data.title?.length ?? 0) +
    footerText.length +
    fields.reduce((n, f) => n + f.name.length + f.value.length, 0);
  const body = alert.body?.trim();
  const room = Math.min(DISCORD_LIMITS.description, DISCORD_LIMITS.embedTotal - used);
  if (body && room > 1) embed.setDescription(truncate(body, room));

  const buttons = alertButtons(alert);
  const components = buttons.length ? [new ActionRowBuilder<ButtonBuilder>().addComponents(buttons).toJSON()] : [];

  return {
    ...(content ? { content } : {}),
    embeds: [embed.toJSON()],
    components,
    allowed_mentions: { users },
  };
}

/** Discord markdown's control characters, escaped so a name or note renders as typed. */
const escapeMarkdown = (s: string) => s.replace(/([\\*_~`|>#\[\]()-])/g, '\\$1');

/**
 * A note as a Discord reply to the alert's message: "📝 **Ana**: text" within the 2000-character content
 * limit, replying to `messageId` (no error if that message was deleted), and pinging nobody.
 */
export function noteMessage(by: string, text: string, channelId: string, messageId: string): RESTPostAPIChannelMessageJSONBody {
  const n = noteReply(by, text, 1800);
  const content = truncate(`${NOTE_EMOJI} **${escapeMarkdown(n.who)}**: ${escapeMarkdown(n.text)}`, DISCORD_LIMITS.content);
  return {
    content,
    message_reference: { message_id: messageId, channel_id: channelId, fail_if_not_exists: false },
    allowed_mentions: { parse: [] },
  };
}

/** The `/herald` chat-input command with its subcommands (register with PUT applications/:app/commands). */
export function heraldCommandDefinition(): RESTPostAPIChatInputApplicationCommandsJSONBody {
  return new SlashCommandBuilder()
    .setName('herald')
    .setDescription('Act on Herald alerts')
    .addSubcommand((c) => c.setName('list').setDescription('Your open alerts'))
    .addSubcommand((c) =>
      c
        .setName('ack')
        .setDescription('Acknowledge an alert')
        .addIntegerOption((o) => o.setName('id').setDescription('Alert number').setRequired(true).setMinValue(1)),
    )
    .addSubcommand((c) =>
      c
        .setName('resolve')
        .setDescription('Resolve an alert')
        .addIntegerOption((o) => o.setName('id').setDescription('Alert number').setRequired(true).setMinValue(1)),
    )
    .addSubcommand((c) =>
      c
        .setName('snooze')
        .setDescription('Snooze an alert; it escalates again afterwards')
        .addIntegerOption((o) => o.setName('id').setDescription('Alert number').setRequired(true).setMinValue(1))
        .addIntegerOption((o) =>
          o.setName('minutes').setDescription('How long (default 60)').setRequired(false).setMinValue(1).setMaxValue(10_080),
        ),
    )
    .addSubcommand((c) =>
      c
        .setName('oncall')
        .setDescription('Who is on call')
        .addStringOption((o) => o.setName('role').setDescription('Only this role').setRequired(false).setMaxLength(100)),
    )
    .addSubcommand((c) => c.setName('link').setDescription('Link your Discord account to your Herald user'))
    .addSubcommand((c) => c.setName('help').setDescription('How to use Herald here'))
    .toJSON();
}
