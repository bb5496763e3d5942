// Working on an alert together (issue 16, DESIGN "Working on an alert together"), told as the people who use
// it: Ana acknowledges by mistake and takes it back; a resolve and a snooze are undone; undo refuses when
// it is too late or not hers to undo; notes reach the alert's Slack and Discord threads; Wes is assigned
// and every channel says so. Real Postgres, a real worker, the real Slack and Discord SDKs against fakes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escalationKey } from '../db/jobs/catalog';
import { startReceiver, startTestHerald, type Receiver, type TestHerald } from './harness';
import { startFakeSlack, type FakeSlack } from './fakes/slack';
import { startFakeDiscord, type FakeDiscord } from './fakes/discord';
import { DEFAULT_APPLICATION_ID, DEFAULT_GUILD_ID, discordKeyPair } from './fakes/discord-sign';
import { signIn, type PwaSession } from './pwa-session';

const SLACK_TOKEN = 'xoxb-test';
const DISCORD_TOKEN = 'discord-bot-token';
const ROOM = '1300000000000000003';

let h: TestHerald;
let slack: FakeSlack;
let discord: FakeDiscord;
let hook: Receiver;
let ana: PwaSession;
let wes: number;

const rule = {
  name: 'Overdue invoices', position: 10,
  match: { category: 'finance', type: 'invoice_overdue' },
  targets: { roles: ['accounting'] }, channels: ['in_app', 'slack', 'discord'], priority: 'high',
  escalation: { steps: [{ after_minutes: 60, roles: ['admin'] }], repeat: 0 },
  slack_channel: '#finance-alerts', discord_channel: ROOM,
};

beforeAll(async () => {
  slack = await startFakeSlack({ token: SLACK_TOKEN });
  discord = await startFakeDiscord({ token: DISCORD_TOKEN });
  hook = await startReceiver();
  h = await startTestHerald({
    SLACK_BOT_TOKEN: SLACK_TOKEN, SLACK_SIGNING_SECRET: 'slack-secret', SLACK_API_URL: slack.url,
    DISCORD_BOT_TOKEN: DISCORD_TOKEN, DISCORD_APPLICATION_ID: DEFAULT_APPLICATION_ID, DISCORD_PUBLIC_KEY: discordKeyPair().publicKeyHex,
    DISCORD_API_URL: discord.api, DISCORD_GUILD_ID: DEFAULT_GUILD_ID,
  });
  expect((await h.api('POST', '/v1/webhooks', { url: hook.url, events: ['*'] })).status).toBe(201);
  await h.api('POST', '/v1/users', { name: 'Ana Accountant', email: 'ana@example.com', roles: ['accounting'], password: 'ana password 1' });
  wes = (await h.api('POST', '/v1/users', { name: 'Wes', email: 'wes@example.com', roles: ['workshop'] })).body.id;
  expect((await h.api('POST', '/v1/rules', rule)).status).toBe(201);
  ana = await signIn(h, 'ana@example.com', 'ana password 1');
});
afterAll(async () => {
  await h?.stop();
  await slack?.close();
  await discord?.close();
  await hook?.close();
});

let seq = 0;
async function raiseAlert(title = 'Invoice overdue'): Promise<number> {
  const ev = await h.api('POST', '/v1/events', { category: 'finance', type: 'invoice_overdue', title, severity: 'error', entity: { kind: 'invoice', id: `inv-${++seq}-${Date.now()}` } });
  expect(ev.status).toBe(202);
  return (await h.eventually(async () => { const e = await h.api('GET', `/v1/events/${ev.body.event_id}`); return e.body.alert_id && e.body; })).alert_id;
}

/** The alert's posts in the rule's Slack and Discord rooms, once the providers accepted them. */
async function roomPosts(alertId: number) {
  const rows = await h.eventually(async () => {
    const r = await h.sql<{ id: number; channel: string; provider_ref: string; provider_state: any }[]>`
      select id, channel, provider_ref, provider_state from messages
      where alert_id = ${alertId} and recipient like 'room:%' and status = 'sent' order by id`;
    return r.length === 2 && r;
  });
  const s = rows.find((m) => m.channel === 'slack')!;
  const d = rows.find((m) => m.channel === 'discord')!;
  return { slack: { channel: s.provider_state.channel as string, ts: s.provider_ref }, discord: { channel: d.provider_state.channel_id as string, id: d.provider_ref } };
}

