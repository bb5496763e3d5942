// Discord: alert messages out over the REST API (@discordjs/rest) and chat-ops in over the HTTP
// interactions endpoint (POST /discord/interactions, api/routes/chat.ts).
//
// Who gets what: a rule's `discord_channel` gets one message per notify step, mentioning every target who
// has a Discord id (so the people are pinged where the team talks). A target with a Discord id whose alert
// has no Discord channel at that step gets a DM instead (POST /users/@me/channels, then the message). When
// the room message exists, the person's own message row is satisfied by the mention: no second copy.
//
// Invariants:
// - Interactions are verified (Ed25519 over timestamp + raw body) before anything is parsed: 401 otherwise.
//   Discord probes the endpoint with bad signatures and disables it if they are accepted.
// - Every interaction is answered within Discord's 3 seconds: the work runs against a 2.5 s deadline, and
//   if it is late the answer is a deferred one and the result follows by editing @original.
// - Interaction ids are claimed in chat_interactions: a replayed interaction changes nothing.
// - Outbound calls never sleep long inside a job: a rate limit with more than a second to wait is rejected
//   (RateLimitError) and returned as failed_temp with Discord's retry_after; REST remembers the bucket, so a
//   retry that comes too early is rejected again without touching Discord.
// - A 401 means the bot token is wrong or revoked: permanent, logged once, visible in /readyz.
import { DiscordAPIError, HTTPError, RateLimitError, REST } from '@discordjs/rest';
import {
  InteractionResponseType, InteractionType, MessageFlags, Routes,
  type APIChannel, type APIInteraction, type APIMessage, type APIInteractionResponse,
  type APIApplicationCommandInteractionDataSubcommandOption, type APIMessageComponentInteraction, type APIChatInputApplicationCommandInteraction,
} from 'discord-api-types/v10';
import type { Adapter, AdapterContext, ChannelHealth, NoteToPost, OutgoingMessage, SendResult } from '../adapter';
import type { RecipientUser } from '../../db/model/channels';
import type { Config } from '../../db/platform/config';
import type { Herald } from '../../db/herald';
import { claimInteraction } from '../../db/chat/interactions';
import { pressButton } from '../chat/button';
import { recipientChatIds, roomRecipients } from '../../db/messages/rooms';
import { log } from '../../db/platform/log';
import { AuthState } from '../chat/auth-state';
import { alertMessage, heraldCommandDefinition, noteMessage, parseCustomId } from './render';
import { discordTimestampFresh, verifyDiscordSignature } from './verify';
import { discordReply, ephemeral, listMessage, parseListCustomId } from './replies';
import {
  actorFor, CHAT_ORG_ID, DEFAULT_SNOOZE_MINUTES, identify, MAX_SNOOZE_MINUTES, linkUrl, myOpenAlerts, parseAlertId, performAction, runCommand,
  type ChatCommand, type ChatPerson,
} from '../chat/core';

const DISCORD_API_DEFAULT = 'https://discord.com/api';
/** Wait out rate limits shorter than this inside the call; longer ones become failed_temp. */
const MAX_INLINE_RATE_LIMIT_MS = 1_500;
const INTERACTION_DEADLINE_MS = 2_500;

export function discordConfigured(config: Config): boolean {
  return Boolean(config.DISCORD_BOT_TOKEN && config.DISCORD_APPLICATION_ID && config.DISCORD_PUBLIC_KEY);
}

export interface DiscordHttpResponse { status: number; body?: unknown }

type RoomState = { channel_id: string; mentions?: string[]; dm?: boolean };

export class DiscordAdapter implements Adapter {
  readonly kind = 'discord' as const;
  readonly enabled = true;
  readonly inline = false;
  readonly updatable = true;
  readonly room = 'discord_channel' as const;
  readonly rest: REST;
  private readonly appId: string;
  private readonly publicKey: string;
  private readonly guildId: string | null;
  private h: Herald | null = null;
  private readonly auth = new AuthState('discord');
  private commands: 'pending' | 'registered' | string = 'pending';
  /** Follow-ups of late interactions, awaited by stop(). */
  private pending = new Set<Promise<unknown>>();

