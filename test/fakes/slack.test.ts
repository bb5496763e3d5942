import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { App, isValidSlackRequest, LogLevel } from '@slack/bolt';
import { ErrorCode, WebClient } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertBlocks } from '../../bot/slack/blocks';
import { startFakeSlack, type FakeSlack } from './slack';
import { blockActionsJson, blockActionsPayload, signSlackRequest, SLACK_FORM_CONTENT_TYPE, slashCommandBody } from './slack-sign';
import { acknowledged, makeAlert, NOW } from './slack-fixtures';

let fake: FakeSlack;
beforeEach(async () => {
  fake = await startFakeSlack({ token: 'xoxb-test' });
});
afterEach(async () => {
  await fake.close();
});

const noop = () => {};
/** The WebClient logs Slack's `[ERROR]` response messages; the tests check them instead. */
const silent = { debug: noop, info: noop, warn: noop, error: noop, setLevel: noop, getLevel: () => LogLevel.ERROR, setName: noop };
const client = (opts: ConstructorParameters<typeof WebClient>[1] = {}) =>
  new WebClient('xoxb-test', { slackApiUrl: fake.url, retryConfig: { retries: 0 }, logger: silent, ...opts });

describe('fake Slack Web API with the real WebClient', () => {
  it('listens on 127.0.0.1 and exposes an /api/ base', () => {
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/$/);
  });

  it('posts a rendered alert to a user (landing in their DM) and edits it in place', async () => {
    const web = client();
    const first = alertBlocks(makeAlert(), { now: NOW });
    const posted = await web.chat.postMessage({ channel: 'U0ANA', text: first.text, blocks: first.blocks });
    expect(posted.ok).toBe(true);
    expect(posted.channel).toMatch(/^D[A-Z0-9]+$/);
    expect(posted.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(posted.message?.bot_id).toBeTruthy();

    const call = fake.callsOf('chat.postMessage')[0];
    expect(call.token).toBe('xoxb-test');
    expect(call.body.channel).toBe('U0ANA');
    expect(call.body.blocks).toEqual(JSON.parse(JSON.stringify(first.blocks))); // form field decoded back to JSON

    const second = await web.chat.postMessage({ channel: 'C0ALERTS', text: 'another' });
    expect(second.ts).not.toBe(posted.ts);
    expect(second.channel).toBe('C0ALERTS');
    const byName = await web.chat.postMessage({ channel: '#finance-alerts', text: 'by name' });
    expect(byName.channel).toMatch(/^C/);
    expect(fake.channelIdOf('#finance-alerts')).toBe(byName.channel);

    const next = alertBlocks(acknowledged(), { now: NOW });
    const updated = await web.chat.update({ channel: posted.channel!, ts: posted.ts!, text: next.text, blocks: next.blocks });
    expect(updated).toMatchObject({ ok: true, channel: posted.channel, ts: posted.ts });
    const stored = fake.message(posted.channel!, posted.ts!)!;
    expect(stored.edits).toBe(1);
    expect(stored.text).toContain('Acknowledged by Ana');
    expect(stored.blocks).toEqual(JSON.parse(JSON.stringify(next.blocks)));
    expect(fake.dmChannelOf('U0ANA')).toBe(posted.channel);
  });

  it('refuses to update what was never posted, or a user id instead of the DM channel', async () => {
    const web = client();
    const posted = await web.chat.postMessage({ channel: 'U0ANA', text: 'hi' });
    await expect(web.chat.update({ channel: posted.channel!, ts: '1.000001', text: 'x' })).rejects.toMatchObject({
      code: ErrorCode.PlatformError,
      data: { ok: false, error: 'message_not_found' },
    });
    await expect(web.chat.update({ channel: 'U0ANA', ts: posted.ts!, text: 'x' })).rejects.toMatchObject({
      data: { error: 'channel_not_found' },
    });
  });

  it('surfaces a 429 with Retry-After as a rate-limit error when told not to wait', async () => {
    const web = client({ rejectRateLimitedCalls: true });
    fake.rateLimitNext('chat.postMessage', 7);
    const err: any = await web.chat.postMessage({ channel: 'C0ALERTS', text: 'hi' }).catch((e) => e);
    expect(err.code).toBe(ErrorCode.RateLimitedError);
    expect(err.retryAfter).toBe(7);
    expect(fake.callsOf('chat.postMessage')[0]).toMatchObject({ status: 429, response: { ok: false, error: 'ratelimited' } });
    // Only the next call was limited.
    await expect(web.chat.postMessage({ channel: 'C0ALERTS', text: 'hi' })).resolves.toMatchObject({ ok: true });
  });

  it('lets a client that waits retry after the limit', async () => {
    const web = client({ retryConfig: { retries: 1, minTimeout: 0, maxTimeout: 0 } });
    fake.rateLimitNext('chat.update', 0);
    const posted = await web.chat.postMessage({ channel: 'C0ALERTS', text: 'hi' });
    await expect(web.chat.update({ channel: 'C0ALERTS', ts: posted.ts!, text: 'edited' })).resolves.toMatchObject({ ok: true });
    expect(fake.callsOf('chat.update').map((c) => c.status)).toEqual([429, 200]);
  });

  it('fails the next call with the error asked for, and checks the token', async () => {
    fake.failNext('chat.postMessage', 'missing_scope', { needed: 'chat:write', provided: 'users:read' });
    await expect(client().chat.postMessage({ channel: 'C0ALERTS', text: 'hi' })).rejects.toMatchObject({
      data: { ok: false, error: 'missing_scope', needed: 'chat:write' },
    });
    const wrong = new WebClient('xoxb-wrong', { slackApiUrl: fake.url, retryConfig: { retries: 0 }, logLevel: LogLevel.ERROR });
    await expect(wrong.auth.test()).rejects.toMatchObject({ data: { error: 'invalid_auth' } });
    const none = new WebClient(undefined, { slackApiUrl: fake.url, retryConfig: { retries: 0 }, logLevel: LogLevel.ERROR });
    await expect(none.auth.test()).rejects.toMatchObject({ data: { error: 'not_authed' } });
    fake.failNext('auth.test', 'invalid_auth');
    await expect(client().auth.test()).rejects.toMatchObject({ data: { error: 'invalid_auth' } });
    await expect(client().auth.test()).resolves.toMatchObject({ ok: true, team_id: 'T0HERALD1', user_id: 'U0HERALDBOT', bot_id: 'B0HERALDBOT' });
  });

  it('rejects blocks Slack would reject', async () => {
    const blocks = Array.from({ length: 51 }, (_, i) => ({ type: 'section', text: { type: 'mrkdwn', text: `b${i}` } }));
    const err: any = await client().chat.postMessage({ channel: 'C0ALERTS', text: 'x', blocks: blocks as any }).catch((e) => e);
    expect(err.data.error).toBe('invalid_blocks');
    expect(err.data.errors).toContain('no more than 50 items allowed [json-pointer:/blocks]');
    const header = [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }];
    await expect(client().chat.postMessage({ channel: 'C0ALERTS', text: 'x', blocks: header as any })).rejects.toMatchObject({
      data: { error: 'invalid_blocks', errors: ['must be less than 151 characters [json-pointer:/blocks/0/text/text]'] },
    });
    await expect(client().chat.postMessage({ channel: 'C0ALERTS' } as any)).rejects.toMatchObject({ data: { error: 'no_text' } });
  });

  it('looks users up by email in a configurable directory', async () => {
    fake.addUser('ana@example.com', 'U0ANA');
    const r = await client().users.lookupByEmail({ email: 'Ana@Example.com' });
    expect(r.user).toMatchObject({ id: 'U0ANA', team_id: 'T0HERALD1', profile: { email: 'Ana@Example.com' } });
    await expect(client().users.lookupByEmail({ email: 'nobody@example.com' })).rejects.toMatchObject({
      data: { ok: false, error: 'users_not_found' },
    });
  });

  it('opens DMs and posts ephemeral messages', async () => {
    const web = client();
    const opened = await web.conversations.open({ users: 'U0BO' });
    expect(opened.channel?.id).toMatch(/^D/);
    expect(opened.already_open).toBe(false);
    const again = await web.conversations.open({ users: 'U0BO' });
    expect(again).toMatchObject({ already_open: true, channel: { id: opened.channel?.id } });
    const posted = await web.chat.postMessage({ channel: 'U0BO', text: 'hi' });
    expect(posted.channel).toBe(opened.channel?.id);
    const eph = await web.chat.postEphemeral({ channel: 'C0ALERTS', user: 'U0BO', text: 'only you' });
    expect(eph.message_ts).toMatch(/^\d{10}\.\d{6}$/);
  });

  it('accepts JSON bodies as well as form bodies', async () => {
    const res = await fetch(`${fake.url}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: 'Bearer xoxb-test' },
      body: JSON.stringify({ channel: 'C0ALERTS', text: 'json', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'hi' } }] }),
    });
    expect(await res.json()).toMatchObject({ ok: true, channel: 'C0ALERTS' });
    expect(fake.callsOf('chat.postMessage')[0].body.blocks[0].text.text).toBe('hi');
  });

  it('records POSTs to response URLs (at most 5 uses each)', async () => {
    const url = fake.responseUrl();
    expect(url.startsWith(fake.origin)).toBe(true);
    for (let i = 0; i < 5; i++) {
      const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: `r${i}`, replace_original: false }) });
      expect(r.status).toBe(200);
    }
    const sixth = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"r5"}' });
    expect(sixth.status).toBe(404);
    expect(await sixth.json()).toEqual({ ok: false, error: 'used_url' });
    expect(fake.callsOf('response_url').map((c) => c.body.text)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
    const unknown = await fetch(`${fake.origin}/response/T0/1/nope`, { method: 'POST', body: '{}' });
    expect(unknown.status).toBe(404);
  });

  it('waits for calls already made or still to come, and times out naming what it saw', async () => {
    const web = client();
    await web.auth.test();
    await expect(fake.waitForCall('auth.test')).resolves.toMatchObject({ method: 'auth.test' });
    const pending = fake.waitForCall('chat.postMessage', (c) => c.body.text === 'second');
    await web.chat.postMessage({ channel: 'C0ALERTS', text: 'first' });
    await web.chat.postMessage({ channel: 'C0ALERTS', text: 'second' });
    expect((await pending).body.text).toBe('second');
    await expect(fake.waitForCall('chat.update', undefined, 50)).rejects.toThrow(/no chat.update call.*auth\.test, chat\.postMessage/);
  });

  it('lets a test answer a method itself', async () => {
    fake.respondWith('chat.postMessage', (body) => ({ ok: false, error: 'is_archived', channel: body.channel }));
    await expect(client().chat.postMessage({ channel: 'C0OLD', text: 'x' })).rejects.toMatchObject({ data: { error: 'is_archived', channel: 'C0OLD' } });
    fake.respondWith('chat.postMessage', null);
    await expect(client().chat.postMessage({ channel: 'C0OLD', text: 'x' })).resolves.toMatchObject({ ok: true });
  });
});

describe('signed inbound Slack requests', () => {
  it('matches the worked example in Slack’s documentation', () => {
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(signSlackRequest('8f742231b10e8888abcd99yyyzzz85a5', body, 1531420618)).toEqual({
      'X-Slack-Signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
      'X-Slack-Request-Timestamp': '1531420618',
    });
  });

  it('is accepted by Bolt’s own verifier, and a tampered body is not', () => {
    const body = slashCommandBody({ userId: 'U0ANA', text: 'ack 42', responseUrl: fake.responseUrl() });
    const h = signSlackRequest('shh', body);
    const headers = { 'x-slack-signature': h['X-Slack-Signature'], 'x-slack-request-timestamp': Number(h['X-Slack-Request-Timestamp']) };
    expect(isValidSlackRequest({ signingSecret: 'shh', body, headers })).toBe(true);
    expect(isValidSlackRequest({ signingSecret: 'shh', body: body.replace('ack', 'resolve'), headers })).toBe(false);
    expect(isValidSlackRequest({ signingSecret: 'other', body, headers })).toBe(false);
  });

  it('builds the real slash-command fields and block_actions payload', () => {
    const params = new URLSearchParams(slashCommandBody({ userId: 'U0ANA', text: 'snooze 42 30', responseUrl: 'http://127.0.0.1:1/r' }));
    expect([...params.keys()]).toEqual([
      'token', 'team_id', 'team_domain', 'channel_id', 'channel_name', 'user_id', 'user_name', 'command', 'text', 'api_app_id',
      'is_enterprise_install', 'response_url', 'trigger_id',
    ]);
    expect(params.get('command')).toBe('/herald');
    expect(params.get('text')).toBe('snooze 42 30');

    const form = new URLSearchParams(
      blockActionsPayload({ userId: 'U0ANA', teamId: 'T1', actionId: 'herald_ack', value: '42', channelId: 'D0ANA', messageTs: '1700000000.000100', responseUrl: 'http://127.0.0.1:1/r' }),
    );
    expect([...form.keys()]).toEqual(['payload']);
    const p = JSON.parse(form.get('payload')!);
    expect(p).toMatchObject({
      type: 'block_actions',
      user: { id: 'U0ANA', team_id: 'T1' },
      team: { id: 'T1' },
      container: { type: 'message', message_ts: '1700000000.000100', channel_id: 'D0ANA' },
      channel: { id: 'D0ANA' },
      message: { ts: '1700000000.000100' },
      response_url: 'http://127.0.0.1:1/r',
      actions: [{ type: 'button', action_id: 'herald_ack', value: '42' }],
    });
    expect(p.trigger_id).toMatch(/^\d+\.\d+\.[0-9a-f]{32}$/);
  });
});

describe('real Bolt app against the fake and the signed payloads', () => {
  let app: App;
  let server: Server;
  afterEach(async () => {
    await app?.stop();
  });

  it('routes a signed button click and a slash command to listeners, whose respond() reaches the fake', async () => {
    const seen: string[] = [];
    app = new App({ token: 'xoxb-test', signingSecret: 'shh', clientOptions: { slackApiUrl: fake.url }, logLevel: LogLevel.ERROR });
    app.action('herald_ack', async ({ ack, body, action, respond }) => {
      await ack();
      seen.push(`${body.user.id}:${(action as any).value}`);
      await respond({ text: 'Acknowledged #42', replace_original: false });
    });
    app.command('/herald', async ({ ack, command }) => {
      await ack({ text: `got ${command.text}` } as any);
      seen.push(`${command.user_id}:${command.text}`);
    });
    server = (await app.start({ port: 0, host: '127.0.0.1' })) as Server;
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
    const post = (body: string) =>
      fetch(endpoint, { method: 'POST', headers: { 'content-type': SLACK_FORM_CONTENT_TYPE, ...signSlackRequest('shh', body) }, body });

    const responseUrl = fake.responseUrl();
    const click = blockActionsPayload({ userId: 'U0ANA', actionId: 'herald_ack', value: '42', channelId: 'D0ANA', messageTs: '1700000000.000100', responseUrl });
    expect((await post(click)).status).toBe(200);
    const responded = await fake.waitForCall('response_url');
    expect(responded.body).toMatchObject({ text: 'Acknowledged #42', replace_original: false });

    const cmd = await post(slashCommandBody({ userId: 'U0ANA', text: 'ack 42', responseUrl: fake.responseUrl() }));
    expect(cmd.status).toBe(200);
    expect(await cmd.json()).toMatchObject({ text: 'got ack 42' });
    expect(seen).toEqual(['U0ANA:42', 'U0ANA:ack 42']);

    // A wrong signature never reaches a listener.
    const forged = await fetch(endpoint, { method: 'POST', headers: { 'content-type': SLACK_FORM_CONTENT_TYPE, ...signSlackRequest('wrong', click) }, body: click });
    expect(forged.status).toBe(401);
    expect(seen).toHaveLength(2);
    expect(blockActionsJson({ userId: 'U', actionId: 'a', channelId: 'C', messageTs: '1.2', responseUrl: 'x' }).type).toBe('block_actions');
  });
});
