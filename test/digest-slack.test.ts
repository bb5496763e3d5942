// Digests as a Slack DM (issue 13): a person whose low-priority alerts go to Slack gets one DM per period
// listing them, with working buttons; a rate-limited post is retried and the DM is posted once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from './harness';
import { startFakeSlack, type FakeSlack } from './fakes/slack';
import { blockActionsPayload, signSlackRequest, SLACK_FORM_CONTENT_TYPE } from './fakes/slack-sign';

const SLACK_SECRET = 'slack-signing-secret-for-tests';
const SLACK_TOKEN = 'xoxb-test';
const SAM_SLACK = 'U0SAMDIGEST';

let h: TestHerald;
let slack: FakeSlack;
let sam: number;

beforeAll(async () => {
  slack = await startFakeSlack({ token: SLACK_TOKEN });
  h = await startTestHerald({ SLACK_BOT_TOKEN: SLACK_TOKEN, SLACK_SIGNING_SECRET: SLACK_SECRET, SLACK_API_URL: slack.url });
  sam = (await h.api('POST', '/v1/users', { name: 'Sam Slack', email: 'sam@example.com', slack_user_id: SAM_SLACK, timezone: 'UTC' })).body.id;
  expect((await h.api('PUT', `/v1/users/${sam}/preferences`, { digest: { frequency: 'daily', at: '08:00' } })).status).toBe(200);
  expect((await h.api('POST', '/v1/rules', { name: 'Sam low', match: { category: 'samlow' }, targets: { users: [sam] }, channels: ['slack'], priority: 'low' })).status).toBe(201);
});
afterAll(async () => { await h?.stop(); await slack?.close(); });

async function raise(title: string): Promise<number> {
  const r = await h.api('POST', '/v1/events', { category: 'samlow', type: 'thing', title });
  expect(r.status).toBe(202);
  return (await h.eventually(async () => { const x = await h.api('GET', `/v1/events/${r.body.event_id}`); return x.body.alert_id && x.body; })).alert_id;
}
const closePeriod = async () => {
  await h.sql`update user_preferences set digest_next_at = now() - interval '1 second' where user_id = ${sam}`;
  await h.sql`select graphile_worker.add_job('digest__send', '{}'::json)`;
};
const dmsToSam = () => slack.callsOf('chat.postMessage').filter((c) => c.body.channel === SAM_SLACK);

describe('a digest by Slack DM', () => {
  it('gathers the period\'s low alerts into one DM whose buttons act; nothing was posted per alert', async () => {
    const ids = [await raise('Stock count drift'), await raise('Minor VAT rounding')];
    for (const id of ids) {
      const [m] = await h.sql`select channel, status from messages where alert_id = ${id}`;
      expect(m).toMatchObject({ channel: 'slack', status: 'held_digest' });
    }
    expect(dmsToSam()).toHaveLength(0);
    expect((await h.api('POST', `/v1/alerts/${ids[1]}/acknowledge`)).status).toBe(200);
    // The first post is rate-limited: the digest goes back to pending, the job retries, one DM lands.
    slack.rateLimitNext('chat.postMessage', 0);
    await closePeriod();
    const dm = await slack.waitForCall('chat.postMessage', (c) => c.body.channel === SAM_SLACK && c.response?.ok === true, 30_000);
    expect(dm.body.text).toBe('Your daily digest: 2 low-priority alerts, 2 still open');
    const blocks = dm.body.blocks as Array<{ type: string; text?: { text: string }; elements?: Array<{ action_id?: string; value?: string }> }>;
    const texts = blocks.map((b) => b.text?.text ?? '').join('\n');
    expect(texts).toContain('Stock count drift');
    expect(texts).toContain('Minor VAT rounding');
    // The still-triggered one offers Acknowledge; the acknowledged one does not.
    const buttons = blocks.filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []);
    expect(buttons.filter((b) => b.action_id === 'herald_ack').map((b) => Number(b.value))).toEqual([ids[0]]);
    const [d] = await h.eventually(async () => { const r = await h.sql`select channel, status, provider_ref, alert_ids from digests where user_id = ${sam}`; return r[0]?.status === 'sent' && r; });
    expect(d).toMatchObject({ channel: 'slack', provider_ref: dm.response.ts });
    expect(d.alert_ids.map(Number)).toEqual(ids);
    expect(dmsToSam().filter((c) => c.response?.ok === true)).toHaveLength(1);

    // A click on the DM's Acknowledge acts like a click on an alert message.
    const body = blockActionsPayload({ userId: SAM_SLACK, actionId: 'herald_ack', value: String(ids[0]), channelId: dm.response.channel, messageTs: dm.response.ts,
      responseUrl: slack.responseUrl(), buttonText: 'Acknowledge', messageBlocks: blocks });
    const res = await fetch(`${h.url}/slack/events`, { method: 'POST', headers: { 'content-type': SLACK_FORM_CONTENT_TYPE, ...signSlackRequest(SLACK_SECRET, body) }, body });
    expect(res.status).toBe(200);
    await h.eventually(async () => (await h.api('GET', `/v1/alerts/${ids[0]}`)).body.status === 'acknowledged');
    expect((await h.api('GET', `/v1/alerts/${ids[0]}`)).body.acknowledged_by.name).toBe('Sam Slack');
  });

  it('a digest already claimed is never posted again by a second job', async () => {
    const id = await raise('Old quote expiring');
    await closePeriod();
    await h.eventually(async () => (await h.sql`select 1 from digests where user_id = ${sam} and ${id} = any(alert_ids) and status = 'sent'`).length === 1);
    const [d] = await h.sql`select id from digests where user_id = ${sam} and ${id} = any(alert_ids)`;
    const before = dmsToSam().length;
    await h.sql`select graphile_worker.add_job('digest__send', json_build_object('digest_id', ${Number(d.id)}::int))`;
    await h.sql`select graphile_worker.add_job('digest__send', json_build_object('digest_id', ${Number(d.id)}::int))`;
    await h.eventually(async () => (await h.sql`select 1 from graphile_worker._private_jobs where task_id = (select id from graphile_worker._private_tasks where identifier = 'digest__send')`).length === 0);
    expect(dmsToSam().length).toBe(before);
  });
});