  constructor(config: Config) {
    this.appId = config.DISCORD_APPLICATION_ID!;
    this.publicKey = config.DISCORD_PUBLIC_KEY!;
    this.guildId = config.DISCORD_GUILD_ID ?? null;
    this.rest = new REST({
      api: (config.DISCORD_API_URL ?? DISCORD_API_DEFAULT).replace(/\/+$/, ''),
      rejectOnRateLimit: (d) => d.retryAfter > MAX_INLINE_RATE_LIMIT_MS || d.timeToReset > MAX_INLINE_RATE_LIMIT_MS,
      // The job queue retries; a 5xx is answered with failed_temp at once.
      retries: 0,
      timeout: 10_000,
    }).setToken(config.DISCORD_BOT_TOKEN!);
  }

  reaches = (u: RecipientUser): boolean => Boolean(u.discord_user_id);

  health(): ChannelHealth {
    const refused = this.auth.health();
    if (refused) return refused;
    const cmd = this.commands === 'registered' ? '/herald registered' : this.commands === 'pending' ? '/herald not registered yet' : `/herald not registered: ${this.commands}`;
    return { status: 'ok', detail: `interactions at POST /discord/interactions; ${cmd}` };
  }

  /** Registers `/herald` (in DISCORD_GUILD_ID when set: instant; else globally). Never throws. */
  async start(_ctx: AdapterContext): Promise<void> {
    const route = this.guildId ? Routes.applicationGuildCommands(this.appId, this.guildId) : Routes.applicationCommands(this.appId);
    try {
      await this.rest.put(route, { body: [heraldCommandDefinition()] });
      this.commands = 'registered';
      this.auth.ok();
    } catch (e) {
      const f = this.failure(e, 'registering /herald');
      this.commands = f.error;
      if (f.outcome !== 'failed_perm' || !this.auth.problem) log.warn('discord: could not register the /herald command', { error: f.error });
    }
  }

  takeInbound(h: Herald): void {
    this.h = h;
  }

  async stop(): Promise<void> {
    await Promise.race([Promise.allSettled([...this.pending]), new Promise((r) => setTimeout(r, 3_000))]);
    this.rest.clearHashSweeper();
    this.rest.clearHandlerSweeper();
  }

  // ---------------------------------------------------------------- outbound

  async send(msg: OutgoingMessage, ctx: AdapterContext): Promise<SendResult> {
    try {
      if (msg.room) {
        const mentions = await recipientChatIds(ctx.sql, msg.alert.id, msg.level, 'discord', 'discord_user_id');
        const m = (await this.rest.post(Routes.channelMessages(msg.room), { body: alertMessage(msg.alert, mentions) })) as APIMessage;
        this.auth.ok();
        return { outcome: 'sent', providerRef: m.id, providerState: { channel_id: m.channel_id, mentions } satisfies RoomState };
      }
      const discordId = msg.user?.discord_user_id;
      if (!discordId) return { outcome: 'failed_perm', error: 'the recipient has no Discord id' };
      const rooms = await roomRecipients(ctx.sql, msg.alert.id, msg.level, 'discord');
      // Reached by the mention in the room message: nothing of its own to post or edit.
      if (rooms.length) return { outcome: 'sent', providerState: { mentioned_in: rooms } };
      const dm = (await this.rest.post(Routes.userChannels(), { body: { recipient_id: discordId } })) as APIChannel;
      const m = (await this.rest.post(Routes.channelMessages(dm.id), { body: alertMessage(msg.alert, []) })) as APIMessage;
      this.auth.ok();
      return { outcome: 'sent', providerRef: m.id, providerState: { channel_id: m.channel_id, dm: true } satisfies RoomState };
    } catch (e) {
      return this.failure(e, msg.room ? `posting to channel ${msg.room}` : `messaging user ${msg.user?.id}`);
    }
  }

  async update(msg: OutgoingMessage): Promise<SendResult> {
    const state = (msg.providerState ?? {}) as Partial<RoomState>;
    if (!state.channel_id || !msg.providerRef) return { outcome: 'failed_perm', error: 'no Discord channel and message id recorded' };
    try {
      await this.rest.patch(Routes.channelMessage(state.channel_id, msg.providerRef), { body: alertMessage(msg.alert, state.mentions ?? []) });
      this.auth.ok();
      return { outcome: 'sent' };
    } catch (e) {
      return this.failure(e, `editing message ${msg.providerRef}`);
    }
  }

