// The real twilio SDK, redirected by createTwilioClient's apiUrl, against the local fake Twilio.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeTwilio, type FakeTwilio } from '../../test/fakes/twilio';
import { createTwilioClient, rewriteTwilioUri, twilioErrorToSendResult } from './client';
import { formatAlertSms } from './format';

let fake: FakeTwilio;
beforeAll(async () => {
  fake = await startFakeTwilio();
});
afterAll(() => fake.close());
afterEach(() => {
  fake.messages.length = 0;
});

const client = () => createTwilioClient({ accountSid: fake.accountSid, authToken: fake.authToken, apiUrl: fake.url });
const FROM = '+15005550006';
const TO = '+14155552671';

describe('createTwilioClient with apiUrl', () => {
  it('sends messages.create through the fake and gets Twilio’s Message resource back', async () => {
    const body = '[Herald] HIGH Invoice 1042 overdue 30d. Reply 4a ack, 4r resolve, 4s snooze 1h';
    const msg = await client().messages.create({
      to: TO,
      from: FROM,
      body,
      statusCallback: 'http://127.0.0.1:8080/twilio/status',
    });
    expect(msg.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(msg.status).toBe('queued');
    expect(msg.accountSid).toBe(fake.accountSid);
    expect(msg.to).toBe(TO);
    expect(msg.from).toBe(FROM);
    expect(msg.body).toBe(body);
    expect(msg.numSegments).toBe('1');
    expect(msg.direction).toBe('outbound-api');
    expect(msg.dateCreated).toBeInstanceOf(Date);
    expect(Number.isNaN(msg.dateCreated.getTime())).toBe(false);
    expect(fake.messages).toEqual([
      expect.objectContaining({ sid: msg.sid, to: TO, from: FROM, body, statusCallback: 'http://127.0.0.1:8080/twilio/status' }),
    ]);
  });

  it('a formatted alert text arrives as one segment, even with characters outside GSM-7 in the title', async () => {
    const body = formatAlertSms(
      {
        id: 7, status: 'triggered', priority: 'critical', severity: 'critical', category: 'production', type: 'machine_down',
        title: 'Presse № 3 “Müller” — hydraulic pressure lost 🔥 since 14:02, operator reports oil on the floor near bay 2',
        body: null, source: null, dedup_key: 'k', occurrences: 1, metadata: {}, entity: null,
        created_at: '2024-05-01T14:03:00.000Z', updated_at: '2024-05-01T14:03:00.000Z', acknowledged_at: null,
        acknowledged_by: null, resolved_at: null, resolved_by: null, snoozed_until: null,
        escalation: { level: 0, next_at: null, next_to: null }, sop: null, rule_ids: [], assigned_to: null, url: 'http://127.0.0.1/alerts/7',
      },
      12,
    );
    const msg = await client().messages.create({ to: TO, from: FROM, body });
    expect(msg.numSegments).toBe('1'); // the fake counts segments with its own GSM-7 table
    expect(fake.messages[0].body).toBe(body);
  });

  it('surfaces Twilio errors as RestException with code, status and more_info', async () => {
    fake.failNext(21610);
    const err = await client().messages.create({ to: TO, from: FROM, body: 'x' }).catch((e) => e);
    expect(err).toBeInstanceOf(twilio.RestException);
    expect(err).toMatchObject({ status: 400, code: 21610, moreInfo: 'https://www.twilio.com/docs/errors/21610' });
    expect(err.message).toBe('Attempt to send to unsubscribed recipient');
    expect(fake.messages).toHaveLength(0);
    // only the next request fails
    await expect(client().messages.create({ to: TO, from: FROM, body: 'x' })).resolves.toMatchObject({ status: 'queued' });
  });

  it('validates like Twilio: a bad number, a missing body', async () => {
    await expect(client().messages.create({ to: '+1555', from: FROM, body: 'x' })).rejects.toMatchObject({ status: 400, code: 21211 });
    await expect(client().messages.create({ to: TO, from: FROM })).rejects.toMatchObject({ status: 400, code: 21602 });
  });

  it('rejects a wrong auth token with 401 / 20003', async () => {
    const bad = createTwilioClient({ accountSid: fake.accountSid, authToken: 'wrong', apiUrl: fake.url });
    await expect(bad.messages.create({ to: TO, from: FROM, body: 'x' })).rejects.toMatchObject({ status: 401, code: 20003 });
    expect(fake.messages).toHaveLength(0);
  });

  it('fetches a sent message back', async () => {
    const sent = await client().messages.create({ to: TO, from: FROM, body: 'hello' });
    const got = await client().messages(sent.sid).fetch();
    expect(got).toMatchObject({ sid: sent.sid, body: 'hello', status: 'queued' });
  });

  it('keeps redirecting when TWILIO_REGION/TWILIO_EDGE make the SDK build a regional hostname', async () => {
    // The SDK would call https://api.dublin.ie1.twilio.com; the rewrite maps any *.twilio.com origin.
    const saved = { region: process.env.TWILIO_REGION, edge: process.env.TWILIO_EDGE };
    process.env.TWILIO_REGION = 'ie1';
    process.env.TWILIO_EDGE = 'dublin';
    try {
      const msg = await client().messages.create({ to: TO, from: FROM, body: 'regional' });
      expect(msg.status).toBe('queued');
      expect(fake.messages.map((m) => m.body)).toEqual(['regional']);
    } finally {
      for (const [k, v] of [['TWILIO_REGION', saved.region], ['TWILIO_EDGE', saved.edge]] as const)
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    }
  });
});

describe('rewriteTwilioUri', () => {
  it('replaces the Twilio origin, keeps path and query, honours a path prefix', () => {
    expect(rewriteTwilioUri('https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?PageSize=5', 'http://127.0.0.1:9/')).toBe(
      'http://127.0.0.1:9/2010-04-01/Accounts/AC1/Messages.json?PageSize=5',
    );
    expect(rewriteTwilioUri('https://messaging.twilio.com/v1/Services', 'http://127.0.0.1:9/twilio')).toBe(
      'http://127.0.0.1:9/twilio/v1/Services',
    );
    expect(rewriteTwilioUri('https://example.com/x', 'http://127.0.0.1:9')).toBe('https://example.com/x');
  });

  it('the path prefix works end to end', async () => {
    // A tiny proxy that only answers under /prefix, forwarding to the fake.
    const proxy = createServer(async (req, res) => {
      if (!req.url?.startsWith('/prefix/')) {
        res.writeHead(404).end();
        return;
      }
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const r = await fetch(fake.url + req.url.slice('/prefix'.length), {
        method: req.method,
        headers: { authorization: req.headers.authorization ?? '', 'content-type': req.headers['content-type'] ?? '' },
        body: req.method === 'POST' ? Buffer.concat(chunks) : undefined,
      });
      res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' }).end(await r.text());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const apiUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/prefix`;
      const c = createTwilioClient({ accountSid: fake.accountSid, authToken: fake.authToken, apiUrl });
      await expect(c.messages.create({ to: TO, from: FROM, body: 'via prefix' })).resolves.toMatchObject({ status: 'queued' });
      expect(fake.messages.at(-1)?.body).toBe('via prefix');
    } finally {
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
    }
  });
});

describe('twilioErrorToSendResult', () => {
  const attempt = async (setup: () => void, c = client()) => {
    setup();
    return twilioErrorToSendResult(await c.messages.create({ to: TO, from: FROM, body: 'x' }).catch((e) => e));
  };

  it('opted-out, invalid numbers and bad credentials are permanent', async () => {
    expect(await attempt(() => fake.failNext(21610))).toMatchObject({ outcome: 'failed_perm', error: expect.stringContaining('21610') });
    expect(await attempt(() => fake.failNext(21211))).toMatchObject({ outcome: 'failed_perm' });
    const bad = createTwilioClient({ accountSid: fake.accountSid, authToken: 'nope', apiUrl: fake.url });
    expect(await attempt(() => {}, bad)).toMatchObject({ outcome: 'failed_perm', error: expect.stringContaining('20003') });
  });

  it('rate limiting and server errors are temporary', async () => {
    expect(await attempt(() => fake.failNext(20429, 429))).toMatchObject({ outcome: 'failed_temp' });
    expect(await attempt(() => fake.failNext(20500, 500))).toMatchObject({ outcome: 'failed_temp' });
    expect(await attempt(() => fake.failNext(20503, 503))).toMatchObject({ outcome: 'failed_temp' });
  });

  it('an unreachable API is temporary', async () => {
    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const port = (dead.address() as AddressInfo).port;
    await new Promise((r) => dead.close(r)); // nothing listens there any more
    const c = createTwilioClient({ accountSid: fake.accountSid, authToken: fake.authToken, apiUrl: `http://127.0.0.1:${port}` });
    expect(await attempt(() => {}, c)).toMatchObject({ outcome: 'failed_temp', error: expect.stringMatching(/unreachable/) });
  });
});