const timer = async (alertId: number) =>
  (await h.sql<{ run_at: Date; payload: any }[]>`select run_at, payload from graphile_worker._private_jobs where key = ${escalationKey(alertId)}`)[0];
const row = async (alertId: number) => (await h.sql`select * from alerts where id = ${alertId}`)[0];
/** The alert's timeline kinds, without delivery bookkeeping (notified, delivered, failed), which lands asynchronously. */
const kinds = async (alertId: number) => (await h.api('GET', `/v1/alerts/${alertId}`)).body.timeline
  .map((t: { kind: string }) => t.kind).filter((k: string) => !['notified', 'delivered', 'failed'].includes(k));
const hooksOf = (type: string, alertId: number) => hook.hits.map((x) => JSON.parse(x.body)).filter((b) => b.type === type && b.data.alert.id === alertId);
const slackButtons = (m: { blocks?: any[] } | undefined) =>
  (m?.blocks ?? []).filter((b) => b.type === 'actions').flatMap((b) => b.elements.map((e: any) => e.text.text));
const slackContext = (m: { blocks?: any[] } | undefined) =>
  (m?.blocks ?? []).filter((b) => b.type === 'context').flatMap((b) => b.elements.map((e: any) => e.text)).join(' | ');

describe('undo', () => {
  it('Ana acknowledges by mistake and undoes it: triggered again, the timer back at its original due time, every channel told', async () => {
    const id = await raiseAlert('Invoice 1042 overdue');
    const posts = await roomPosts(id);
    const original = await row(id);
    const due = original.escalation_next_at as Date;
    expect((await timer(id)).run_at.getTime()).toBe(due.getTime());

    const ack = await ana.call('POST', `/v1/alerts/${id}/acknowledge`);
    expect(ack.status).toBe(200);
    expect(await timer(id)).toBeUndefined();
    await h.eventually(async () => slackButtons(slack.message(posts.slack.channel, posts.slack.ts)).includes('Resolve') && !slackButtons(slack.message(posts.slack.channel, posts.slack.ts)).includes('Acknowledge'));

    const undone = await ana.call('POST', `/v1/alerts/${id}/undo`);
    expect(undone.status).toBe(200);
    expect(undone.body).toMatchObject({ id, status: 'triggered', acknowledged_at: null, acknowledged_by: null, escalation: { level: 0, next_at: due.toISOString() } });

    // Exactly the state before: the same row values, and the escalation timer at the same due time.
    const after = await row(id);
    for (const k of ['status', 'acknowledged_at', 'acknowledged_by', 'resolved_at', 'resolved_by', 'snoozed_until', 'escalation_level']) expect(after[k]).toEqual(original[k]);
    expect((after.escalation_next_at as Date).getTime()).toBe(due.getTime());
    const t = await timer(id);
    expect(t.run_at.getTime()).toBe(due.getTime());
    expect(t.payload).toEqual({ alert_id: id, level: 1 });

    // Both rows stay on the timeline, the undo with who did it.
    const detail = (await h.api('GET', `/v1/alerts/${id}`)).body;
    expect((await kinds(id)).slice(-2)).toEqual(['acknowledged', 'undone']);
    expect(detail.timeline.filter((e: { kind: string }) => e.kind === 'undone').at(-1)).toMatchObject({ kind: 'undone', actor: { kind: 'user', name: 'Ana Accountant' }, detail: { undid: 'acknowledged', status: 'triggered' } });

    // The webhook hears the alert is open again; the Slack and Discord posts get their Acknowledge button back.
    const reopened = await h.eventually(async () => hooksOf('alert.reopened', id)[0]);
    expect(reopened.data).toMatchObject({ alert: { status: 'triggered' }, actor: { name: 'Ana Accountant' }, undone: { action: 'acknowledged' } });
    await h.eventually(async () => slackButtons(slack.message(posts.slack.channel, posts.slack.ts)).includes('Acknowledge'));
    await h.eventually(async () => {
      const m = discord.message(posts.discord.channel, posts.discord.id);
      return m?.components?.[0]?.components?.some((c: any) => c.label === 'Acknowledge');
    });

    // Twice is not an undo of the undo.
    const again = await ana.call('POST', `/v1/alerts/${id}/undo`);
    expect(again.status).toBe(409);
    expect(again.headers.get('content-type')).toContain('application/problem+json');
    expect(again.body.detail).toContain('already an undo');
  });

  it('a resolve is undone back to acknowledged (by whom it was), with no timer', async () => {
    const id = await raiseAlert('Invoice 2002 overdue');
    expect((await h.api('POST', `/v1/alerts/${id}/acknowledge`)).status).toBe(200);
    const acked = await row(id);
    expect((await h.api('POST', `/v1/alerts/${id}/resolve`)).status).toBe(200);
    const r = await h.api('POST', `/v1/alerts/${id}/undo`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'acknowledged', resolved_at: null, resolved_by: null, acknowledged_by: { kind: 'api_key' } });
    const after = await row(id);
    expect(after.acknowledged_at.getTime()).toBe(acked.acknowledged_at.getTime());
    expect(await timer(id)).toBeUndefined();
    expect((await kinds(id)).slice(-3)).toEqual(['acknowledged', 'resolved', 'undone']);
    await h.eventually(async () => hooksOf('alert.reopened', id).length > 0);
  });

  it('a resolve of a triggered alert is undone with the escalation re-armed', async () => {
    const id = await raiseAlert('Invoice 2003 overdue');
    const due = (await row(id)).escalation_next_at as Date;
    expect((await h.api('POST', `/v1/alerts/${id}/resolve`)).status).toBe(200);
    expect(await timer(id)).toBeUndefined();
    const r = await h.api('POST', `/v1/alerts/${id}/undo`);
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('triggered');
    expect((await timer(id)).run_at.getTime()).toBe(due.getTime());
  });

  it('a snooze is undone: triggered, no snooze, and the timer escalates at the original time instead of waking', async () => {
    const id = await raiseAlert('Invoice 3003 overdue');
    const due = (await row(id)).escalation_next_at as Date;
    const s = await h.api('POST', `/v1/alerts/${id}/snooze`, { minutes: 30 });
    expect(s.status).toBe(200);
    expect((await timer(id)).payload).toEqual({ alert_id: id, wake: true });
    const r = await h.api('POST', `/v1/alerts/${id}/undo`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'triggered', snoozed_until: null, acknowledged_by: null });
    const t = await timer(id);
    expect(t.payload).toEqual({ alert_id: id, level: 1 });
    expect(t.run_at.getTime()).toBe(due.getTime());
    expect((await kinds(id)).slice(-2)).toEqual(['snoozed', 'undone']);
  });

  it('30 seconds later it is too late: 409, nothing changes', async () => {
    const id = await raiseAlert('Invoice 4004 overdue');
    expect((await ana.call('POST', `/v1/alerts/${id}/acknowledge`)).status).toBe(200);
    await h.sql`update alert_timeline set at = at - interval '31 seconds' where alert_id = ${id} and kind = 'acknowledged'`;
    const r = await ana.call('POST', `/v1/alerts/${id}/undo`);
    expect(r.status).toBe(409);
    expect(r.body.detail).toMatch(/Too late to undo: alert \d+ was acknowledged 31 s ago \(undo works for 30 s\)/);
    expect((await row(id)).status).toBe('acknowledged');
    expect(await kinds(id)).not.toContain('undone');
  });

  it('only the person who acted can undo, and not once someone else acted since', async () => {
    const id = await raiseAlert('Invoice 5005 overdue');
    expect((await ana.call('POST', `/v1/alerts/${id}/acknowledge`)).status).toBe(200);
    // The admin key did not acknowledge it: Ana's acknowledgement is hers to undo.
    const notMine = await h.api('POST', `/v1/alerts/${id}/undo`);
    expect(notMine.status).toBe(409);
    expect(notMine.body.detail).toContain('last acknowledged by Ana Accountant; only they can undo that');

    // The admin resolves it meanwhile: Ana's acknowledgement is no longer the latest change.
    expect((await h.api('POST', `/v1/alerts/${id}/resolve`)).status).toBe(200);
    const late = await ana.call('POST', `/v1/alerts/${id}/undo`);
    expect(late.status).toBe(409);
    expect(late.body.detail).toContain('resolved by HERALD_ADMIN_API_KEY');
    expect((await row(id)).status).toBe('resolved');
  });

  it('answers 404 for an unknown alert, 409 when nothing was done, and 400 for a bad id', async () => {
    expect((await h.api('POST', '/v1/alerts/999999/undo')).status).toBe(404);
    const id = await raiseAlert('Invoice 6006 overdue');
    const r = await h.api('POST', `/v1/alerts/${id}/undo`);
    expect(r.status).toBe(409);
    expect(r.body.detail).toContain('Nothing to undo');
    expect((await h.api('POST', '/v1/alerts/abc/undo')).status).toBe(400);
  });

  it('an undo racing another person\'s resolve: whichever commits first, the alert ends resolved with no timer left', async () => {
    for (let i = 0; i < 4; i++) {
      const id = await raiseAlert(`Invoice race ${i}`);
      expect((await ana.call('POST', `/v1/alerts/${id}/acknowledge`)).status).toBe(200);
      const [u, r] = await Promise.all([ana.call('POST', `/v1/alerts/${id}/undo`), h.api('POST', `/v1/alerts/${id}/resolve`)]);
      expect(r.status).toBe(200);
      expect([200, 409]).toContain(u.status);
      expect((await row(id)).status).toBe('resolved');
      expect(await timer(id)).toBeUndefined();
      const k = await kinds(id);
      expect(k.at(-1)).toBe('resolved');
      expect(k.includes('undone')).toBe(u.status === 200);
    }
  });

  it('undo of one alert of a bulk acknowledgement restores that alert only', async () => {
    const a = await raiseAlert('Invoice 7007 overdue');
    const b = await raiseAlert('Invoice 7008 overdue');
    const bulk = await h.api('POST', '/v1/alerts/acknowledge', { ids: [a, b] });
    expect(bulk.body.acknowledged.sort()).toEqual([a, b].sort());
    expect((await h.api('POST', `/v1/alerts/${a}/undo`)).body.status).toBe('triggered');
    expect((await row(b)).status).toBe('acknowledged');
  });
});