  /** A note as a reply to the posted message (a message reference; nobody is pinged). */
  async reply(msg: OutgoingMessage, note: NoteToPost): Promise<SendResult> {
    const state = (msg.providerState ?? {}) as Partial<RoomState>;
    if (!state.channel_id || !msg.providerRef) return { outcome: 'failed_perm', error: 'no Discord channel and message id recorded' };
    try {
      const m = (await this.rest.post(Routes.channelMessages(state.channel_id), { body: noteMessage(note.by, note.text, state.channel_id, msg.providerRef) })) as APIMessage;
      this.auth.ok();
      return { outcome: 'sent', providerRef: m.id };
    } catch (e) {
      return this.failure(e, `replying to message ${msg.providerRef}`);
    }
  }

  private failure(e: unknown, what: string): Extract<SendResult, { outcome: 'failed_temp' | 'failed_perm' }> {
    if (e instanceof RateLimitError) {
      return { outcome: 'failed_temp', error: `Discord rate limit (${e.global ? 'global' : e.route}) ${what}`, retryAfterMs: Math.max(e.retryAfter, e.timeToReset, 0) };
    }
    if (e instanceof DiscordAPIError) {
      if (e.status === 401) {
        const detail = `Discord refused the bot token (401 ${e.message}) ${what}. Set a valid DISCORD_BOT_TOKEN.`;
        this.auth.fail(detail);
        return { outcome: 'failed_perm', error: `401 ${e.message}` };
      }
      if (e.status >= 500) return { outcome: 'failed_temp', error: `${e.status} ${e.message} ${what}` };
      // 403 Missing Access / Missing Permissions / cannot DM this user, 404 unknown channel or message,
      // 400 invalid body: the same request would fail again.
      return { outcome: 'failed_perm', error: `${e.status} ${e.code}: ${e.message} ${what}` };
    }
    if (e instanceof HTTPError && e.status < 500 && e.status !== 408) return { outcome: 'failed_perm', error: `HTTP ${e.status} ${what}` };
    return { outcome: 'failed_temp', error: `${(e as Error)?.message ?? String(e)} ${what}` };
  }

  // ---------------------------------------------------------------- inbound

  private engine(): Herald {
    if (!this.h) throw new Error('the Discord adapter is not attached to the API');
    return this.h;
  }

  /** One POST /discord/interactions: verified, parsed, answered. */
  async handle(rawBody: Buffer, headers: Headers): Promise<DiscordHttpResponse> {
    if (!verifyDiscordSignature(this.publicKey, headers.get('x-signature-ed25519'), headers.get('x-signature-timestamp'), rawBody)) {
      return { status: 401, body: { error: 'invalid request signature' } };
    }
    if (!discordTimestampFresh(headers.get('x-signature-timestamp'))) return { status: 401, body: { error: 'stale or future request timestamp' } };
    let i: APIInteraction;
    try {
      i = JSON.parse(rawBody.toString('utf8'));
    } catch {
      return { status: 400, body: { error: 'malformed body' } };
    }
    // Signed is not well formed: `null`, an array or a component without data must be a 400, never a throw.
    const shape = interactionShapeProblem(i);
    if (shape) return { status: 400, body: { error: shape } };
    if (i.type === InteractionType.Ping) return { status: 200, body: { type: InteractionResponseType.Pong } };
    if (i.application_id && i.application_id !== this.appId) return { status: 400, body: { error: 'interaction for another application' } };
    if (i.type === InteractionType.MessageComponent) return { status: 200, body: await this.onComponent(i) };
    if (i.type === InteractionType.ApplicationCommand && i.data.type === 1) return { status: 200, body: await this.onCommand(i as APIChatInputApplicationCommandInteraction) };
    if (i.type === InteractionType.ApplicationCommandAutocomplete) return { status: 200, body: { type: InteractionResponseType.ApplicationCommandAutocompleteResult, data: { choices: [] } } };
    return { status: 400, body: { error: 'unsupported interaction type' } };
  }

