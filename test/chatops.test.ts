// Chat-ops stories: a real Herald with the real Slack (Bolt, WebClient) and Discord (@discordjs/rest) SDKs
// pointed at local fake provider APIs; inbound requests signed exactly as Slack and Discord sign them, in
// the providers' payload shapes.
import { escalationKey } from '../db/jobs/catalog';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from './harness';
import { startFakeSlack, type FakeSlack, type FakeSlackCall } from './fakes/slack';
import { blockActionsPayload, signSlackRequest, SLACK_FORM_CONTENT_TYPE, slashCommandBody } from './fakes/slack-sign';
import { startFakeDiscord, type FakeDiscord } from './fakes/discord';
import {
  applicationCommandInteraction, componentInteraction, DEFAULT_APPLICATION_ID, DEFAULT_GUILD_ID, discordKeyPair, pingInteraction, signDiscordRequest,
  type DiscordKeyPair,
} from './fakes/discord-sign';

const SLACK_SECRET = 'slack-signing-secret-for-tests';
const SLACK_TOKEN = 'xoxb-test';
const DISCORD_TOKEN = 'discord-bot-token';
const ROOM = '1300000000000000003';
const ANA_SLACK = 'U0ANA';
const ANA_DISCORD = '300000000000000001';

let h: TestHerald;
let slack: FakeSlack;
let discord: FakeDiscord;
let keys: DiscordKeyPair;
let ana: number;

const rule = {
  name: 'Overdue invoices', position: 10,
  match: { category: 'finance', type: 'invoice_overdue' },
  targets: { roles: ['accounting'] }, channels: ['in_app', 'slack', 'discord'], priority: 'high',
  escalation: { steps: [{ after_minutes: 60, roles: ['admin'] }], repeat: 0 },
  slack_channel: '#finance-alerts', discord_channel: ROOM,
  sop: { title: 'Chase the invoice', steps: ['Call the customer'] },
};

beforeAll(async () => {
  slack = await startFakeSlack({ token: SLACK_TOKEN });
  discord = await startFakeDiscord({ token: DISCORD_TOKEN });
  keys = discordKeyPair();
  h = await startTestHerald({
    SLACK_BOT_TOKEN: SLACK_TOKEN, SLACK_SIGNING_SECRET: SLACK_SECRET, SLACK_API_URL: slack.url,
    DISCORD_BOT_TOKEN: DISCORD_TOKEN, DISCORD_APPLICATION_ID: DEFAULT_APPLICATION_ID, DISCORD_PUBLIC_KEY: keys.publicKeyHex,
    DISCORD_API_URL: discord.api, DISCORD_GUILD_ID: DEFAULT_GUILD_ID,
  });
  ana = (await h.api('POST', '/v1/users', { name: 'Ana Accountant', email: 'ana@example.com', roles: ['accounting'], slack_user_id: ANA_SLACK, discord_user_id: ANA_DISCORD })).body.id;
  await h.api('POST', '/v1/users', { name: 'Bob Books', email: 'bob@example.com', roles: ['office'] });
  expect((await h.api('POST', '/v1/rules', rule)).status).toBe(201);
});
afterAll(async () => {
  await h?.stop();
  await slack?.close();
  await discord?.close();
});

// ---------------------------------------------------------------- helpers

let seq = 0;
async function raiseAlert(title = 'Invoice overdue'): Promise<number> {
  const ev = await h.api('POST', '/v1/events', { category: 'finance', type: 'invoice_overdue', title, severity: 'error', entity: { kind: 'invoice', id: `inv-${++seq}-${Date.now()}` } });
  expect(ev.status).toBe(202);
  const routed = await h.eventually(async () => { const e = await h.api('GET', `/v1/events/${ev.body.event_id}`); return e.body.alert_id && e.body; });
  return routed.alert_id;
}

interface Posted { id: number; recipient: string; channel: string; status: string; provider_ref: string | null; provider_state: any }
/** Waits until the alert's Slack DM, Slack channel post and Discord channel post are sent. */
async function postedMessages(alertId: number) {
  const rows = await h.eventually(async () => {
    const r = await h.sql<Posted[]>`select id, recipient, channel, status, provider_ref, provider_state from messages where alert_id = ${alertId} and channel in ('slack', 'discord') order by id`;
    return r.length === 4 && r.every((m) => m.status === 'sent') && r;
  });
  const find = (channel: string, recipient: string) => rows.find((m) => m.channel === channel && m.recipient === recipient)!;
  return {
    dm: find('slack', `user:${ana}`),
    slackRoom: find('slack', 'room:#finance-alerts'),
    discordRoom: find('discord', `room:${ROOM}`),
    discordAna: find('discord', `user:${ana}`),
  };
}

function slackPost(body: string, opts: { secret?: string; headers?: Record<string, string>; timestamp?: number } = {}) {
  const sig = signSlackRequest(opts.secret ?? SLACK_SECRET, body, opts.timestamp);
  return fetch(`${h.url}/slack/events`, { method: 'POST', headers: { 'content-type': SLACK_FORM_CONTENT_TYPE, ...sig, ...(opts.headers ?? {}) }, body });
}

