import { DiscordAPIError, RateLimitError, REST } from '@discordjs/rest';
import { Routes, type APIMessage, type RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertMessage, heraldCommandDefinition, parseCustomId } from '../../bot/discord/render';
import { verifyDiscordSignature } from '../../bot/discord/verify';
import { INTERACTION_CHANNEL, startFakeDiscord, type FakeDiscord } from './discord';
import {
  applicationCommandInteraction,
  componentInteraction,
  DEFAULT_APPLICATION_ID,
  discordKeyPair,
  pingInteraction,
  signDiscordRequest,
} from './discord-sign';
import { acknowledged, makeAlert, NOW, resolved } from './slack-fixtures';

const CHANNEL = '1300000000000000003';
const ANA = '300000000000000001';

let fake: FakeDiscord;
let rest: REST;
beforeEach(async () => {
  fake = await startFakeDiscord({ token: 'x' });
  rest = new REST({ api: fake.api, retries: 0, offset: 0 }).setToken('x');
});
afterEach(async () => {
  rest.clearHashSweeper();
  rest.clearHandlerSweeper();
  await fake.close();
});

describe('fake Discord REST with the real @discordjs/rest client', () => {
  it('listens on 127.0.0.1 under /api', () => {
    expect(fake.api).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api$/);
  });

  it('posts a rendered alert and edits it in place', async () => {
    const body = alertMessage(makeAlert(), [ANA], { now: NOW });
    const posted = (await rest.post(Routes.channelMessages(CHANNEL), { body })) as APIMessage;
    expect(posted.id).toMatch(/^\d{17,20}$/);
    expect(posted).toMatchObject({ channel_id: CHANNEL, content: `<@${ANA}>`, author: { bot: true } });
    expect(BigInt(posted.id) >> 22n).toBeGreaterThan(0n); // a time-based snowflake

    const call = fake.callsOf('POST', /\/channels\/\d+\/messages$/)[0];
    expect(call.path).toBe(`/v10/channels/${CHANNEL}/messages`);
    expect(call.token).toBe('x');
    expect(call.body).toEqual(JSON.parse(JSON.stringify(body)));

    const again = (await rest.post(Routes.channelMessages(CHANNEL), { body })) as APIMessage;
    expect(again.id).not.toBe(posted.id);

    const edit = alertMessage(acknowledged(), [ANA], { now: NOW });
    const edited = (await rest.patch(Routes.channelMessage(CHANNEL, posted.id), { body: edit })) as APIMessage;
    expect(edited.id).toBe(posted.id);
    expect(edited.edited_timestamp).not.toBeNull();
    const stored = fake.message(CHANNEL, posted.id)!;
    expect(stored.edits).toBe(1);
    expect(stored.embeds[0].footer.text).toContain('Acknowledged by Ana');
    expect(stored.components[0].components.map((b: any) => b.custom_id ?? 'link')).toEqual(['herald:resolve:42', 'link']);

    // Resolved: the edit's empty components array removes the buttons but the link.
    await rest.patch(Routes.channelMessage(CHANNEL, posted.id), { body: alertMessage(resolved(), [], { now: NOW }) });
    expect(fake.message(CHANNEL, posted.id)!.components[0].components).toHaveLength(1);
    await expect(fake.waitForCall('PATCH', /\/messages\/\d+$/)).resolves.toMatchObject({ status: 200 });
  });

  it('answers Discord errors: unknown message, invalid form body, empty message, bad token', async () => {
    const unknown = await rest.patch(Routes.channelMessage(CHANNEL, '1'), { body: { content: 'x' } }).catch((e) => e);
    expect(unknown).toBeInstanceOf(DiscordAPIError);
    expect(unknown).toMatchObject({ status: 404, code: 10008 });

    const long: any = await rest.post(Routes.channelMessages(CHANNEL), { body: { content: 'x'.repeat(2001) } }).catch((e) => e);
    expect(long).toMatchObject({ status: 400, code: 50035 });
    expect(long.rawError.errors.content._errors[0].code).toBe('BASE_TYPE_MAX_LENGTH');

    const empty = await rest.post(Routes.channelMessages(CHANNEL), { body: {} }).catch((e) => e);
    expect(empty).toMatchObject({ status: 400, code: 50006 });

    const wrong = new REST({ api: fake.api, retries: 0 }).setToken('nope');
    await expect(wrong.post(Routes.channelMessages(CHANNEL), { body: { content: 'x' } })).rejects.toMatchObject({ status: 401 });
    wrong.clearHashSweeper();
    wrong.clearHandlerSweeper();
  });

  it('rate limits with Discord’s 429 shape and headers; the client waits and retries', async () => {
    fake.rateLimitNext(0.05);
    const body: RESTPostAPIChannelMessageJSONBody = { content: 'after the limit' };
    const posted = (await rest.post(Routes.channelMessages(CHANNEL), { body })) as APIMessage;
    expect(posted.content).toBe('after the limit');
    const [limited, ok] = fake.callsOf('POST', /messages$/);
    expect(limited.status).toBe(429);
    expect(limited.response).toEqual({ message: 'You are being rate limited.', retry_after: 0.05, global: false });
    expect(ok.status).toBe(200);
    expect(ok.at - limited.at).toBeGreaterThanOrEqual(40);

    const raw = await (async () => {
      fake.rateLimitNext(2, { global: true });
      return fetch(`${fake.api}/v10/channels/${CHANNEL}/messages`, { method: 'POST', headers: { authorization: 'Bot x', 'content-type': 'application/json' }, body: '{"content":"x"}' });
    })();
    expect(raw.status).toBe(429);
    expect(raw.headers.get('retry-after')).toBe('2');
    expect(raw.headers.get('x-ratelimit-global')).toBe('true');
    expect(raw.headers.get('x-ratelimit-scope')).toBe('global');
    expect(await raw.json()).toEqual({ message: 'You are being rate limited.', retry_after: 2, global: true });
  });

  it('surfaces the limit when the client is told to reject on rate limits', async () => {
    const strict = new REST({ api: fake.api, retries: 0, rejectOnRateLimit: () => true }).setToken('x');
    fake.rateLimitNext(3, { method: 'PATCH' });
    const posted = (await strict.post(Routes.channelMessages(CHANNEL), { body: { content: 'x' } })) as APIMessage;
    const err: any = await strict.patch(Routes.channelMessage(CHANNEL, posted.id), { body: { content: 'y' } }).catch((e) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err.retryAfter).toBeGreaterThanOrEqual(3000);
    strict.clearHashSweeper();
    strict.clearHandlerSweeper();
  });

  it('registers the /herald command globally and per guild (bulk overwrite keeps ids)', async () => {
    const def = heraldCommandDefinition();
    const [global] = (await rest.put(Routes.applicationCommands(DEFAULT_APPLICATION_ID), { body: [def] })) as any[];
    expect(global).toMatchObject({ name: 'herald', application_id: DEFAULT_APPLICATION_ID, type: 1 });
    const [again] = (await rest.put(Routes.applicationCommands(DEFAULT_APPLICATION_ID), { body: [def] })) as any[];
    expect(again.id).toBe(global.id);
    await rest.put(Routes.applicationGuildCommands(DEFAULT_APPLICATION_ID, '1200000000000000002'), { body: [def] });
    expect(fake.commands('1200000000000000002')[0]).toMatchObject({ name: 'herald', guild_id: '1200000000000000002' });
    expect(fake.commands()[0].options.map((o: any) => o.name)).toEqual(['list', 'ack', 'resolve', 'snooze', 'oncall', 'link', 'help']);
    const bad = await rest.put(Routes.applicationCommands(DEFAULT_APPLICATION_ID), { body: [{ name: 'Bad Name', description: 'x' }] }).catch((e) => e);
    expect(bad).toMatchObject({ status: 400, code: 50035 });
  });

  it('takes one interaction callback, then follow-ups and edits of the original', async () => {
    const i = componentInteraction({ userId: ANA, customId: 'herald:ack:42', messageId: '1500000000000000005', channelId: CHANNEL });
    await rest.post(Routes.interactionCallback(i.id, i.token), { body: { type: 5 }, auth: false });
    const twice = await rest.post(Routes.interactionCallback(i.id, i.token), { body: { type: 6 }, auth: false }).catch((e) => e);
    expect(twice).toMatchObject({ status: 400, code: 40060 });

    const follow = (await rest.post(Routes.webhook(DEFAULT_APPLICATION_ID, i.token), { body: { content: 'Acknowledged #42', flags: 64 }, auth: false })) as APIMessage;
    expect(follow).toMatchObject({ content: 'Acknowledged #42', webhook_id: DEFAULT_APPLICATION_ID });
    await rest.patch(Routes.webhookMessage(DEFAULT_APPLICATION_ID, i.token, '@original'), { body: { content: 'done' }, auth: false });
    const original = fake.callsOf('POST', /callback$/)[0];
    expect(original.status).toBe(204);
    expect(fake.calls.filter((c) => c.path.includes('@original'))[0].status).toBe(200);
    expect([...fake.calls].reverse()[0].response.content).toBe('done');

    const stranger = await rest.post(Routes.webhook(DEFAULT_APPLICATION_ID, 'never-answered'), { body: { content: 'x' }, auth: false }).catch((e) => e);
    expect(stranger).toMatchObject({ status: 404, code: 10015 });
    // `?with_response=true` returns the callback resource instead of 204.
    const j = componentInteraction({ userId: ANA, customId: 'herald:resolve:42', messageId: '1500000000000000005' });
    const withResponse = await fetch(`${fake.api}/v10/interactions/${j.id}/${j.token}/callback?with_response=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 4, data: { content: 'Resolved #42', flags: 64 } }),
    });
    expect(withResponse.status).toBe(200);
    expect(await withResponse.json()).toMatchObject({
      interaction: { id: j.id, response_message_ephemeral: true },
      resource: { type: 4, message: { content: 'Resolved #42', channel_id: INTERACTION_CHANNEL } },
    });
  });

  it('waits for calls and times out naming what it saw', async () => {
    const pending = fake.waitForCall('PATCH', /\/messages\/\d+$/, 2000);
    const posted = (await rest.post(Routes.channelMessages(CHANNEL), { body: { content: 'x' } })) as APIMessage;
    await rest.patch(Routes.channelMessage(CHANNEL, posted.id), { body: { content: 'y' } });
    await expect(pending).resolves.toMatchObject({ method: 'PATCH', body: { content: 'y' } });
    await expect(fake.waitForCall('PUT', /commands/, 50)).rejects.toThrow(/no PUT .*POST \/v10\/channels/);
  });
});

describe('signed Discord interactions', () => {
  const keys = discordKeyPair();

  it('PING, component and command payloads have Discord’s shapes and verify with our verifier', () => {
    const ping = pingInteraction();
    expect(ping).toMatchObject({ type: 1, version: 1, application_id: DEFAULT_APPLICATION_ID });

    const click = componentInteraction({ userId: ANA, customId: 'herald:snooze:42', messageId: '1500000000000000005', channelId: CHANNEL });
    expect(click).toMatchObject({
      type: 3,
      application_id: DEFAULT_APPLICATION_ID,
      channel_id: CHANNEL,
      data: { custom_id: 'herald:snooze:42', component_type: 2 },
      member: { user: { id: ANA } },
      message: { id: '1500000000000000005', channel_id: CHANNEL },
    });
    expect(click.token.length).toBeGreaterThan(100);
    expect(parseCustomId(click.data.custom_id)).toEqual({ action: 'snooze', alertId: 42 });

    const dm = componentInteraction({ userId: ANA, customId: 'herald:ack:1', messageId: '1', guildId: null });
    expect(dm.user?.id).toBe(ANA);
    expect('member' in dm).toBe(false);

    const cmd = applicationCommandInteraction({ userId: ANA, subcommand: 'snooze', options: { id: 42, minutes: 30 } });
    expect(cmd).toMatchObject({
      type: 2,
      data: { name: 'herald', type: 1, options: [{ name: 'snooze', type: 1, options: [{ name: 'id', type: 4, value: 42 }, { name: 'minutes', type: 4, value: 30 }] }] },
    });
    const oncall = applicationCommandInteraction({ userId: ANA, subcommand: 'oncall', options: { role: 'accounting' } });
    expect((oncall.data.options![0] as any).options[0]).toEqual({ name: 'role', type: 3, value: 'accounting' });

    for (const payload of [ping, click, cmd]) {
      const raw = JSON.stringify(payload);
      const h = signDiscordRequest(keys.privateKey, raw);
      expect(h['X-Signature-Timestamp']).toMatch(/^\d{10}$/);
      expect(verifyDiscordSignature(keys.publicKeyHex, h['X-Signature-Ed25519'], h['X-Signature-Timestamp'], raw)).toBe(true);
    }
  });
});
