// Slack: alert messages out (a DM per target, a post in the rule's channel, edited in place on every
// change) and chat-ops in (buttons and `/herald`), over Bolt. Two ways in:
// - HTTP mode: Hono serves POST /slack/events (api/routes/chat.ts) and hands the raw request to
//   `HonoSlackReceiver`, which verifies Slack's signature and timestamp window (401 otherwise) and feeds
//   Bolt; the HTTP answer goes out the moment a listener calls ack().
// - Socket Mode (SLACK_APP_TOKEN set): Bolt's SocketModeReceiver holds a WebSocket to Slack; acks go back
//   over it. For installations without a public URL.
//
// Invariants:
// - Every listener calls ack() first and does the slow work after: Slack gives up after 3 seconds and
//   shows the person an error even if the action went through.
// - A delivery is applied at most once: each interaction's trigger id is claimed in chat_interactions
//   before the verb runs (Slack retries with X-Slack-Retry-Num; Socket Mode redelivers unacked envelopes).
//   Two separate clicks are two trigger ids; the second meets the verb's 409 and is told who got there first.
// - Outbound calls never wait inside a job: 429s are rejected (rejectRateLimitedCalls) and returned as
//   failed_temp with Slack's Retry-After; the job queue schedules the retry.
// - An auth failure (revoked token, missing scope…) is permanent, logged once per cause, and visible in
//   /readyz until a call succeeds again.
import { App, LogLevel, SocketModeReceiver, isValidSlackRequest, type Logger, type Receiver, type ReceiverEvent } from '@slack/bolt';
import type { BlockAction, ButtonAction, SlashCommand, RespondFn, AckFn } from '@slack/bolt';
import { ErrorCode, WebClient, type WebClientOptions } from '@slack/web-api';
import type { Adapter, AdapterContext, ChannelHealth, FileRecipient, NoteToPost, OutgoingFile, OutgoingMessage, SendResult } from '../adapter';
import type { RecipientUser } from '../../db/model/channels';
import type { DigestView } from '../../db/model/digest';
import type { Config } from '../../db/platform/config';
import type { Herald } from '../../db/herald';
import { claimInteraction } from '../../db/chat/interactions';
import { pressButton } from '../chat/button';
import { rememberChatId } from '../../db/users/chat-links';
import { log } from '../../db/platform/log';
import { AuthState } from '../chat/auth-state';
import { ACTION_IDS, alertBlocks, alertListBlocks, digestBlocks, noteText, SNOOZE_BUTTON_MINUTES } from './blocks';
import { slackReply, unlinkedText } from './replies';
import {
  actorFor, CHAT_ORG_ID, identify, linkUrl, myOpenAlerts, parseCommandText, performAction, runCommand,
  type ChatCommand, type ChatPerson,
} from '../chat/core';
import type { AlertAction } from '../../db/alerts/act';

