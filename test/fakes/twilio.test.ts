import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countSegments, startFakeTwilio, type FakeTwilio } from './twilio';
import { signTwilioRequest } from './twilio-sign';

describe('signTwilioRequest', () => {
  it('matches the example from Twilio’s own test suite', () => {
    const params = { CallSid: 'CA1234567890ABCDE', Caller: '+14158675309', Digits: '1234', From: '+14158675309', To: '+18005551212' };
    expect(signTwilioRequest('12345', 'https://mycompany.com/myapp.php?foo=1&bar=2', params)).toBe('RSOYDt4T1cUTdK1PDd93/VVr8B8=');
  });

  const key = fc.string({ minLength: 1, maxLength: 12 });
  const value = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'grapheme', maxLength: 10 }));
  const params = fc.dictionary(key, fc.oneof(value, fc.array(value, { minLength: 1, maxLength: 4 })), { maxKeys: 8 });
  const url = fc.oneof(
    fc.webUrl({ withQueryParameters: true }),
    fc.constantFrom('http://127.0.0.1:8080/twilio/sms', 'https://herald.example.com/twilio/status?x=1'),
  );

  it('property: agrees with twilio.getExpectedTwilioSignature and passes twilio.validateRequest', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), url, params, (token, raw, p) => {
        expect(signTwilioRequest(token, raw, p)).toBe(twilio.getExpectedTwilioSignature(token, raw, p));
        // Twilio signs the URL it requested, which is always in canonical form ("http://a.aa" is requested
        // as "http://a.aa/"); validateRequest re-parses the URL, so compare on that form.
        const u = new URL(raw).href;
        const sig = signTwilioRequest(token, u, p);
        expect(twilio.validateRequest(token, sig, u, p)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('property: a changed parameter, URL or token invalidates the signature', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), params, (token, p) => {
        const u = 'https://herald.example.com/twilio/sms';
        const sig = signTwilioRequest(token, u, p);
        expect(twilio.validateRequest(token, sig, u, { ...p, Body: `${p.Body ?? ''}!` })).toBe(false);
        expect(twilio.validateRequest(token, sig, 'https://herald.example.com/twilio/other', p)).toBe(false);
        expect(twilio.validateRequest(`${token}x`, sig, u, p)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});

describe('countSegments', () => {
  it('counts like Twilio: 160/153 septets in GSM-7, 70/67 units in UCS-2', () => {
    expect(countSegments('a'.repeat(160))).toBe(1);
    expect(countSegments('a'.repeat(161))).toBe(2);
    expect(countSegments('€'.repeat(80))).toBe(1);
    expect(countSegments('€'.repeat(81))).toBe(2);
    expect(countSegments('a'.repeat(69) + '—')).toBe(1);
    expect(countSegments('a'.repeat(70) + '—')).toBe(2);
  });
});

describe('the fake Twilio API over raw HTTP', () => {
  let fake: FakeTwilio;
  beforeAll(async () => {
    fake = await startFakeTwilio();
  });
  afterAll(() => fake.close());

  const auth = () => 'Basic ' + Buffer.from(`${fake.accountSid}:${fake.authToken}`).toString('base64');
  const create = (form: Record<string, string>, headers: Record<string, string> = { authorization: auth() }) =>
    fetch(`${fake.url}/2010-04-01/Accounts/${fake.accountSid}/Messages.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    });

  it('answers 201 with the Message resource', async () => {
    const res = await create({ To: '+14155552671', From: '+15005550006', Body: 'hi', StatusCallback: 'http://127.0.0.1:1/s' });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = await res.json();
    expect(body).toMatchObject({
      account_sid: fake.accountSid,
      api_version: '2010-04-01',
      body: 'hi',
      direction: 'outbound-api',
      error_code: null,
      from: '+15005550006',
      to: '+14155552671',
      num_segments: '1',
      num_media: '0',
      status: 'queued',
    });
    expect(body.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(body.uri).toBe(`/2010-04-01/Accounts/${fake.accountSid}/Messages/${body.sid}.json`);
    expect(body.date_created).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    expect(fake.messages.at(-1)).toMatchObject({ sid: body.sid, statusCallback: 'http://127.0.0.1:1/s' });
  });

  it('requires Basic auth with the account SID and token', async () => {
    const res = await create({ To: '+14155552671', From: '+15005550006', Body: 'hi' }, {});
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 });
  });

  it('answers errors in Twilio’s shape', async () => {
    const missingTo = await create({ From: '+15005550006', Body: 'hi' });
    expect(missingTo.status).toBe(400);
    expect(await missingTo.json()).toEqual({
      code: 21604,
      message: "A 'To' phone number is required.",
      more_info: 'https://www.twilio.com/docs/errors/21604',
      status: 400,
    });
    fake.failNext(20429, 429);
    const limited = await create({ To: '+14155552671', From: '+15005550006', Body: 'hi' });
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject({ code: 20429, status: 429 });
    const unknown = await fetch(`${fake.url}/2010-04-01/Accounts/${fake.accountSid}/Calls.json`, { headers: { authorization: auth() } });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 20404, status: 404 });
  });
});

describe('the fake playing Twilio’s webhooks', () => {
  let fake: FakeTwilio;
  let received: Array<{ url: string; signature: string; params: Record<string, string>; valid: boolean }>;
  let server: ReturnType<typeof createServer>;
  let base: string;

  const readForm = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
  };

  beforeAll(async () => {
    fake = await startFakeTwilio();
    received = [];
    server = createServer(async (req, res) => {
      const params = await readForm(req);
      const url = base + req.url;
      const signature = String(req.headers['x-twilio-signature'] ?? '');
      received.push({ url, signature, params, valid: twilio.validateRequest(fake.authToken, signature, url, params) });
      res.writeHead(200, { 'content-type': 'text/xml' }).end('<Response/>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await fake.close();
  });

  it('posts a signed inbound SMS with Twilio’s parameters', async () => {
    const r = await fake.inbound(`${base}/twilio/sms`, { from: '+14155552671', to: '+15005550006', body: '4a' });
    expect(r.status).toBe(200);
    const got = received.at(-1)!;
    expect(got.valid).toBe(true);
    expect(got.params).toMatchObject({ From: '+14155552671', To: '+15005550006', Body: '4a', SmsStatus: 'received', AccountSid: fake.accountSid, NumMedia: '0', ApiVersion: '2010-04-01' });
    expect(got.params.MessageSid).toMatch(/^SM[0-9a-f]{32}$/);
  });

  it('posts a signed delivery status callback to the message’s StatusCallback URL', async () => {
    const c = createClient();
    const msg = await c.messages.create({ to: '+14155552671', from: '+15005550006', body: 'x', statusCallback: `${base}/twilio/status?m=1` });
    await fake.statusCallback(msg.sid, 'undelivered', { errorCode: 30003 });
    const got = received.at(-1)!;
    expect(got.url).toBe(`${base}/twilio/status?m=1`);
    expect(got.valid).toBe(true);
    expect(got.params).toMatchObject({ MessageSid: msg.sid, MessageStatus: 'undelivered', SmsStatus: 'undelivered', ErrorCode: '30003', To: '+14155552671' });
  });

  it('refuses to call anything but a local URL', async () => {
    await expect(fake.inbound('https://example.com/twilio/sms', { from: '+1', to: '+2', body: 'x' })).rejects.toThrow(/local/);
  });

  function createClient() {
    return twilio(fake.accountSid, fake.authToken, {
      httpClient: new (class extends twilio.RequestClient {
        request<T>(o: Parameters<InstanceType<typeof twilio.RequestClient>['request']>[0]) {
          return super.request<T>({ ...o, uri: o.uri.replace('https://api.twilio.com', fake.url) } as never);
        }
      })(),
    });
  }
});