describe('notes', () => {
  it('a note is on the timeline with who wrote it, and arrives in the Slack thread and as a Discord reply', async () => {
    const id = await raiseAlert('Invoice 8008 overdue');
    const posts = await roomPosts(id);
    const r = await ana.call('POST', `/v1/alerts/${id}/notes`, { text: 'Called the customer <@here>: paying Friday' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ alert_id: id, text: 'Called the customer <@here>: paying Friday', actor: { kind: 'user', name: 'Ana Accountant' } });
    expect(Number.isNaN(Date.parse(r.body.at))).toBe(false);

    const tl = (await h.api('GET', `/v1/alerts/${id}`)).body.timeline;
    expect(tl.find((e: { kind: string }) => e.kind === 'noted')).toMatchObject({ id: r.body.id, kind: 'noted', actor: { name: 'Ana Accountant' }, detail: { text: 'Called the customer <@here>: paying Friday' } });

    const reply = await slack.waitForCall('chat.postMessage', (c) => c.body.thread_ts === posts.slack.ts);
    expect(reply.body.channel).toBe(posts.slack.channel);
    // Escaped: the note cannot ping a channel.
    expect(reply.body.text).toBe('📝 *Ana Accountant*: Called the customer &lt;@here&gt;: paying Friday');
    expect(reply.response.ok).toBe(true);

    const dReply = await discord.waitForCall('POST', new RegExp(`/channels/${posts.discord.channel}/messages$`), 10_000)
      .then(async () => h.eventually(async () => discord.calls.find((c) => c.method === 'POST' && c.body?.message_reference?.message_id === posts.discord.id)));
    expect(dReply.status).toBe(200);
    expect(dReply.body.content).toContain('Ana Accountant');
    expect(dReply.body.content).toContain('paying Friday');
    expect(dReply.body.allowed_mentions).toEqual({ parse: [] });
  });

  it('refuses empty, too long, NUL and lone-surrogate text with a 400 problem; unknown alert is a 404', async () => {
    const id = await raiseAlert('Invoice 9009 overdue');
    for (const raw of ['{"text":""}', '{"text":"   "}', JSON.stringify({ text: 'x'.repeat(4001) }), '{"text":"a\\u0000b"}', '{"text":"a\\ud800b"}', '{"text":5}', '{}', '{"text":"ok","extra":1}']) {
      const r = await h.api('POST', `/v1/alerts/${id}/notes`, undefined, { raw });
      expect(r.status, raw.slice(0, 40)).toBe(400);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
    }
    expect((await h.api('POST', `/v1/alerts/${id}/notes`, { text: '😀'.repeat(4000) })).status).toBe(201);
    expect((await h.api('POST', '/v1/alerts/999999/notes', { text: 'hello' })).status).toBe(404);
  });

});