/** Slack errors that mean the token or the app's installation is the problem, not this one message. */
const AUTH_ERRORS = new Set([
  'invalid_auth', 'token_revoked', 'token_expired', 'account_inactive', 'missing_scope', 'not_authed', 'no_permission',
  'not_allowed_token_type', 'team_access_not_granted', 'ekm_access_denied', 'org_login_required', 'two_factor_setup_required',
]);
/** Slack errors worth retrying. Any other platform error is about the message or its address: permanent. */
const TRANSIENT_ERRORS = new Set(['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

const CLICK_ACTIONS: Record<string, AlertAction> = { [ACTION_IDS.ack]: 'ack', [ACTION_IDS.resolve]: 'resolve', [ACTION_IDS.snooze]: 'snooze' };

/** Bolt and the Web API log through Herald's JSON log (their debug/info as debug). */
function slackLogger(name: string): Logger {
  let level = LogLevel.WARN;
  const fmt = (m: unknown[]) => m.map((x) => (x instanceof Error ? x.message : typeof x === 'string' ? x : JSON.stringify(x))).join(' ');
  return {
    debug: (...m) => log.debug(`${name}: ${fmt(m)}`),
    info: (...m) => log.debug(`${name}: ${fmt(m)}`),
    warn: (...m) => log.warn(`${name}: ${fmt(m)}`),
    error: (...m) => log.error(`${name}: ${fmt(m)}`),
    setLevel: (l) => { level = l; },
    getLevel: () => level,
    setName: () => {},
  };
}

/** How far a request's X-Slack-Request-Timestamp may be from now, either way (Slack's own guidance: 5 minutes). */
export const SLACK_MAX_SKEW_SECONDS = 300;

export function slackConfigured(config: Config): boolean {
  return Boolean(config.SLACK_BOT_TOKEN && (config.SLACK_APP_TOKEN || config.SLACK_SIGNING_SECRET));
}

/** The answer to one POST /slack/events. */
export interface SlackHttpResponse { status: number; body?: string; contentType?: string }

/**
 * Bolt's receiver for requests Hono received. Bolt's own HTTPReceiver wants to own a node http server;
 * this one takes the raw body and headers and returns the response, so Herald serves Slack on its own
 * port, behind its own body limit, next to the API.
 */
export class HonoSlackReceiver implements Receiver {
  private app: App | null = null;
  constructor(private readonly signingSecret: string, private readonly ackTimeoutMs = 2_900) {}

  init(app: App): void {
    this.app = app;
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  async handle(rawBody: string, headers: Headers): Promise<SlackHttpResponse> {
    const contentType = (headers.get('content-type') ?? '').toLowerCase();
    const isForm = contentType.startsWith('application/x-www-form-urlencoded');
    // Slack's SSL check carries no signature and asks for nothing but a 200 (and must dispatch nothing).
    if (isForm && new URLSearchParams(rawBody).get('ssl_check') === '1') return { status: 200 };

    const signature = headers.get('x-slack-signature') ?? '';
    const timestamp = Number(headers.get('x-slack-request-timestamp') ?? NaN);
    // Bolt's verifier: HMAC-SHA256 of v0:<ts>:<body> in constant time, and the timestamp at most 5 minutes old.
    // Bolt accepts any future timestamp, so a captured request signed ahead of time would replay for a day:
    // the timestamp must be within 5 minutes of now either way.
    const valid = signature !== '' && Number.isFinite(timestamp) && Math.abs(Date.now() / 1000 - timestamp) <= SLACK_MAX_SKEW_SECONDS &&
      isValidSlackRequest({ signingSecret: this.signingSecret, body: rawBody, headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp } });
    if (!valid) return { status: 401, body: JSON.stringify({ error: 'invalid Slack signature or stale timestamp' }), contentType: 'application/json' };

    let body: Record<string, any>;
    try {
      if (isForm) {
        const form = new URLSearchParams(rawBody);
        const payload = form.get('payload');
        body = payload !== null ? JSON.parse(payload) : Object.fromEntries(form);
      } else {
        body = JSON.parse(rawBody);
      }
    } catch {
      return { status: 400, body: JSON.stringify({ error: 'malformed body' }), contentType: 'application/json' };
    }
    if (!body || typeof body !== 'object') return { status: 400 };
    if (body.type === 'url_verification') return { status: 200, body: JSON.stringify({ challenge: body.challenge }), contentType: 'application/json' };
    if (!this.app) return { status: 503 };

    const retryNum = headers.get('x-slack-retry-num');
    let acked = false;
    let resolveAck!: (r: { response: unknown }) => void;
    const ackP = new Promise<{ response: unknown }>((r) => (resolveAck = r));
    const event: ReceiverEvent = {
      body,
      retryNum: retryNum === null ? undefined : Number(retryNum),
      retryReason: headers.get('x-slack-retry-reason') ?? undefined,
      ack: async (response?: unknown) => {
        if (acked) return;
        acked = true;
        resolveAck({ response });
      },
    };
    const done = this.app.processEvent(event).then(
      () => ({ finished: true as const }),
      (e: Error) => {
        log.error('slack: listener failed', { error: e.message });
        return { failed: true as const };
      },
    );
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<{ late: true }>((r) => { timer = setTimeout(() => r({ late: true }), this.ackTimeoutMs); });
    const first = await Promise.race([ackP, done, late]);
    clearTimeout(timer);
    if ('response' in first) {
      const r = first.response;
      if (r === undefined || r === null || r === '') return { status: 200 };
      if (typeof r === 'string') return { status: 200, body: r, contentType: 'text/plain; charset=utf-8' };
      return { status: 200, body: JSON.stringify(r), contentType: 'application/json' };
    }
    if ('failed' in first) return { status: 500 };
    // Nobody acked (an event no listener wants, or a listener slower than Slack's 3 s): a plain 200 stops
    // Slack from retrying a delivery that was received.
    return { status: 200 };
  }
}

type SocketState = 'off' | 'connecting' | 'connected' | 'reconnecting' | 'failed';

export class SlackAdapter implements Adapter {
  readonly kind = 'slack' as const;
  readonly enabled = true;
  readonly inline = false;
  readonly updatable = true;
  readonly room = 'slack_channel' as const;
  readonly mode: 'http' | 'socket';
  readonly web: WebClient;
  readonly app: App;
  readonly httpReceiver: HonoSlackReceiver | null = null;
  private readonly socketReceiver: SocketModeReceiver | null = null;
  private h: Herald | null = null;
  private readonly auth = new AuthState('slack');
  private socket: SocketState = 'off';
  private socketError: string | null = null;
  private bot: { userId?: string; botId?: string; team?: string } = {};

  constructor(config: Config) {
    const token = config.SLACK_BOT_TOKEN!;
    const apiUrl = config.SLACK_API_URL ? config.SLACK_API_URL.replace(/\/*$/, '/') : undefined;
    const clientOptions: WebClientOptions = {
      ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
      // The job queue retries (with Slack's Retry-After); the client must not sleep inside a job.
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: 10_000,
      logger: slackLogger('slack web'),
    };
    this.web = new WebClient(token, clientOptions);
    this.mode = config.SLACK_APP_TOKEN ? 'socket' : 'http';
    const logger = slackLogger('slack bolt');
    // Tokens come from the environment: authorization never needs a network call on the way in.
    const authorize = async () => ({ botToken: token, botId: this.bot.botId, botUserId: this.bot.userId });
    if (this.mode === 'socket') {
      this.socketReceiver = new SocketModeReceiver({
        appToken: config.SLACK_APP_TOKEN!,
        logger: slackLogger('slack socket'),
        // apps.connections.open goes to the same API base; the socket client keeps its own retry policy.
        installerOptions: { clientOptions: { ...(apiUrl ? { slackApiUrl: apiUrl } : {}) } },
      });
      this.app = new App({ authorize, receiver: this.socketReceiver, socketMode: true, clientOptions, logger });
    } else {
      this.httpReceiver = new HonoSlackReceiver(config.SLACK_SIGNING_SECRET!);
      this.app = new App({ authorize, receiver: this.httpReceiver, clientOptions, logger });
    }
    this.app.action(new RegExp(`^(${Object.values(ACTION_IDS).join('|')})$`), (args) => this.onClick(args as never));
    this.app.command(/^\/herald/, (args) => this.onCommand(args as never));
    this.app.error(async (e) => { log.warn('slack: unhandled error in a listener', { error: e.message }); });
  }

  reaches = (u: RecipientUser): boolean => Boolean(u.slack_user_id || u.email);

  health(): ChannelHealth {
    const refused = this.auth.health();
    if (refused) return refused;
    if (this.mode === 'socket' && this.socket !== 'off' && this.socket !== 'connected') {
      return { status: 'error', detail: `Socket Mode is ${this.socket}${this.socketError ? `: ${this.socketError}` : ''}` };
    }
    return { status: 'ok', detail: this.mode === 'socket' ? 'Socket Mode' : 'HTTP mode (POST /slack/events)' };
  }

  /** Checks the token once (a revoked token shows in /readyz from the start). Never throws. */
  async start(_ctx: AdapterContext): Promise<void> {
    try {
      const r = await this.web.auth.test();
      this.bot = { userId: r.user_id, botId: r.bot_id, team: r.team };
      this.auth.ok();
    } catch (e) {
      const f = this.failure(e, 'auth.test');
      if (f.outcome !== 'failed_perm') log.warn('slack: could not check the bot token at start', { error: f.error });
    }
  }

  /**
   * Called once by the API role at start (api/server.ts) with the engine, which clicks and commands act
   * through. Socket Mode connects here: processes that serve the API are the ones that take inbound work.
   */
  takeInbound(h: Herald): void {
    this.h = h;
    if (this.mode === 'socket' && this.socketReceiver && this.socket === 'off') this.connectSocket();
  }

  private connectSocket() {
    const client = this.socketReceiver!.client;
    this.socket = 'connecting';
    client.on('connected', () => { this.socket = 'connected'; this.socketError = null; log.info('slack: Socket Mode connected'); });
    client.on('reconnecting', () => { this.socket = 'reconnecting'; });
    client.on('disconnected', (e?: Error) => { if (this.socket !== 'off') { this.socket = 'reconnecting'; if (e) this.socketError = e.message; } });
    this.app.start().catch((e: Error) => {
      this.socket = 'failed';
      this.socketError = e.message;
      this.failure(e, 'apps.connections.open');
      log.error('slack: Socket Mode could not connect', { error: e.message });
    });
  }

  async stop(): Promise<void> {
    if (this.mode === 'socket' && this.socket !== 'off') {
      this.socket = 'off';
      await Promise.race([this.app.stop().catch(() => {}), new Promise((r) => setTimeout(r, 2_000))]);
    }
  }

  // ---------------------------------------------------------------- outbound

  async send(msg: OutgoingMessage, ctx: AdapterContext): Promise<SendResult> {
    const { text, blocks } = alertBlocks(msg.alert);
    let channel: string;
    let what = 'chat.postMessage';
    try {
      if (msg.room) channel = msg.room;
      else if (msg.user?.slack_user_id) channel = msg.user.slack_user_id;
      else if (msg.user?.email) {
        what = 'users.lookupByEmail';
        const r = await this.web.users.lookupByEmail({ email: msg.user.email });
        if (!r.user?.id) return { outcome: 'failed_perm', error: `no Slack user has the email ${msg.user.email}` };
        channel = r.user.id;
        // Remembered on the user: later messages go straight to the DM, and clicks map back to this person.
        await rememberChatId(ctx.sql, msg.user.id, 'slack_user_id', channel);
        what = 'chat.postMessage';
      } else return { outcome: 'failed_perm', error: 'the recipient has no Slack id or email' };
      // A user id as `channel` posts to the bot's DM with that person; Slack answers with the DM's id.
      const r = await this.web.chat.postMessage({ channel, text, blocks, unfurl_links: false, unfurl_media: false });
      this.auth.ok();
      return { outcome: 'sent', providerRef: r.ts!, providerState: { channel: r.channel } };
    } catch (e) {
      return this.failure(e, what, msg.user ? `user ${msg.user.id}` : `channel ${msg.room}`);
    }
  }

  /** A digest as a DM to the person (their Slack id, else looked up by email as `send` does). */
  async sendDigest(user: RecipientUser, digest: DigestView, ctx: AdapterContext): Promise<SendResult> {
    const { text, blocks } = digestBlocks(digest);
    let what = 'chat.postMessage (digest)';
    try {
      let channel = user.slack_user_id;
      if (!channel && user.email) {
        what = 'users.lookupByEmail';
        const r = await this.web.users.lookupByEmail({ email: user.email });
        if (!r.user?.id) return { outcome: 'failed_perm', error: `no Slack user has the email ${user.email}` };
        channel = r.user.id;
        await rememberChatId(ctx.sql, user.id, 'slack_user_id', channel);
        what = 'chat.postMessage (digest)';
      }
      if (!channel) return { outcome: 'failed_perm', error: 'the recipient has no Slack id or email' };
      const r = await this.web.chat.postMessage({ channel, text, blocks, unfurl_links: false, unfurl_media: false });
      this.auth.ok();
      return { outcome: 'sent', providerRef: r.ts! };
    } catch (e) {
      return this.failure(e, what, `user ${user.id}`);
    }
  }

  async update(msg: OutgoingMessage): Promise<SendResult> {
    const state = (msg.providerState ?? {}) as { channel?: string };
    const channel = state.channel ?? msg.room;
    if (!channel || !msg.providerRef) return { outcome: 'failed_perm', error: 'no Slack channel and ts recorded for this message' };
    const { text, blocks } = alertBlocks(msg.alert);
    try {
      await this.web.chat.update({ channel, ts: msg.providerRef, text, blocks });
      this.auth.ok();
      return { outcome: 'sent' };
    } catch (e) {
      return this.failure(e, 'chat.update', `channel ${channel}`);
    }
  }

  /** A note as a reply in the thread of the posted message (thread_ts = the message's ts). */
  async reply(msg: OutgoingMessage, note: NoteToPost): Promise<SendResult> {
    const state = (msg.providerState ?? {}) as { channel?: string };
    const channel = state.channel ?? msg.room;
    if (!channel || !msg.providerRef) return { outcome: 'failed_perm', error: 'no Slack channel and ts recorded for this message' };
    try {
      const r = await this.web.chat.postMessage({ channel, thread_ts: msg.providerRef, text: noteText(note.by, note.text), unfurl_links: false, unfurl_media: false });
      this.auth.ok();
      return { outcome: 'sent', providerRef: r.ts };
    } catch (e) {
      return this.failure(e, 'chat.postMessage (thread reply)', `channel ${channel}`);
    }
  }

  /**
   * A report file to a channel through files.uploadV2 (getUploadURLExternal, the upload, completeUploadExternal).
   * Uploads need a channel id: a channel given by name is resolved by posting the report's summary to it
   * (chat.postMessage accepts names and answers with the id); the file then follows in that channel.
   */
  async sendFile(to: FileRecipient, file: OutgoingFile): Promise<SendResult> {
    if (!('channel' in to)) return { outcome: 'failed_perm', error: 'Slack needs a channel' };
    let channel = to.channel;
    let comment: string | undefined = `*${file.title}*\n${file.text}`;
    try {
      if (!/^[CG][A-Z0-9]+$/.test(channel)) {
        const posted = await this.web.chat.postMessage({ channel: channel.startsWith('#') ? channel : `#${channel}`, text: comment, unfurl_links: false, unfurl_media: false });
        channel = posted.channel!;
        comment = undefined;
      }
      const r = await this.web.filesUploadV2({ channel_id: channel, file: file.data, filename: file.filename, title: file.title, ...(comment ? { initial_comment: comment } : {}) });
      this.auth.ok();
      const f = (r as { files?: Array<{ files?: Array<{ id?: string }> }> }).files?.[0]?.files?.[0];
      return { outcome: 'sent', providerRef: f?.id ?? channel };
    } catch (e) {
      return this.failure(e, 'files.uploadV2', `channel ${to.channel}`);
    }
  }

  /** Names what went wrong as temporary or permanent; auth problems also show in health(). */
  private failure(e: unknown, what: string, target = ''): Extract<SendResult, { outcome: 'failed_temp' | 'failed_perm' }> {
    const err = e as { code?: string; retryAfter?: number; data?: { error?: string; needed?: string }; statusCode?: number; message?: string };
    if (err.code === ErrorCode.RateLimitedError) {
      return { outcome: 'failed_temp', error: `Slack rate limit on ${what}`, retryAfterMs: Math.max(0, (err.retryAfter ?? 1) * 1000) };
    }
    if (err.code === ErrorCode.PlatformError) {
      const code = err.data?.error ?? 'unknown_error';
      if (AUTH_ERRORS.has(code)) {
        const detail = `Slack refused the bot token: ${code}${err.data?.needed ? ` (needs scope ${err.data.needed})` : ''} on ${what}. ` +
          'Reinstall the app or set a valid SLACK_BOT_TOKEN with the scopes in docs/slack-app-manifest.yaml.';
        this.auth.fail(detail);
        return { outcome: 'failed_perm', error: `${code} on ${what}` };
      }
      if (TRANSIENT_ERRORS.has(code)) return { outcome: 'failed_temp', error: `${code} on ${what}` };
      return { outcome: 'failed_perm', error: `${code} on ${what}${target ? ` (${target})` : ''}` };
    }
    if (err.code === ErrorCode.HTTPError && err.statusCode !== undefined && err.statusCode < 500 && err.statusCode !== 408) {
      return { outcome: 'failed_perm', error: `HTTP ${err.statusCode} on ${what}` };
    }
    // Network errors, timeouts, 5xx: try again later.
    return { outcome: 'failed_temp', error: `${err.message ?? String(e)} on ${what}` };
  }

  // ---------------------------------------------------------------- inbound

  private engine(): Herald {
    if (!this.h) throw new Error('the Slack adapter is not attached to the API (no inbound handling in this process)');
    return this.h;
  }

  /** users.info → profile email (needs users:read.email). */
  private emailOf = (slackUserId: string) => async () => {
    try {
      const r = await this.web.users.info({ user: slackUserId });
      return r.user?.profile?.email ?? null;
    } catch (e) {
      // Someone from outside the workspace (Slack Connect) or a deleted account: simply unknown.
      if ((e as { data?: { error?: string } }).data?.error === 'user_not_found') return null;
      throw e;
    }
  };

  private person(userId: string, userName: string | undefined, team: string | undefined): ChatPerson {
    return { provider: 'slack', chatId: userId, displayName: userName || userId, space: team };
  }

  /** After ack(), a failure (database down…) still gets the person an answer instead of silence. */
  private async answerFailure(respond: RespondFn, e: unknown, what: string) {
    log.error(`slack: ${what} failed`, { error: (e as Error).message });
    await respond({ response_type: 'ephemeral', replace_original: false, text: ':warning: Herald could not finish that just now. Check the alert in Herald, and try again in a moment.' })
      .catch(() => {});
  }

  private async onClick(args: { ack: AckFn<void>; body: BlockAction; action: ButtonAction; respond: RespondFn; context: { retryNum?: number } }) {
    await args.ack();
    await this.click(args).catch((e) => this.answerFailure(args.respond, e, 'a click'));
  }

  private async click({ body, action, respond, context }: { body: BlockAction; action: ButtonAction; respond: RespondFn; context: { retryNum?: number } }) {
    const verb = CLICK_ACTIONS[action.action_id];
    // Open is a link button: Slack still reports the click; there is nothing to do.
    if (!verb) return;
    const h = this.engine();
    const alertId = Number(action.value);
    if (!Number.isSafeInteger(alertId) || alertId <= 0) return;
    const claimKey = `action:${body.trigger_id || `${action.action_ts}:${body.user.id}`}`;
    const person = this.person(body.user.id, body.user.username ?? body.user.name, body.team?.domain);
    const pressed = await pressButton(h, { person, claimKey, alertId, action: verb, minutes: SNOOZE_BUTTON_MINUTES, emailOf: this.emailOf(body.user.id) });
    if (pressed.kind === 'duplicate') {
      log.info('slack: repeated delivery of a click ignored', { key: claimKey, retry: context.retryNum ?? null });
      return;
    }
    if (pressed.kind !== 'acted') {
      const r = slackReply(pressed.outcome);
      await respond({ response_type: 'ephemeral', replace_original: false, text: r.text, blocks: r.blocks });
      return;
    }
    const { outcome, actor } = pressed;
    // The clicked message changes now; every other message of the alert follows through the engine's
    // message__update jobs (queued in the verb's transaction).
    const inList = action.block_id?.startsWith('herald_list_') || (body as { container?: { is_ephemeral?: boolean } }).container?.is_ephemeral;
    const next = inList ? alertListBlocks(await myOpenAlerts(h, actor)) : alertBlocks(outcome.alert);
    await respond({ replace_original: true, text: next.text, blocks: next.blocks });
  }

  private async onCommand(args: { ack: AckFn<string | object>; command: SlashCommand; respond: RespondFn }) {
    await args.ack();
    await this.command(args).catch((e) => this.answerFailure(args.respond, e, '/herald'));
  }

  private async command({ command, respond }: { command: SlashCommand; respond: RespondFn }) {
    const h = this.engine();
    if (!(await claimInteraction(h.sql, CHAT_ORG_ID, 'slack', `command:${command.trigger_id}`))) return;
    const parsed: ChatCommand = parseCommandText(command.text ?? '');
    const person = this.person(command.user_id, command.user_name, command.team_domain);
    const user = await identify(h, 'slack', command.user_id, parsed.cmd === 'help' ? undefined : this.emailOf(command.user_id));
    const outcome = await runCommand(h, person, user, parsed);
    const r = slackReply(outcome);
    await respond({ response_type: 'ephemeral', text: r.text, blocks: r.blocks });
  }
}

export function createSlackAdapter(config: Config): SlackAdapter {
  return new SlackAdapter(config);
}