async function discordPost(interaction: unknown, opts: { badSignature?: boolean; timestamp?: number } = {}) {
  const raw = JSON.stringify(interaction);
  const sig = signDiscordRequest(opts.badSignature ? discordKeyPair().privateKey : keys.privateKey, raw, opts.timestamp);
  const res = await fetch(`${h.url}/discord/interactions`, { method: 'POST', headers: { 'content-type': 'application/json', ...sig }, body: raw });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** The answer Herald POSTed to a response_url the fake handed out. */
const responsesTo = (url: string) => slack.callsOf('response_url').filter((c) => c.path === new URL(url).pathname);
const waitForResponse = (url: string, ms = 5000) => slack.waitForCall('response_url', (c) => c.path === new URL(url).pathname, ms);
const blocksText = (c: FakeSlackCall) => JSON.stringify(c.body.blocks ?? []) + (c.body.text ?? '');
const timelineKinds = async (alertId: number) => (await h.sql<{ kind: string }[]>`select kind from alert_timeline where alert_id = ${alertId} order by id`).map((r) => r.kind);
const alertRow = async (alertId: number) => (await h.sql`select * from alerts where id = ${alertId}`)[0];

function command(text: string, userId = ANA_SLACK) {
  const responseUrl = slack.responseUrl();
  return { responseUrl, body: slashCommandBody({ userId, text, responseUrl }) };
}

// ---------------------------------------------------------------- the incident

describe('an overdue invoice handled from Slack', () => {
  it('reaches a Slack DM, a Slack channel and a Discord channel; one click acknowledges it everywhere, once', async () => {
    const alertId = await raiseAlert('Invoice 1042 overdue 30d');
    const m = await postedMessages(alertId);

    // Slack: a DM to Ana (by her linked id) and a post in the rule's channel, with the four buttons.
    const dmPost = slack.callsOf('chat.postMessage').find((c) => c.body.channel === ANA_SLACK && c.response.ts === m.dm.provider_ref)!;
    expect(dmPost.token).toBe(SLACK_TOKEN);
    const buttons = dmPost.body.blocks.find((b: any) => b.type === 'actions').elements.map((e: any) => e.action_id);
    expect(buttons).toEqual(['herald_ack', 'herald_resolve', 'herald_snooze', 'herald_open']);
    expect(blocksText(dmPost)).toContain('Escalates to Admin in 1 h');
    expect(m.dm.provider_state.channel).toBe(slack.dmChannelOf(ANA_SLACK));
    expect(m.slackRoom.provider_state.channel).toBe(slack.channelIdOf('#finance-alerts'));

    // Discord: one message in the rule's channel mentioning Ana; her own row is reached by that mention.
    const posted = discord.message(ROOM, m.discordRoom.provider_ref!)!;
    expect(posted.content).toBe(`<@${ANA_DISCORD}>`);
    expect(posted.allowed_mentions).toEqual({ users: [ANA_DISCORD] });
    expect(posted.components[0].components.map((c: any) => c.custom_id ?? c.label)).toEqual([`herald:ack:${alertId}`, `herald:resolve:${alertId}`, `herald:snooze:${alertId}`, 'Open']);
    expect(m.discordAna.provider_ref).toBeNull();
    expect(discord.callsOf('POST', /\/users\/@me\/channels/)).toHaveLength(0);

    // Ana clicks Acknowledge in her DM.
    const responseUrl = slack.responseUrl();
    const click = blockActionsPayload({
      userId: ANA_SLACK, actionId: 'herald_ack', value: String(alertId), channelId: m.dm.provider_state.channel, messageTs: m.dm.provider_ref!,
      responseUrl, buttonText: 'Acknowledge', style: 'primary', messageBlocks: dmPost.body.blocks,
    });
    const clickedAt = Date.now();
    const res = await slackPost(click);
    expect(res.status).toBe(200);
    expect(Date.now() - clickedAt).toBeLessThan(3000);

    // Within a second the Slack channel message and the Discord message say who acknowledged.
    const channelEdit = await slack.waitForCall('chat.update', (c) => c.body.ts === m.slackRoom.provider_ref);
    const discordEdit = await discord.waitForCall('PATCH', new RegExp(`/channels/${ROOM}/messages/${m.discordRoom.provider_ref}$`));
    expect(channelEdit.at - clickedAt).toBeLessThan(1000);
    expect(discordEdit.at - clickedAt).toBeLessThan(1000);
    expect(channelEdit.body.channel).toBe(m.slackRoom.provider_state.channel);
    expect(blocksText(channelEdit)).toContain('Acknowledged by Ana Accountant');
    expect(discordEdit.body.embeds[0].footer.text).toContain('Acknowledged by Ana Accountant');
    // Acknowledged: only Resolve (and Open) remain.
    expect(channelEdit.body.blocks.find((b: any) => b.type === 'actions').elements.map((e: any) => e.action_id)).toEqual(['herald_resolve', 'herald_open']);
    expect(discordEdit.body.components[0].components.map((c: any) => c.custom_id ?? c.label)).toEqual([`herald:resolve:${alertId}`, 'Open']);
    expect(discord.message(ROOM, m.discordRoom.provider_ref!)!.edits).toBe(1);
    // The clicked DM changes at once through the response_url, and the engine edits it too.
    const replaced = await waitForResponse(responseUrl);
    expect(replaced.body.replace_original).toBe(true);
    expect(blocksText(replaced)).toContain('Acknowledged by Ana Accountant');
    await slack.waitForCall('chat.update', (c) => c.body.ts === m.dm.provider_ref);

    // The alert is acknowledged by Ana via Slack and its escalation timer is gone.
    const a = await alertRow(alertId);
    expect(a.status).toBe('acknowledged');
    expect(a.acknowledged_by).toMatchObject({ kind: 'user', id: ana, name: 'Ana Accountant', via: 'slack' });
    expect(await h.sql`select 1 from graphile_worker._private_jobs where key = ${escalationKey(alertId)}`).toHaveLength(0);

    // Slack retries the same delivery: acknowledged, and nothing happens again.
    const updatesBefore = slack.callsOf('chat.update').length;
    const patchesBefore = discord.callsOf('PATCH').length;
    const retry = await slackPost(click, { headers: { 'X-Slack-Retry-Num': '1', 'X-Slack-Retry-Reason': 'http_timeout' } });
    expect(retry.status).toBe(200);
    // A forged click (wrong signing secret) to resolve it is refused before anything runs.
    const forged = blockActionsPayload({ userId: ANA_SLACK, actionId: 'herald_resolve', value: String(alertId), channelId: m.dm.provider_state.channel, messageTs: m.dm.provider_ref!, responseUrl: slack.responseUrl() });
    expect((await slackPost(forged, { secret: 'not-the-secret' })).status).toBe(401);
    // So is a correctly signed request older than five minutes (a captured request replayed later).
    expect((await slackPost(forged, { timestamp: Math.floor(Date.now() / 1000) - 600 })).status).toBe(401);
    // And one signed for later (issue 14: a timestamp a day in the future was accepted): within 5 minutes either way.
    expect((await slackPost(forged, { timestamp: Math.floor(Date.now() / 1000) + 86_400 })).status).toBe(401);
    expect((await slackPost(forged, { timestamp: Math.floor(Date.now() / 1000) + 360 })).status).toBe(401);
    expect((await fetch(`${h.url}/slack/events`, { method: 'POST', headers: { 'content-type': SLACK_FORM_CONTENT_TYPE }, body: forged })).status).toBe(401);

    await new Promise((r) => setTimeout(r, 400));
    expect((await timelineKinds(alertId)).filter((k) => k === 'acknowledged')).toHaveLength(1);
    expect(await timelineKinds(alertId)).not.toContain('resolved');
    expect((await alertRow(alertId)).status).toBe('acknowledged');
    expect(responsesTo(responseUrl)).toHaveLength(1);
    expect(slack.callsOf('chat.update')).toHaveLength(updatesBefore);
    expect(discord.callsOf('PATCH')).toHaveLength(patchesBefore);
  });

  it('answers a second click on an acknowledged alert with who got there first, changing nothing', async () => {
    const alertId = await raiseAlert();
    const m = await postedMessages(alertId);
    expect((await h.api('POST', `/v1/alerts/${alertId}/acknowledge`)).status).toBe(200);
    const responseUrl = slack.responseUrl();
    await slackPost(blockActionsPayload({ userId: ANA_SLACK, actionId: 'herald_ack', value: String(alertId), channelId: m.dm.provider_state.channel, messageTs: m.dm.provider_ref!, responseUrl }));
    const answer = await waitForResponse(responseUrl);
    expect(answer.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(answer.body.text).toContain(`Alert ${alertId} is already acknowledged by HERALD_ADMIN_API_KEY`);
    expect((await alertRow(alertId)).acknowledged_by.name).toBe('HERALD_ADMIN_API_KEY');
  });

  it('edits every message when the alert is resolved from the API, leaving no buttons but Open', async () => {
    const alertId = await raiseAlert();
    const m = await postedMessages(alertId);
    expect((await h.api('POST', `/v1/alerts/${alertId}/resolve`)).status).toBe(200);
    const edit = await slack.waitForCall('chat.update', (c) => c.body.ts === m.slackRoom.provider_ref);
    expect(blocksText(edit)).toContain('Resolved by HERALD_ADMIN_API_KEY');
    expect(edit.body.blocks.find((b: any) => b.type === 'actions').elements.map((e: any) => e.action_id)).toEqual(['herald_open']);
    const patch = await discord.waitForCall('PATCH', new RegExp(`/messages/${m.discordRoom.provider_ref}$`));
    expect(patch.body.components[0].components).toHaveLength(1);
    expect(patch.body.components[0].components[0].style).toBe(5); // link button only
  });

  it('tells a Slack user Herald does not know how to link, and changes nothing', async () => {
    const alertId = await raiseAlert();
    const m = await postedMessages(alertId);
    const responseUrl = slack.responseUrl();
    const res = await slackPost(blockActionsPayload({ userId: 'U0STRANGER', userName: 'stranger', actionId: 'herald_ack', value: String(alertId), channelId: m.slackRoom.provider_state.channel, messageTs: m.slackRoom.provider_ref!, responseUrl }));
    expect(res.status).toBe(200);
    const answer = await waitForResponse(responseUrl);
    expect(answer.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(answer.body.text).toContain("Herald doesn't know your Slack account");
    expect(answer.body.text).toMatch(new RegExp(`<${h.url.replace(/[.]/g, '\\.')}/link/slack\\?token=[^|]+\\|`));
    expect((await alertRow(alertId)).status).toBe('triggered');
    expect(await timelineKinds(alertId)).not.toContain('acknowledged');
  });

  it('recognises a Slack user by the email on their profile, links them, and acts as them', async () => {
    slack.addUser('bob@example.com', 'U0BOB', 'bob');
    const alertId = await raiseAlert();
    await postedMessages(alertId);
    const responseUrl = slack.responseUrl();
    await slackPost(blockActionsPayload({ userId: 'U0BOB', userName: 'bob', actionId: 'herald_snooze', value: String(alertId), channelId: 'C0FINANCE', messageTs: '1700000000.000100', responseUrl }));
    await waitForResponse(responseUrl);
    const a = await alertRow(alertId);
    expect(a.status).toBe('acknowledged');
    expect(a.acknowledged_by).toMatchObject({ name: 'Bob Books', via: 'slack' });
    expect(new Date(a.snoozed_until).getTime() - Date.now()).toBeGreaterThan(58 * 60_000);
    expect((await h.sql`select slack_user_id from users where email = 'bob@example.com'`)[0].slack_user_id).toBe('U0BOB');
    expect(slack.callsOf('users.info').some((c) => c.body.user === 'U0BOB')).toBe(true);

    // A double click on Snooze 1h (a second click, its own trigger id) snoozes once.
    const secondUrl = slack.responseUrl();
    await slackPost(blockActionsPayload({ userId: 'U0BOB', userName: 'bob', actionId: 'herald_snooze', value: String(alertId), channelId: 'C0FINANCE', messageTs: '1700000000.000100', responseUrl: secondUrl }));
    const second = await waitForResponse(secondUrl);
    expect(second.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(second.body.text).toContain(`Alert ${alertId} is already snoozed by Bob Books until`);
    expect((await timelineKinds(alertId)).filter((k) => k === 'snoozed')).toHaveLength(1);
  });
});

describe('an alert nobody acknowledges', () => {
  it('escalates: DMs the new targets (on Slack found by email, on Discord) and edits the older messages; a click in the Discord DM acts', async () => {
    slack.addUser('admin@example.com', 'U0ADMIN', 'admin');
    const [admin] = await h.sql`select id from users where email = 'admin@example.com'`;
    expect((await h.api('PATCH', `/v1/users/${admin.id}`, { discord_user_id: '300000000000000009' })).status).toBe(200);
    const alertId = await raiseAlert('Invoice nobody chased');
    const m = await postedMessages(alertId);
    const updatesBefore = slack.callsOf('chat.update').length;
    await h.fastForward(alertId);
    // Level 1: the admin, who has no Slack id yet, is found by email, DM'd and remembered.
    const dm = await slack.waitForCall('chat.postMessage', (c) => c.body.channel === 'U0ADMIN');
    expect(slack.callsOf('users.lookupByEmail').some((c) => c.body.email === 'admin@example.com')).toBe(true);
    expect(blocksText(dm)).toContain('Invoice nobody chased');
    await h.eventually(async () => (await h.sql`select slack_user_id from users where email = 'admin@example.com'`)[0].slack_user_id === 'U0ADMIN');
    const level1 = await h.eventually(async () => {
      const rows = await h.sql<Posted[]>`select id, recipient, channel, status, provider_ref, provider_state from messages where alert_id = ${alertId} and level = 1 and channel in ('slack', 'discord') and status = 'sent'`;
      return rows.length === 2 && rows;
    });
    // Escalation steps name people, not rooms: a DM each on Slack and on Discord (no room at this level).
    expect(level1.map((r) => `${r.channel} ${r.recipient}`).sort()).toEqual([`discord user:${admin.id}`, `slack user:${admin.id}`]);
    const discordDm = level1.find((r) => r.channel === 'discord')!;
    expect(discordDm.provider_state).toEqual({ channel_id: discord.dmChannelOf('300000000000000009'), dm: true });
    expect(discord.message(discordDm.provider_state.channel_id, discordDm.provider_ref!)!.embeds[0].title).toBe('Invoice nobody chased');
    // The level-0 messages are edited (the countdown is gone: nothing left to escalate to).
    const edit = await slack.waitForCall('chat.update', (c) => c.body.ts === m.slackRoom.provider_ref);
    expect(slack.callsOf('chat.update').length).toBeGreaterThan(updatesBefore);
    expect(blocksText(edit)).not.toContain('Escalates to');
    await discord.waitForCall('PATCH', new RegExp(`/messages/${m.discordRoom.provider_ref}$`));
    // Acknowledged from the Discord DM's button: both levels' messages are edited, the DM included.
    const r = await discordPost(componentInteraction({ userId: '300000000000000009', guildId: null, channelId: discordDm.provider_state.channel_id, customId: `herald:ack:${alertId}`, messageId: discordDm.provider_ref! }));
    expect(r.body.type).toBe(7);
    expect((await alertRow(alertId)).acknowledged_by).toMatchObject({ id: admin.id, via: 'discord' });
    await slack.waitForCall('chat.update', (c) => c.body.ts === m.dm.provider_ref && blocksText(c).includes('Acknowledged by Admin'));
    await slack.waitForCall('chat.update', (c) => c.body.channel === slack.dmChannelOf('U0ADMIN') && blocksText(c).includes('Acknowledged by Admin'));
    // The engine edits the DM too (the click's own answer already did): same state either way.
    const dmEdit = await discord.waitForCall('PATCH', new RegExp(`/messages/${discordDm.provider_ref}$`));
    expect(dmEdit.body.embeds[0].footer.text).toContain('Acknowledged by Admin');
  });
});

// ---------------------------------------------------------------- /herald in Slack

describe('/herald in Slack', () => {
  it('lists my open alerts with their buttons (the default), and a click in the list re-renders the list', async () => {
    const alertId = await raiseAlert('Listed invoice');
    await postedMessages(alertId);
    const { responseUrl, body } = command('');
    const res = await slackPost(body);
    expect(res.status).toBe(200);
    const answer = await waitForResponse(responseUrl);
    expect(answer.body.response_type).toBe('ephemeral');
    const ids = answer.body.blocks.map((b: any) => b.block_id);
    expect(ids[0]).toBe('herald_list_title');
    expect(ids).toContain(`herald_list_${alertId}`);
    const row = answer.body.blocks.find((b: any) => b.block_id === `herald_list_actions_${alertId}`);
    expect(row.elements.map((e: any) => e.action_id)).toEqual(['herald_ack', 'herald_resolve', 'herald_snooze', 'herald_open']);

    // Resolve from the (ephemeral) list: the list is replaced by a fresh one without that alert.
    const clickUrl = slack.responseUrl();
    await slackPost(blockActionsPayload({ userId: ANA_SLACK, actionId: 'herald_resolve', value: String(alertId), channelId: 'D0000000001', messageTs: '1700000000.000200', responseUrl: clickUrl, blockId: `herald_list_actions_${alertId}`, isEphemeral: true }));
    const refreshed = await waitForResponse(clickUrl);
    expect(refreshed.body.replace_original).toBe(true);
    expect(JSON.stringify(refreshed.body.blocks)).not.toContain(`herald_list_${alertId}"`);
    expect((await alertRow(alertId)).status).toBe('resolved');
  });

  it('acknowledges, resolves and snoozes by id', async () => {
    const a1 = await raiseAlert();
    const a2 = await raiseAlert();
    let c = command(`ack ${a1}`);
    await slackPost(c.body);
    let answer = await waitForResponse(c.responseUrl);
    expect(answer.body.text).toContain(`Acknowledged #${a1}`);
    expect((await alertRow(a1)).acknowledged_by).toMatchObject({ id: ana, via: 'slack' });

    c = command(`snooze #${a2} 30`);
    await slackPost(c.body);
    answer = await waitForResponse(c.responseUrl);
    expect(answer.body.text).toContain(`Snoozed #${a2} for 30 min`);
    const snoozed = await alertRow(a2);
    const left = new Date(snoozed.snoozed_until).getTime() - Date.now();
    expect(left).toBeGreaterThan(29 * 60_000);
    expect(left).toBeLessThan(31 * 60_000);

    c = command(`resolve ${a1}`);
    await slackPost(c.body);
    await waitForResponse(c.responseUrl);
    expect((await alertRow(a1)).status).toBe('resolved');

    // A conflict is an answer, not an error.
    c = command(`ack ${a1}`);
    await slackPost(c.body);
    answer = await waitForResponse(c.responseUrl);
    expect(answer.body.text).toContain(`Alert ${a1} is already resolved by Ana Accountant`);
    c = command('ack 999999');
    await slackPost(c.body);
    expect((await waitForResponse(c.responseUrl)).body.text).toContain('Alert 999999 does not exist');
  });

  it('says who an alert for a role would reach now, and where', async () => {
    const c = command('oncall accounting');
    await slackPost(c.body);
    const text = (await waitForResponse(c.responseUrl)).body.text as string;
    expect(text).toContain('*Accounting* (`accounting`)');
    expect(text).toContain('Ana Accountant — In-app, Slack, Discord');
    expect(text).not.toContain('Bob Books');
    const all = command('oncall');
    await slackPost(all.body);
    const everyone = (await waitForResponse(all.responseUrl)).body.text as string;
    expect(everyone).toContain('*Office* (`office`)');
    expect(everyone).toContain('Bob Books');
    const none = command('oncall astronauts');
    await slackPost(none.body);
    expect((await waitForResponse(none.responseUrl)).body.text).toContain('There is no role "astronauts"');
  });

  it('answers help, and answers anything it does not understand with the help', async () => {
    const help = command('help');
    await slackPost(help.body);
    const helpText = (await waitForResponse(help.responseUrl)).body.text as string;
    expect(helpText).toContain('*Herald commands*');
    expect(helpText).toContain('/herald snooze &lt;id&gt; [minutes]');
    const odd = command('dance wildly');
    await slackPost(odd.body);
    const oddText = (await waitForResponse(odd.responseUrl)).body.text as string;
    expect(oddText).toContain("I didn't understand `dance wildly`");
    expect(oddText).toContain('*Herald commands*');
    const badSnooze = command('snooze 12 forever');
    await slackPost(badSnooze.body);
    expect((await waitForResponse(badSnooze.responseUrl)).body.text).toContain("I didn't understand `snooze 12 forever`");
  });

  it('gives an unlinked person only the way to link', async () => {
    const c = command('list', 'U0NOBODY');
    await slackPost(c.body);
    const answer = await waitForResponse(c.responseUrl);
    expect(answer.body.text).toContain("Herald doesn't know your Slack account");
    expect(answer.body.blocks).toHaveLength(1);
  });
});

// ---------------------------------------------------------------- linking

describe('linking a chat account to a Herald user', () => {
  it('/herald link → the signed link → sign in → confirm → slack_user_id set', async () => {
    const c = command('link', 'U0CAROL');
    await slackPost(c.body);
    const text = (await waitForResponse(c.responseUrl)).body.text as string;
    const url = /<(http[^|>]+)\|/.exec(text)![1];
    expect(url.startsWith(`${h.url}/link/slack?token=`)).toBe(true);

    // Not signed in: a page that sends you to sign in first, and back here after.
    let page = await fetch(url);
    let html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('Sign in to Herald first');
    expect(html).toContain(`href="/?next=${encodeURIComponent(new URL(url).pathname + new URL(url).search)}"`);
    expect(page.headers.get('x-frame-options')).toBe('DENY');

    // Sign in to the PWA as the admin.
    const login = await fetch(`${h.url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'admin@example.com', password: 'correct horse battery' }) });
    expect(login.status).toBe(200);
    const { csrf_token: csrf } = await login.json();
    const cookie = login.headers.get('set-cookie')!.split(';')[0];

    page = await fetch(url, { headers: { cookie } });
    html = await page.text();
    expect(html).toContain('Link your Slack account');
    expect(html).toContain('<code>U0CAROL</code>');
    expect(html).toContain(`name="csrf" value="${csrf}"`);
    const token = /name="token" value="([^"]+)"/.exec(html)![1];
    const action = `${h.url}${/<form method="post" action="([^"]+)"/.exec(html)![1]}`;
    const post = (form: Record<string, string>, withCookie = true) =>
      fetch(action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...(withCookie ? { cookie } : {}) }, body: new URLSearchParams(form).toString() });

    // Without the session's CSRF token, or without a session, or with an altered token: nothing is linked.
    expect((await post({ token, csrf: 'guess' })).status).toBe(403);
    expect((await post({ token, csrf }, false)).status).toBe(401);
    expect((await post({ token: token.replace(/.$/, (ch) => (ch === 'A' ? 'B' : 'A')), csrf })).status).toBe(400);
    expect((await h.sql`select 1 from users where slack_user_id = 'U0CAROL'`)).toHaveLength(0);

    const done = await post({ token, csrf });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('is linked to <strong>Admin</strong>');
    const [admin] = await h.sql`select id, slack_user_id from users where email = 'admin@example.com'`;
    expect(admin.slack_user_id).toBe('U0CAROL');

    // From now on Carol's commands act as the admin.
    const list = command('oncall admin', 'U0CAROL');
    await slackPost(list.body);
    expect((await waitForResponse(list.responseUrl)).body.text).toContain('*Admin* (`admin`)');
  });

  it('refuses a link token for another provider or an expired one', async () => {
    const c = command('link', 'U0DAVE');
    await slackPost(c.body);
    const url = /<(http[^|>]+)\|/.exec((await waitForResponse(c.responseUrl)).body.text)![1];
    const wrongProvider = await fetch(url.replace('/link/slack', '/link/discord'));
    expect(wrongProvider.status).toBe(400);
    expect(await wrongProvider.text()).toContain('older than an hour');
    const { signToken } = await import('../db/platform/crypto');
    const { loadInstanceKey } = await import('../db/platform/crypto');
    const key = await loadInstanceKey(h.sql, 'test-secret');
    const expired = signToken(key, 'chat-link', { p: 'slack', sub: 'U0DAVE', name: 'dave', exp: Math.floor(Date.now() / 1000) - 1 });
    expect((await fetch(`${h.url}/link/slack?token=${encodeURIComponent(expired)}`)).status).toBe(400);
    expect((await fetch(`${h.url}/link/teams?token=x`)).status).toBe(404);
  });

  it('links a Discord account the same way', async () => {
    const r = await discordPost(applicationCommandInteraction({ userId: '300000000000000077', username: 'erin', subcommand: 'link' }));
    expect(r.body.type).toBe(4);
    expect(r.body.data.flags).toBe(64);
    const url = /\((http[^)]+)\)/.exec(r.body.data.content)![1];
    const login = await fetch(`${h.url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'admin@example.com', password: 'correct horse battery' }) });
    const { csrf_token: csrf } = await login.json();
    const cookie = login.headers.get('set-cookie')!.split(';')[0];
    const html = await (await fetch(url, { headers: { cookie } })).text();
    expect(html).toContain('the Discord account <strong>erin</strong>');
    const token = /name="token" value="([^"]+)"/.exec(html)![1];
    const done = await fetch(`${h.url}/link/discord`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie }, body: new URLSearchParams({ token, csrf }).toString() });
    expect(done.status).toBe(200);
    expect((await h.sql`select discord_user_id from users where email = 'admin@example.com'`)[0].discord_user_id).toBe('300000000000000077');
  });
});

// ---------------------------------------------------------------- Discord interactions

describe('Discord interactions', () => {
  it('registered /herald in the guild at start', () => {
    const cmds = discord.commands(DEFAULT_GUILD_ID);
    expect(cmds.map((c) => c.name)).toEqual(['herald']);
    expect(cmds[0].options.map((o: any) => o.name)).toEqual(['list', 'ack', 'resolve', 'snooze', 'oncall', 'link', 'help']);
    expect(discord.callsOf('PUT', /\/applications\/\d+\/guilds\/\d+\/commands$/)[0].token).toBe(DISCORD_TOKEN);
  });

  it('answers PING with PONG, and a bad signature with 401', async () => {
    expect(await discordPost(pingInteraction())).toEqual({ status: 200, body: { type: 1 } });
    expect((await discordPost(pingInteraction(), { badSignature: true })).status).toBe(401);
    const raw = JSON.stringify(pingInteraction());
    const res = await fetch(`${h.url}/discord/interactions`, { method: 'POST', headers: { 'content-type': 'application/json', 'X-Signature-Ed25519': 'zz', 'X-Signature-Timestamp': '1' }, body: raw });
    expect(res.status).toBe(401);
  });

  it('acknowledges on a button click and answers UPDATE_MESSAGE with the new state; a forged click changes nothing', async () => {
    const alertId = await raiseAlert('Discord-clicked invoice');
    const m = await postedMessages(alertId);
    const original = discord.message(ROOM, m.discordRoom.provider_ref!)!;
    const click = componentInteraction({ userId: ANA_DISCORD, customId: `herald:ack:${alertId}`, messageId: original.id, channelId: ROOM, message: { content: original.content, embeds: original.embeds, components: original.components } });

    expect((await discordPost(click, { badSignature: true })).status).toBe(401);
    // Correctly signed but not fresh (issue 14: X-Signature-Timestamp was not checked): 10 minutes old, a day ahead.
    const now = Math.floor(Date.now() / 1000);
    for (const timestamp of [now - 600, now + 86_400, now + 360]) expect((await discordPost(click, { timestamp })).status, String(timestamp - now)).toBe(401);
    expect((await alertRow(alertId)).status).toBe('triggered');

    const r = await discordPost(click);
    expect(r.status).toBe(200);
    expect(r.body.type).toBe(7);
    expect(r.body.data.content).toBe(`<@${ANA_DISCORD}>`);
    expect(r.body.data.embeds[0].footer.text).toContain('Acknowledged by Ana Accountant');
    expect(r.body.data.components[0].components.map((c: any) => c.custom_id ?? c.label)).toEqual([`herald:resolve:${alertId}`, 'Open']);
    expect((await alertRow(alertId)).acknowledged_by).toMatchObject({ id: ana, via: 'discord' });
    // The Slack messages follow.
    const edit = await slack.waitForCall('chat.update', (c) => c.body.ts === m.slackRoom.provider_ref);
    expect(blocksText(edit)).toContain('Acknowledged by Ana Accountant');

    // The same interaction delivered again does nothing.
    const again = await discordPost(click);
    expect(again.body.type).toBe(6);
    expect((await timelineKinds(alertId)).filter((k) => k === 'acknowledged')).toHaveLength(1);

    // A new click on the stale Acknowledge button: told who got there first, ephemerally.
    const stale = await discordPost(componentInteraction({ userId: ANA_DISCORD, customId: `herald:ack:${alertId}`, messageId: original.id, channelId: ROOM }));
    expect(stale.body).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(stale.body.data.content).toContain('already acknowledged by Ana Accountant');
  });

  it('gives an unknown Discord user an ephemeral link prompt and changes nothing', async () => {
    const alertId = await raiseAlert();
    const m = await postedMessages(alertId);
    const r = await discordPost(componentInteraction({ userId: '399999999999999999', customId: `herald:resolve:${alertId}`, messageId: m.discordRoom.provider_ref!, channelId: ROOM }));
    expect(r.body).toMatchObject({ type: 4, data: { flags: 64, allowed_mentions: { parse: [] } } });
    expect(r.body.data.content).toContain("Herald doesn't know your Discord account");
    expect(r.body.data.content).toContain(`${h.url}/link/discord?token=`);
    expect((await alertRow(alertId)).status).toBe('triggered');
  });

  it('runs /herald subcommands: list, ack, snooze, oncall, help', async () => {
    const alertId = await raiseAlert('Discord listed invoice');
    await postedMessages(alertId);
    const list = await discordPost(applicationCommandInteraction({ userId: ANA_DISCORD, subcommand: 'list' }));
    expect(list.body).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(list.body.data.embeds[0].description).toContain(`**#${alertId}**`);
    const rowIds = list.body.data.components.flatMap((r: any) => r.components.map((c: any) => c.custom_id));
    expect(rowIds.length).toBeGreaterThan(0);
    expect(rowIds.every((id: string) => id.startsWith('herald-list:'))).toBe(true);

    const snooze = await discordPost(applicationCommandInteraction({ userId: ANA_DISCORD, subcommand: 'snooze', options: { id: alertId, minutes: 15 } }));
    expect(snooze.body.data.content).toBe(`✅ Snoozed #${alertId} for 15 min`);
    const left = new Date((await alertRow(alertId)).snoozed_until).getTime() - Date.now();
    expect(left).toBeGreaterThan(14 * 60_000);
    expect(left).toBeLessThan(16 * 60_000);

    const other = await raiseAlert();
    const ack = await discordPost(applicationCommandInteraction({ userId: ANA_DISCORD, subcommand: 'ack', options: { id: other } }));
    expect(ack.body.data.content).toBe(`✅ Acknowledged #${other}`);
    expect(ack.body.data.embeds[0].footer.text).toContain('Acknowledged by Ana Accountant');
    expect((await alertRow(other)).status).toBe('acknowledged');

    // A click in the ephemeral list resolves and re-renders the list.
    const inList = await discordPost(componentInteraction({ userId: ANA_DISCORD, customId: `herald-list:resolve:${other}`, messageId: '1500000000000000001' }));
    expect(inList.body.type).toBe(7);
    expect(JSON.stringify(inList.body.data)).not.toContain(`herald-list:resolve:${other}"`);
    expect((await alertRow(other)).status).toBe('resolved');

    const oncall = await discordPost(applicationCommandInteraction({ userId: ANA_DISCORD, subcommand: 'oncall', options: { role: 'accounting' } }));
    expect(oncall.body.data.content).toContain('Ana Accountant — In-app, Slack, Discord');
    const help = await discordPost(applicationCommandInteraction({ userId: ANA_DISCORD, subcommand: 'help' }));
    expect(help.body.data.content).toContain('**Herald commands**');
    const stranger = await discordPost(applicationCommandInteraction({ userId: '399999999999999998', subcommand: 'list' }));
    expect(stranger.body.data.content).toContain("Herald doesn't know your Discord account");
  });
});

// ---------------------------------------------------------------- provider failures

describe('when the providers push back', () => {
  it('turns a Slack 429 into a retry that honours Retry-After', async () => {
    slack.rateLimitNext('chat.postMessage', 20);
    const alertId = await raiseAlert();
    const limited = await h.eventually(async () => (await h.sql`select * from messages where alert_id = ${alertId} and channel = 'slack' and status = 'failed_temp'`)[0]);
    expect(limited.last_error).toContain('rate limit');
    const [job] = await h.sql`select run_at from graphile_worker._private_jobs where key = ${`message:${limited.id}:send`}`;
    const wait = new Date(job.run_at).getTime() - Date.now();
    expect(wait).toBeGreaterThan(18_000);
    expect(wait).toBeLessThan(21_000);
    // Time passes: the retry posts it.
    await h.sql`update graphile_worker._private_jobs set run_at = now() where key = ${`message:${limited.id}:send`}`;
    await h.eventually(async () => (await h.sql`select status from messages where id = ${limited.id}`)[0].status === 'sent');
  });

  it('turns a Discord 429 into a retry that honours retry_after', async () => {
    discord.rateLimitNext(8, { method: 'POST', pathRegex: new RegExp(`/channels/${ROOM}/messages$`) });
    const before = discord.callsOf('POST', new RegExp(`/channels/${ROOM}/messages$`)).length;
    const alertId = await raiseAlert();
    const limited = await h.eventually(async () => (await h.sql`select * from messages where alert_id = ${alertId} and channel = 'discord' and recipient like 'room:%' and status = 'failed_temp'`)[0]);
    expect(limited.last_error).toContain('Discord rate limit');
    const [job] = await h.sql`select run_at from graphile_worker._private_jobs where key = ${`message:${limited.id}:send`}`;
    expect(new Date(job.run_at).getTime() - Date.now()).toBeGreaterThan(7_000);
    await h.eventually(async () => (await h.sql`select status from messages where id = ${limited.id}`)[0].status === 'sent', 15_000);
    // One 429, one success: the client did not hammer Discord while limited.
    expect(discord.callsOf('POST', new RegExp(`/channels/${ROOM}/messages$`)).slice(before).map((c) => c.status)).toEqual([429, 200]);
  }, 30_000);

  it('treats a revoked Slack token as permanent, says so in /readyz, and recovers when calls succeed', async () => {
    expect((await h.api('GET', '/readyz', undefined, { key: null })).body.checks.channels.slack.status).toBe('ok');
    // The workspace revoked the token: every call is refused.
    slack.respondWith('chat.postMessage', () => ({ ok: false, error: 'token_revoked' }));
    const alertId = await raiseAlert();
    const failed = await h.eventually(async () => {
      const rows = await h.sql`select * from messages where alert_id = ${alertId} and channel = 'slack' and status = 'failed'`;
      return rows.length === 2 && rows;
    });
    expect(failed.every((m) => m.attempts === 1 && String(m.last_error).includes('token_revoked'))).toBe(true);
    expect(await timelineKinds(alertId)).toContain('failed');
    const ready = await h.api('GET', '/readyz', undefined, { key: null });
    expect(ready.status).toBe(503);
    expect(ready.body.checks.channels.slack.status).toBe('error');
    expect(ready.body.checks.channels.slack.detail).toContain('token_revoked');
    // The app is reinstalled: the next successful call clears the state.
    slack.respondWith('chat.postMessage', null);
    await postedMessages(await raiseAlert());
    expect((await h.api('GET', '/readyz', undefined, { key: null })).body.checks.channels.slack.status).toBe('ok');
  });

  it('fails a message to a channel Slack does not know permanently, without touching /readyz', async () => {
    slack.failNext('chat.postMessage', 'channel_not_found');
    slack.failNext('chat.postMessage', 'channel_not_found');
    const alertId = await raiseAlert();
    const failed = await h.eventually(async () => {
      const rows = await h.sql`select * from messages where alert_id = ${alertId} and channel = 'slack' and status = 'failed'`;
      return rows.length === 2 && rows;
    });
    expect(failed[0].last_error).toContain('channel_not_found');
    expect((await h.api('GET', '/readyz', undefined, { key: null })).body.checks.channels.slack.status).toBe('ok');
  });
});
