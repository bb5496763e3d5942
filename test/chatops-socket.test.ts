// Slack Socket Mode: Herald started with SLACK_APP_TOKEN opens a connection through apps.connections.open
// (on the fake Web API) to a local WebSocket server playing Slack's side, which sends `hello` and then an
// interactive envelope carrying a real block_actions payload. Herald must acknowledge the envelope over the
// socket and act on the click; a redelivered envelope changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import { startTestHerald, type TestHerald } from './harness';
import { startFakeSlack, type FakeSlack } from './fakes/slack';
import { blockActionsJson } from './fakes/slack-sign';

const APP_TOKEN = 'xapp-1-A0HERALDAPP-1-socketsecret';
const BOT_TOKEN = 'xoxb-socket-test';

let h: TestHerald;
let slack: FakeSlack;
let wss: WebSocketServer;
let socket: WebSocket | null = null;
const received: any[] = [];
let connections = 0;

beforeAll(async () => {
  // Both tokens reach the fake: the app token for apps.connections.open, the bot token for the rest.
  slack = await startFakeSlack();
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const wsUrl = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/link/?ticket=fake-ticket&app_id=A0HERALDAPP`;
  slack.respondWith('apps.connections.open', () => ({ ok: true, url: wsUrl }));
  wss.on('connection', (ws) => {
    connections++;
    socket = ws;
    ws.on('message', (data) => received.push(JSON.parse(String(data))));
    ws.send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'applink-fake', approximate_connection_time: 18060 }, connection_info: { app_id: 'A0HERALDAPP' } }));
  });
  h = await startTestHerald({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_APP_TOKEN: APP_TOKEN, SLACK_API_URL: slack.url });
});
afterAll(async () => {
  await h?.stop();
  for (const c of wss?.clients ?? []) c.terminate();
  await new Promise<void>((r) => (wss ? wss.close(() => r()) : r()));
  await slack?.close();
});

describe('Slack in Socket Mode', () => {
  it('connects with the app token and shows it in /readyz', async () => {
    const open = await slack.waitForCall('apps.connections.open');
    expect(open.token).toBe(APP_TOKEN);
    await h.eventually(async () => (await h.api('GET', '/readyz', undefined, { key: null })).body.checks.channels.slack.status === 'ok');
    const ready = await h.api('GET', '/readyz', undefined, { key: null });
    expect(ready.body.checks.channels.slack).toEqual({ status: 'ok', detail: 'Socket Mode' });
    expect(connections).toBe(1);
    // No HTTP endpoint in Socket Mode.
    expect((await fetch(`${h.url}/slack/events`, { method: 'POST', body: 'x' })).status).toBe(404);
  });

  it('acknowledges an interactive envelope over the socket and acts on the click, once', async () => {
    const user = (await h.api('POST', '/v1/users', { name: 'Sam Socket', email: 'sam@example.com', roles: ['workshop'], slack_user_id: 'U0SAM' })).body;
    await h.api('POST', '/v1/rules', { name: 'Machines', match: { category: 'production' }, targets: { roles: ['workshop'] }, channels: ['in_app'], priority: 'high', escalation: { steps: [{ after_minutes: 30, roles: ['admin'] }] } });
    const ev = await h.api('POST', '/v1/events', { category: 'production', type: 'machine_down', title: 'Press 4 down' });
    const { alert_id: alertId } = await h.eventually(async () => { const e = await h.api('GET', `/v1/events/${ev.body.event_id}`); return e.body.alert_id && e.body; });

    const responseUrl = slack.responseUrl();
    const envelope = {
      envelope_id: 'b3a1c2d4-0000-4000-8000-000000000001',
      type: 'interactive',
      accepts_response_payload: false,
      payload: blockActionsJson({ userId: 'U0SAM', actionId: 'herald_ack', value: String(alertId), channelId: 'D0SAM00001', messageTs: '1700000000.000300', responseUrl }),
    };
    socket!.send(JSON.stringify(envelope));
    // Slack needs the envelope acknowledged over the socket (within 3 s).
    await h.eventually(async () => received.some((m) => m.envelope_id === envelope.envelope_id), 3000);
    await h.eventually(async () => (await h.api('GET', `/v1/alerts/${alertId}`)).body.status === 'acknowledged');
    const alert = (await h.api('GET', `/v1/alerts/${alertId}`)).body;
    expect(alert.acknowledged_by).toMatchObject({ id: user.id, name: 'Sam Socket', via: 'slack' });
    expect(alert.escalation.next_at).toBeNull();
    const replaced = await slack.waitForCall('response_url', (c) => c.path === new URL(responseUrl).pathname);
    expect(replaced.body.replace_original).toBe(true);
    expect(JSON.stringify(replaced.body.blocks)).toContain('Acknowledged by Sam Socket');

    // Slack redelivers the same envelope (as it does when an ack is late): acknowledged again, applied once.
    socket!.send(JSON.stringify({ ...envelope, retry_attempt: 1, retry_reason: 'timeout' }));
    await h.eventually(async () => received.filter((m) => m.envelope_id === envelope.envelope_id).length === 2, 3000);
    await new Promise((r) => setTimeout(r, 300));
    const kinds = alert.timeline.map((t: { kind: string }) => t.kind);
    expect(kinds.filter((k: string) => k === 'acknowledged')).toHaveLength(1);
    const after = (await h.api('GET', `/v1/alerts/${alertId}`)).body.timeline.map((t: { kind: string }) => t.kind);
    expect(after.filter((k: string) => k === 'acknowledged')).toHaveLength(1);
    expect(slack.callsOf('response_url').filter((c) => c.path === new URL(responseUrl).pathname)).toHaveLength(1);
  });

  it('answers /herald over the socket', async () => {
    const responseUrl = slack.responseUrl();
    const envelope = {
      envelope_id: 'b3a1c2d4-0000-4000-8000-000000000002',
      type: 'slash_commands',
      accepts_response_payload: true,
      payload: {
        token: 'legacyVerificationToken0', team_id: 'T0HERALD1', team_domain: 'herald-test', channel_id: 'D0SAM00001', channel_name: 'directmessage',
        user_id: 'U0SAM', user_name: 'sam', command: '/herald', text: 'list', api_app_id: 'A0HERALDAPP', is_enterprise_install: 'false',
        response_url: responseUrl, trigger_id: '1700000000001.1234567890123.0123456789abcdef0123456789abcdef',
      },
    };
    socket!.send(JSON.stringify(envelope));
    await h.eventually(async () => received.some((m) => m.envelope_id === envelope.envelope_id), 3000);
    const answer = await slack.waitForCall('response_url', (c) => c.path === new URL(responseUrl).pathname);
    expect(answer.body.response_type).toBe('ephemeral');
    expect(answer.body.text).toMatch(/You have 1 open alert/);
  });
});