describe('assign', () => {
  it('Wes is assigned: the alert says so, the timeline too, and the Slack and Discord posts are edited to show it', async () => {
    const id = await raiseAlert('Invoice 1111 overdue');
    const posts = await roomPosts(id);
    const r = await ana.call('POST', `/v1/alerts/${id}/assign`, { user_id: wes });
    expect(r.status).toBe(200);
    expect(r.body.assigned_to).toEqual({ id: wes, name: 'Wes' });
    expect((await h.api('GET', `/v1/alerts/${id}`)).body.assigned_to).toEqual({ id: wes, name: 'Wes' });
    expect((await row(id)).assigned_to).toBe(wes);

    const tl = (await h.api('GET', `/v1/alerts/${id}`)).body.timeline;
    expect(tl.find((e: { kind: string }) => e.kind === 'assigned')).toMatchObject({ kind: 'assigned', actor: { name: 'Ana Accountant' }, detail: { to: { id: wes, name: 'Wes' }, from: null } });

    await h.eventually(async () => slackContext(slack.message(posts.slack.channel, posts.slack.ts)).includes('👤 Assigned to Wes'));
    await h.eventually(async () => discord.message(posts.discord.channel, posts.discord.id)?.embeds?.[0]?.footer?.text?.includes('👤 Assigned to Wes'));

    // The same person again changes nothing; nobody (null) unassigns and the posts follow.
    await ana.call('POST', `/v1/alerts/${id}/assign`, { user_id: wes });
    expect((await kinds(id)).filter((k: string) => k === 'assigned')).toHaveLength(1);
    const un = await h.api('POST', `/v1/alerts/${id}/assign`, { user_id: null });
    expect(un.status).toBe(200);
    expect(un.body.assigned_to).toBeNull();
    await h.eventually(async () => !slackContext(slack.message(posts.slack.channel, posts.slack.ts)).includes('Assigned to'));
  });

  it('an unknown or deleted user is a 404, a bad body a 400, a resolved alert a 409', async () => {
    const id = await raiseAlert('Invoice 2222 overdue');
    expect((await h.api('POST', `/v1/alerts/${id}/assign`, { user_id: 999999 })).status).toBe(404);
    const gone = (await h.api('POST', '/v1/users', { name: 'Gone', email: 'gone@example.com', roles: ['office'] })).body.id;
    expect((await h.api('DELETE', `/v1/users/${gone}`)).status).toBe(204);
    expect((await h.api('POST', `/v1/alerts/${id}/assign`, { user_id: gone })).status).toBe(404);
    for (const body of [{}, { user_id: 'wes' }, { user_id: -1 }, { user_id: 1.5 }, { user_id: wes, x: 1 }]) {
      expect((await h.api('POST', `/v1/alerts/${id}/assign`, body)).status).toBe(400);
    }
    expect((await h.api('POST', '/v1/alerts/999999/assign', { user_id: wes })).status).toBe(404);
    await h.api('POST', `/v1/alerts/${id}/resolve`);
    expect((await h.api('POST', `/v1/alerts/${id}/assign`, { user_id: wes })).status).toBe(409);
  });
});