  private person(i: APIInteraction): ChatPerson | null {
    const u = i.member?.user ?? i.user;
    if (!u) return null;
    return { provider: 'discord', chatId: u.id, displayName: u.global_name || u.username, space: i.guild_id ?? undefined };
  }

  /**
   * Runs `work` against the interaction deadline. Late: answers `deferred` now and delivers the result
   * afterwards by editing @original (or, for an ephemeral note after a deferred update, a follow-up).
   */
  private async withinDeadline(i: APIInteraction, deferred: APIInteractionResponse, work: () => Promise<APIInteractionResponse>): Promise<APIInteractionResponse> {
    // A failure (database down…) is still an answer: Discord would otherwise show "This interaction failed".
    const job = work().catch((e: Error): APIInteractionResponse => {
      log.error('discord: interaction failed', { error: e.message, interaction: i.id });
      return { type: InteractionResponseType.ChannelMessageWithSource, data: { content: '⚠️ Herald could not finish that just now. Check the alert in Herald, and try again in a moment.', flags: MessageFlags.Ephemeral } };
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((r) => { timer = setTimeout(() => r(null), INTERACTION_DEADLINE_MS); });
    const first = await Promise.race([job, late]);
    clearTimeout(timer);
    if (first) return first;
    const followUp = job.then(async (res) => {
      const data = 'data' in res ? res.data : undefined;
      if (!data) return;
      const ephemeralNote = deferred.type === InteractionResponseType.DeferredMessageUpdate && res.type === InteractionResponseType.ChannelMessageWithSource;
      if (ephemeralNote) await this.rest.post(Routes.webhook(this.appId, i.token), { body: data, auth: false });
      else await this.rest.patch(Routes.webhookMessage(this.appId, i.token, '@original'), { body: data, auth: false });
    }).catch((e: Error) => log.warn('discord: late interaction follow-up failed', { error: e.message }));
    this.pending.add(followUp);
    void followUp.finally(() => this.pending.delete(followUp));
    return deferred;
  }

  private async onComponent(i: APIMessageComponentInteraction): Promise<APIInteractionResponse> {
    const onAlert = parseCustomId(i.data.custom_id);
    const inList = onAlert ? null : parseListCustomId(i.data.custom_id);
    const target = onAlert ?? inList;
    const person = this.person(i);
    // Not one of our buttons (or no user): acknowledge without changing anything.
    if (!target || !person) return { type: InteractionResponseType.DeferredMessageUpdate };
    const h = this.engine();
    return this.withinDeadline(i, { type: InteractionResponseType.DeferredMessageUpdate }, async () => {
      const pressed = await pressButton(h, { person, claimKey: `interaction:${i.id}`, alertId: target.alertId, action: target.action, minutes: DEFAULT_SNOOZE_MINUTES });
      if (pressed.kind === 'duplicate') return { type: InteractionResponseType.DeferredMessageUpdate };
      if (pressed.kind !== 'acted') return { type: InteractionResponseType.ChannelMessageWithSource, data: discordReply(pressed.outcome) };
      const { outcome, actor } = pressed;
      if (inList) {
        const { flags: _flags, ...list } = listMessage(await myOpenAlerts(h, actor));
        return { type: InteractionResponseType.UpdateMessage, data: list };
      }
      // Keep the message's mentions as they were (an edit never pings again).
      const mentions = [...(i.message?.content ?? '').matchAll(/<@!?(\d{5,25})>/g)].map((m) => m[1]);
      return { type: InteractionResponseType.UpdateMessage, data: alertMessage(outcome.alert, mentions) };
    });
  }

  private async onCommand(i: APIChatInputApplicationCommandInteraction): Promise<APIInteractionResponse> {
    const person = this.person(i);
    const answer = (content: string): APIInteractionResponse => ({ type: InteractionResponseType.ChannelMessageWithSource, data: ephemeral(content) });
    if (i.data.name !== 'herald' || !person) return answer('Herald only knows `/herald`.');
    const h = this.engine();
    if (!(await claimInteraction(h.sql, CHAT_ORG_ID, 'discord', `interaction:${i.id}`))) return answer('Already handled.');
    const command = commandFromOptions(i.data.options?.[0] as APIApplicationCommandInteractionDataSubcommandOption | undefined);
    return this.withinDeadline(i, { type: InteractionResponseType.DeferredChannelMessageWithSource, data: { flags: MessageFlags.Ephemeral } }, async () => {
      const user = await identify(h, 'discord', person.chatId);
      const outcome = await runCommand(h, person, user, command);
      return { type: InteractionResponseType.ChannelMessageWithSource, data: discordReply(outcome) };
    });
  }
}

/** What makes a parsed body unusable as an interaction, or null. Only the fields `handle` reads before dispatch. */
export function interactionShapeProblem(i: unknown): string | null {
  if (i === null || typeof i !== 'object' || Array.isArray(i)) return 'the body must be an interaction object';
  const o = i as Record<string, unknown>;
  if (typeof o.type !== 'number') return 'type must be a number';
  if (o.type === InteractionType.Ping) return null;
  if (typeof o.id !== 'string' || typeof o.token !== 'string') return 'id and token must be strings';
  if (o.application_id !== undefined && typeof o.application_id !== 'string') return 'application_id must be a string';
  const data = o.data as Record<string, unknown> | null | undefined;
  if (o.type === InteractionType.MessageComponent || o.type === InteractionType.ApplicationCommand) {
    if (!data || typeof data !== 'object' || Array.isArray(data)) return 'data must be an object';
    if (o.type === InteractionType.MessageComponent && typeof data.custom_id !== 'string') return 'data.custom_id must be a string';
    if (o.type === InteractionType.ApplicationCommand && (typeof data.name !== 'string' || (data.options !== undefined && !Array.isArray(data.options)))) return 'data.name must be a string and data.options an array';
  }
  for (const k of ['member', 'user', 'message'] as const) {
    if (o[k] !== undefined && o[k] !== null && (typeof o[k] !== 'object' || Array.isArray(o[k]))) return `${k} must be an object`;
  }
  const member = o.member as Record<string, unknown> | undefined;
  const user = (member?.user ?? o.user) as Record<string, unknown> | undefined;
  if (user !== undefined && user !== null && (typeof user !== 'object' || typeof user.id !== 'string')) return 'user.id must be a string';
  return null;
}

/** `/herald <subcommand> [options]` as Discord delivers it → the shared command. Unknown → help. */
export function commandFromOptions(sub: APIApplicationCommandInteractionDataSubcommandOption | undefined): ChatCommand {
  if (sub !== undefined && (sub === null || typeof sub !== 'object')) sub = undefined; // a signed but odd body: help
  const given: unknown[] = Array.isArray(sub?.options) ? sub.options : [];
  const opts = Object.fromEntries(given.filter((o): o is { name: string; value?: unknown } => !!o && typeof o === 'object' && typeof (o as { name?: unknown }).name === 'string')
    .map((o) => [o.name, 'value' in o ? o.value : undefined]));
  const id = parseAlertId(opts.id === undefined ? undefined : String(opts.id));
  switch (sub?.name) {
    case undefined:
    case 'list': return { cmd: 'list' };
    case 'ack':
    case 'resolve':
      return id ? { cmd: 'act', action: sub.name, alertId: id } : { cmd: 'help', unknown: `${sub.name} ${opts.id ?? ''}`.trim() };
    case 'snooze': {
      const minutes = opts.minutes === undefined ? DEFAULT_SNOOZE_MINUTES : Number(opts.minutes);
      if (!id || !(minutes > 0 && minutes <= MAX_SNOOZE_MINUTES)) return { cmd: 'help', unknown: `snooze ${opts.id ?? ''} ${opts.minutes ?? ''}`.trim() };
      return { cmd: 'act', action: 'snooze', alertId: id, minutes };
    }
    case 'oncall': return { cmd: 'oncall', role: typeof opts.role === 'string' && opts.role.trim() ? opts.role.trim() : null };
    case 'link': return { cmd: 'link' };
    case 'help': return { cmd: 'help' };
    default: return { cmd: 'help', unknown: String(sub?.name) };
  }
}

export function createDiscordAdapter(config: Config): DiscordAdapter {
  return new DiscordAdapter(config);
}
