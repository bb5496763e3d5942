// Inbound Discord interactions exactly as Discord sends them: Ed25519-signed (`X-Signature-Ed25519` over
// timestamp + raw body, `X-Signature-Timestamp`) with the real payload shapes of PING, a button click
// (message component) and a `/herald <subcommand>` chat-input command.
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import type {
  APIChatInputApplicationCommandInteraction,
  APIMessageComponentButtonInteraction,
  APIPingInteraction,
} from 'discord-api-types/v10';

export interface DiscordKeyPair {
  /** The raw 32-byte public key in hex, as the Developer Portal shows it (DISCORD_PUBLIC_KEY). */
  publicKeyHex: string;
  publicKey: KeyObject;
  privateKey: KeyObject;
}

export function discordKeyPair(): DiscordKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  const publicKeyHex = Buffer.from(String(jwk.x), 'base64url').toString('hex');
  return { publicKeyHex, publicKey, privateKey };
}

export interface DiscordSignatureHeaders {
  'X-Signature-Ed25519': string;
  'X-Signature-Timestamp': string;
}

export function signDiscordRequest(
  privateKey: KeyObject,
  rawBody: string | Buffer,
  timestamp: string | number = Math.floor(Date.now() / 1000),
): DiscordSignatureHeaders {
  const ts = String(timestamp);
  const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
  const sig = sign(null, Buffer.concat([Buffer.from(ts, 'utf8'), body]), privateKey).toString('hex');
  return { 'X-Signature-Ed25519': sig, 'X-Signature-Timestamp': ts };
}

const DISCORD_EPOCH = 1420070400000n;
let seq = 0n;
/** A fresh, time-ordered snowflake id. */
export function snowflake(): string {
  seq = (seq + 1n) & 0xfffn;
  return (((BigInt(Date.now()) - DISCORD_EPOCH) << 22n) | (2n << 17n) | seq).toString();
}

/** Interaction tokens are long opaque url-safe strings. */
const interactionToken = () => `aW50ZXJhY3Rpb246${randomBytes(96).toString('base64url')}`;

export const DEFAULT_APPLICATION_ID = '1100000000000000001';
export const DEFAULT_GUILD_ID = '1200000000000000002';

interface Common {
  applicationId?: string;
  /** Interaction id (a snowflake) and token; generated when absent. */
  id?: string;
  token?: string;
  channelId?: string;
  /** Guild id; `null` for a DM (then `user` is sent instead of `member`). */
  guildId?: string | null;
  userId: string;
  username?: string;
}

function actorFields(i: Common) {
  const user = {
    id: i.userId,
    username: i.username ?? 'ana',
    discriminator: '0',
    global_name: i.username ? i.username : 'Ana',
    avatar: null,
    avatar_decoration_data: null,
    public_flags: 0,
  };
  const channelId = i.channelId ?? '1300000000000000003';
  const guildId = i.guildId === undefined ? DEFAULT_GUILD_ID : i.guildId;
  const base = {
    id: i.id ?? snowflake(),
    application_id: i.applicationId ?? DEFAULT_APPLICATION_ID,
    token: i.token ?? interactionToken(),
    version: 1 as const,
    app_permissions: '562949953601536',
    locale: 'en-US',
    entitlements: [],
    attachment_size_limit: 10_485_760,
    channel_id: channelId,
  };
  if (guildId === null) {
    return {
      ...base,
      channel: { id: channelId, type: 1, flags: 0, last_message_id: null, recipients: [user] },
      context: 1,
      authorizing_integration_owners: { '1': i.userId },
      user,
    };
  }
  return {
    ...base,
    channel: { id: channelId, type: 0, name: 'alerts', guild_id: guildId, flags: 0, nsfw: false, parent_id: null, position: 0, rate_limit_per_user: 0, topic: null, permissions: '2248473465835073' },
    context: 0,
    authorizing_integration_owners: { '0': guildId },
    guild: { id: guildId, features: [], locale: 'en-US' },
    guild_id: guildId,
    guild_locale: 'en-US',
    member: {
      user,
      roles: [],
      premium_since: null,
      permissions: '2248473465835073',
      pending: false,
      nick: null,
      mute: false,
      joined_at: '2024-01-01T00:00:00.000000+00:00',
      flags: 0,
      deaf: false,
      communication_disabled_until: null,
      avatar: null,
      banner: null,
    },
  };
}

/** PING (type 1): Discord's endpoint check; must be answered `{type: 1}`. */
export function pingInteraction(i: { applicationId?: string; id?: string; token?: string } = {}): APIPingInteraction {
  return {
    id: i.id ?? snowflake(),
    application_id: i.applicationId ?? DEFAULT_APPLICATION_ID,
    type: 1,
    token: i.token ?? interactionToken(),
    version: 1,
    entitlements: [],
    user: { id: '1000000000000000000', username: 'discord', discriminator: '0', global_name: 'Discord', avatar: null },
  } as unknown as APIPingInteraction;
}

export interface ComponentInteractionInput extends Common {
  customId: string;
  /** The message the button sits on. */
  messageId: string;
  /** Components/embeds of that message (Discord echoes the whole message). */
  message?: { content?: string; embeds?: unknown[]; components?: unknown[] };
}

/** A button click (type 3, data.component_type 2) on a message the bot posted. */
export function componentInteraction(i: ComponentInteractionInput): APIMessageComponentButtonInteraction {
  const common = actorFields(i);
  return {
    ...common,
    type: 3,
    data: { custom_id: i.customId, component_type: 2, id: 2 },
    message: {
      id: i.messageId,
      type: 0,
      channel_id: common.channel_id,
      content: i.message?.content ?? '',
      author: { id: common.application_id, username: 'Herald', discriminator: '0000', global_name: null, avatar: null, bot: true },
      attachments: [],
      embeds: i.message?.embeds ?? [],
      components: i.message?.components ?? [],
      mentions: [],
      mention_roles: [],
      mention_everyone: false,
      pinned: false,
      tts: false,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      flags: 0,
      application_id: common.application_id,
    },
  } as unknown as APIMessageComponentButtonInteraction;
}

export interface CommandInteractionInput extends Common {
  /** "list", "ack", "resolve", "snooze", "oncall", "link", "help" */
  subcommand: string;
  /** Option values: numbers are sent as INTEGER (type 4) options, strings as STRING (type 3). */
  options?: Record<string, string | number | boolean>;
  commandId?: string;
}

/** `/herald <subcommand> [options]` (type 2, data.type 1 chat input, one SUB_COMMAND option). */
export function applicationCommandInteraction(i: CommandInteractionInput): APIChatInputApplicationCommandInteraction {
  const common = actorFields(i);
  const options = Object.entries(i.options ?? {}).map(([name, value]) => ({
    name,
    type: typeof value === 'number' ? (Number.isInteger(value) ? 4 : 10) : typeof value === 'boolean' ? 5 : 3,
    value,
  }));
  return {
    ...common,
    type: 2,
    data: {
      id: i.commandId ?? '1400000000000000004',
      name: 'herald',
      type: 1,
      ...('guild_id' in common ? { guild_id: common.guild_id } : {}),
      options: [{ name: i.subcommand, type: 1, ...(options.length ? { options } : {}) }],
    },
  } as unknown as APIChatInputApplicationCommandInteraction;
}
