// The channel kinds a rule can name. `Record<ChannelKind, …>` maps in bot/ make the compiler prove
// every channel is wired.
export const CHANNEL_KINDS = ['in_app', 'slack', 'discord', 'sms', 'email', 'push'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

export const CHANNEL_LABELS: Record<ChannelKind, string> = {
  in_app: 'In-app', slack: 'Slack', discord: 'Discord', sms: 'SMS', email: 'Email', push: 'Push',
};

/** What the engine needs to know about each channel when it plans messages. */
export interface ChannelInfo {
  /** Credentials present; an off channel is skipped (and said so on the timeline), never a failure. */
  enabled: boolean;
  /**
   * Delivered inside the routing/escalation transaction itself (in_app: the notification row is the
   * delivery), so no send job is queued for it.
   */
  inline: boolean;
  /** Can a person be reached on it? (e.g. needs a phone for sms, a slack_user_id or email for slack) */
  reaches: (user: RecipientUser) => boolean;
  /** Does the channel also post to a shared room named on the rule (slack_channel, discord_channel)? */
  room?: 'slack_channel' | 'discord_channel';
  /** Can the channel edit what it already sent (Slack, Discord)? Then acknowledgements queue updates. */
  updatable: boolean;
}

export interface RecipientUser {
  id: number;
  name: string;
  email: string;
  phone: string | null;
  slack_user_id: string | null;
  discord_user_id: string | null;
  sms_opted_out: boolean;
}

export type ChannelMap = Record<ChannelKind, ChannelInfo>;

/** Why a channel cannot reach a person, as a sentence ending: "Ana has no push subscription". */
export const CHANNEL_MISSING: Record<ChannelKind, string> = {
  in_app: 'cannot use the app', slack: 'has no linked Slack account', discord: 'has no linked Discord account',
  sms: 'has no phone number', email: 'has no email address', push: 'has no push subscription',
};

/** One channel for one person: configured for the organisation, and able to reach them. */
export type ReachState = 'ok' | 'not_configured' | 'no_address' | 'opted_out' | 'failing';
