// Inbound Slack requests exactly as Slack sends them: signed bodies
// (https://docs.slack.dev/authentication/verifying-requests-from-slack) and the real payload shapes of
// interactive `block_actions` and slash commands, both `application/x-www-form-urlencoded`.
import { createHmac, randomBytes } from 'node:crypto';

export const SLACK_FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

export interface SlackSignatureHeaders {
  'X-Slack-Signature': string;
  'X-Slack-Request-Timestamp': string;
}

/** `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:<ts>:<raw body>">` and the timestamp (seconds) it covers. */
export function signSlackRequest(
  signingSecret: string,
  rawBody: string | Buffer,
  timestamp: number = Math.floor(Date.now() / 1000),
): SlackSignatureHeaders {
  const ts = String(Math.floor(timestamp));
  const mac = createHmac('sha256', signingSecret).update(`v0:${ts}:`).update(rawBody).digest('hex');
  return { 'X-Slack-Signature': `v0=${mac}`, 'X-Slack-Request-Timestamp': ts };
}

const rand = (n: number) => randomBytes(n).toString('hex');
/** Slack trigger ids look like "1234567890123.1234567890123.0123456789abcdef0123456789abcdef". */
const triggerId = () => `${Date.now()}${Math.floor(Math.random() * 1000)}.${Math.floor(Math.random() * 1e13)}.${rand(16)}`;
const nowTs = () => {
  const t = Date.now();
  return `${Math.floor(t / 1000)}.${String((t % 1000) * 1000).padStart(6, '0')}`;
};

export interface BlockActionsInput {
  userId: string;
  teamId?: string;
  actionId: string;
  value?: string;
  channelId: string;
  messageTs: string;
  responseUrl: string;
  userName?: string;
  teamDomain?: string;
  channelName?: string;
  apiAppId?: string;
  /** The legacy verification token Slack still sends in payloads. */
  token?: string;
  blockId?: string;
  /** The clicked button's label. */
  buttonText?: string;
  style?: 'primary' | 'danger';
  /** Blocks of the message the button sits on (Slack echoes them). */
  messageBlocks?: unknown[];
  messageText?: string;
  botUserId?: string;
  isEphemeral?: boolean;
}

/** The JSON object of a real `block_actions` payload for a button click on a message. */
export function blockActionsJson(i: BlockActionsInput): Record<string, unknown> {
  const teamId = i.teamId ?? 'T0HERALD1';
  const userName = i.userName ?? 'ana';
  const apiAppId = i.apiAppId ?? 'A0HERALDAPP';
  const isDm = i.channelId.startsWith('D');
  return {
    type: 'block_actions',
    user: { id: i.userId, username: userName, name: userName, team_id: teamId },
    api_app_id: apiAppId,
    token: i.token ?? 'legacyVerificationToken0',
    container: { type: 'message', message_ts: i.messageTs, channel_id: i.channelId, is_ephemeral: i.isEphemeral ?? false },
    trigger_id: triggerId(),
    team: { id: teamId, domain: i.teamDomain ?? 'herald-test' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: i.channelId, name: i.channelName ?? (isDm ? 'directmessage' : 'alerts') },
    message: {
      user: i.botUserId ?? 'U0HERALDBOT',
      type: 'message',
      ts: i.messageTs,
      bot_id: 'B0HERALDBOT',
      app_id: apiAppId,
      text: i.messageText ?? 'Herald alert',
      team: teamId,
      blocks: i.messageBlocks ?? [],
    },
    state: { values: {} },
    response_url: i.responseUrl,
    actions: [
      {
        action_id: i.actionId,
        block_id: i.blockId ?? rand(3),
        text: { type: 'plain_text', text: i.buttonText ?? i.actionId, emoji: true },
        ...(i.value !== undefined ? { value: i.value } : {}),
        ...(i.style ? { style: i.style } : {}),
        type: 'button',
        action_ts: nowTs(),
      },
    ],
  };
}

/** The raw form body Slack POSTs for a button click: `payload=<url-encoded JSON>`. */
export function blockActionsPayload(i: BlockActionsInput): string {
  return new URLSearchParams({ payload: JSON.stringify(blockActionsJson(i)) }).toString();
}

export interface SlashCommandInput {
  userId: string;
  text: string;
  responseUrl: string;
  command?: string;
  teamId?: string;
  teamDomain?: string;
  channelId?: string;
  channelName?: string;
  userName?: string;
  apiAppId?: string;
  token?: string;
}

/** The raw form body Slack POSTs for a slash command, with Slack's fields in Slack's order. */
export function slashCommandBody(i: SlashCommandInput): string {
  return new URLSearchParams({
    token: i.token ?? 'legacyVerificationToken0',
    team_id: i.teamId ?? 'T0HERALD1',
    team_domain: i.teamDomain ?? 'herald-test',
    channel_id: i.channelId ?? 'D0000000001',
    channel_name: i.channelName ?? 'directmessage',
    user_id: i.userId,
    user_name: i.userName ?? 'ana',
    command: i.command ?? '/herald',
    text: i.text,
    api_app_id: i.apiAppId ?? 'A0HERALDAPP',
    is_enterprise_install: 'false',
    response_url: i.responseUrl,
    trigger_id: triggerId(),
  }).toString();
}
