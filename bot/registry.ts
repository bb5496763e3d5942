// Every channel, wired. `Adapters` is a Record<ChannelKind, Adapter>: adding a channel kind without an
// adapter here fails to compile. A channel without credentials is an off adapter: it says so in /readyz
// and at start, and the engine skips it (never a failed alert).
import type { Adapters } from './adapter';
import { offAdapter } from './adapter';
import type { Config } from '../db/platform/config';
import { inAppAdapter } from './in_app/adapter';
import { webPushAdapter } from './push/adapter';
import { createSmsAdapter, smsConfigured } from './sms/adapter';
import { createEmailAdapter, emailConfigured } from './email/adapter';
import { createSlackAdapter, slackConfigured } from './slack/adapter';
import { createDiscordAdapter, discordConfigured } from './discord/adapter';

// Adapters extend ChannelInfo, so the same record is the engine's ChannelMap (Herald.channels).
export function createAdapters(config: Config): Adapters {
  return {
    in_app: inAppAdapter,
    slack: slackConfigured(config) ? createSlackAdapter(config) : offAdapter('slack', 'SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode) are not set'),
    discord: discordConfigured(config) ? createDiscordAdapter(config) : offAdapter('discord', 'DISCORD_BOT_TOKEN, DISCORD_APPLICATION_ID and DISCORD_PUBLIC_KEY are not set'),
    sms: smsConfigured(config) ? createSmsAdapter(config) : offAdapter('sms', 'TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER are not set'),
    email: emailConfigured(config) ? createEmailAdapter(config) : offAdapter('email', 'SMTP_URL is not set'),
    push: webPushAdapter(config),
  };
}
