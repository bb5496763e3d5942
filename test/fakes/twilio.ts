// A local stand-in for Twilio's Programmable Messaging REST API, for the real `twilio` SDK (TWILIO_API_URL).
// It answers like Twilio: Basic auth with the account SID and auth token, form-encoded requests, 201 with
// Twilio's Message resource JSON, errors as {code, message, more_info, status}. It can also play Twilio's
// side of the webhooks (status callbacks, inbound SMS), signed with X-Twilio-Signature, to local URLs only.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signTwilioRequest } from './twilio-sign';

export interface FakeTwilioMessage {
  sid: string;
  to: string;
  from: string | null;
  body: string;
  statusCallback: string | null;
  messagingServiceSid: string | null;
  numSegments: number;
  status: string;
  /** Every form parameter exactly as received. */
  params: Record<string, string>;
}

export interface FakeTwilio {
  url: string;
  accountSid: string;
  authToken: string;
  messages: FakeTwilioMessage[];
  /** The next Messages.create answers with this Twilio error code and HTTP status (400 unless given). */
  failNext(code: number, status?: number): void;
  /** POST Twilio's delivery status callback for a sent message to its StatusCallback URL, signed. */
  statusCallback(sid: string, status: MessageStatus, opts?: { errorCode?: number }): Promise<WebhookResult>;
  /** POST an inbound SMS, as Twilio does to a number's webhook URL, signed. */
  inbound(url: string, msg: { from: string; to: string; body: string; optOutType?: 'STOP' | 'START' | 'HELP' }): Promise<WebhookResult>;
  close(): Promise<void>;
}

export type MessageStatus = 'queued' | 'sending' | 'sent' | 'delivered' | 'undelivered' | 'failed' | 'read';
export interface WebhookResult {
  status: number;
  body: string;
  contentType: string | null;
  params: Record<string, string>;
}

const API_VERSION = '2010-04-01';

/** Messages Twilio returns for the codes tests are likely to ask for. */
const ERROR_MESSAGES: Record<number, string> = {
  20003: 'Authenticate',
  20404: 'The requested resource was not found',
  20429: 'Too Many Requests',
  20500: 'Internal Server Error',
  21211: "Invalid 'To' Phone Number",
  21408: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number",
  21602: 'Message body is required.',
  21603: "A 'From' phone number is required.",
  21604: "A 'To' phone number is required.",
  21606: "The 'From' phone number provided is not a valid message-capable Twilio phone number for this destination/account.",
  21610: 'Attempt to send to unsubscribed recipient',
  21614: "'To' number is not a valid mobile number",
  21617: 'The concatenated message body exceeds the 1600 character limit.',
};

const sid = (prefix: string) => prefix + randomBytes(16).toString('hex');

// Twilio's dates: RFC 2822 with a numeric zone ("Thu, 24 Aug 2023 05:01:45 +0000").
const rfc2822 = (d: Date) => d.toUTCString().replace(/GMT$/, '+0000');

// Independent of bot/sms/gsm7.ts on purpose: the fake's segment count checks Herald's encoding work.
const GSM_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
const GSM_EXT = new Set('\f^{}\\[~]|€');
export function countSegments(body: string): number {
  let septets = 0;
  let gsm = true;
  for (const c of body) {
    if (GSM_BASIC.has(c)) septets += 1;
    else if (GSM_EXT.has(c)) septets += 2;
    else gsm = false;
  }
  if (gsm) return septets <= 160 ? 1 : Math.ceil(septets / 153);
  const units = body.length; // UCS-2 code units
  return units <= 70 ? 1 : Math.ceil(units / 67);
}

const isLocal = (url: string) => ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);

export async function startFakeTwilio(opts: { accountSid?: string; authToken?: string } = {}): Promise<FakeTwilio> {
  const accountSid = opts.accountSid ?? sid('AC');
  const authToken = opts.authToken ?? randomBytes(16).toString('hex');
  const messages: FakeTwilioMessage[] = [];
  const failures: Array<{ code: number; status: number }> = [];

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Twilio-Request-Id': sid('RQ') });
    res.end(JSON.stringify(body));
  };
  const error = (res: ServerResponse, status: number, code: number, message = ERROR_MESSAGES[code] ?? `Error ${code}`) => {
    if (status === 401) res.setHeader('WWW-Authenticate', 'Basic realm="Twilio API"');
    json(res, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
  };

  const authorized = (req: IncomingMessage) => {
    const m = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
    if (!m) return false;
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    return decoded === `${accountSid}:${authToken}`;
  };

  const resource = (m: FakeTwilioMessage, created: Date) => ({
    account_sid: accountSid,
    api_version: API_VERSION,
    body: m.body,
    date_created: rfc2822(created),
    date_sent: null,
    date_updated: rfc2822(created),
    direction: 'outbound-api',
    error_code: null,
    error_message: null,
    from: m.from,
    messaging_service_sid: m.messagingServiceSid,
    num_media: '0',
    num_segments: String(m.numSegments),
    price: null,
    price_unit: 'USD',
    sid: m.sid,
    status: m.status,
    subresource_uris: { media: `/${API_VERSION}/Accounts/${accountSid}/Messages/${m.sid}/Media.json` },
    to: m.to,
    uri: `/${API_VERSION}/Accounts/${accountSid}/Messages/${m.sid}.json`,
  });
  const createdAt = new Map<string, Date>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        handle(req, res, Buffer.concat(chunks).toString('utf8'));
      } catch (e) {
        error(res, 500, 20500, (e as Error).message);
      }
    });
  });

  function handle(req: IncomingMessage, res: ServerResponse, raw: string) {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const create = new RegExp(`^/${API_VERSION}/Accounts/([^/]+)/Messages\\.json$`).exec(path);
    const fetchOne = new RegExp(`^/${API_VERSION}/Accounts/([^/]+)/Messages/([^/]+)\\.json$`).exec(path);
    const match = create ?? fetchOne;
    if (!match) return error(res, 404, 20404, `The requested resource ${path} was not found`);
    if (!authorized(req) || match[1] !== accountSid) return error(res, 401, 20003);

    if (fetchOne && req.method === 'GET') {
      const m = messages.find((x) => x.sid === fetchOne[2]);
      if (!m) return error(res, 404, 20404, `The requested resource ${path} was not found`);
      return json(res, 200, resource(m, createdAt.get(m.sid)!));
    }
    if (!create || req.method !== 'POST') return error(res, 405, 20004, 'Method not allowed');

    const type = req.headers['content-type'] ?? '';
    if (!type.startsWith('application/x-www-form-urlencoded')) return error(res, 400, 20001, 'Content-Type must be form encoded');
    const params: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(raw)) params[k] = v;

    const fail = failures.shift();
    if (fail) return error(res, fail.status, fail.code);

    const to = params.To;
    const from = params.From ?? null;
    const service = params.MessagingServiceSid ?? null;
    const body = params.Body ?? '';
    if (!to) return error(res, 400, 21604);
    if (!/^\+[1-9][0-9]{6,14}$/.test(to)) return error(res, 400, 21211, `Invalid 'To' Phone Number: ${to}`);
    if (!from && !service) return error(res, 400, 21603);
    if (!body && !params.MediaUrl && !params.ContentSid) return error(res, 400, 21602);
    if ([...body].length > 1600) return error(res, 400, 21617);

    const m: FakeTwilioMessage = {
      sid: sid('SM'),
      to,
      from,
      body,
      statusCallback: params.StatusCallback ?? null,
      messagingServiceSid: service,
      numSegments: countSegments(body),
      status: from ? 'queued' : 'accepted',
      params,
    };
    messages.push(m);
    createdAt.set(m.sid, new Date());
    json(res, 201, resource(m, createdAt.get(m.sid)!));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  async function post(target: string, params: Record<string, string>): Promise<WebhookResult> {
    if (!isLocal(target)) throw new Error(`fake Twilio only calls local URLs, not ${target}`);
    const res = await fetch(target, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        'User-Agent': 'TwilioProxy/1.1',
        'I-Twilio-Idempotency-Token': randomBytes(16).toString('hex'),
        'X-Twilio-Signature': signTwilioRequest(authToken, target, params),
      },
      body: new URLSearchParams(params).toString(),
    });
    return { status: res.status, body: await res.text(), contentType: res.headers.get('content-type'), params };
  }

  return {
    url,
    accountSid,
    authToken,
    messages,
    failNext(code, status = 400) {
      failures.push({ code, status });
    },
    async statusCallback(messageSid, status, o = {}) {
      const m = messages.find((x) => x.sid === messageSid);
      if (!m) throw new Error(`no message ${messageSid}`);
      if (!m.statusCallback) throw new Error(`message ${messageSid} has no StatusCallback`);
      m.status = status;
      const params: Record<string, string> = {
        SmsSid: m.sid,
        SmsStatus: status,
        MessageStatus: status,
        To: m.to,
        MessageSid: m.sid,
        AccountSid: accountSid,
        From: m.from ?? '',
        ApiVersion: API_VERSION,
      };
      if (o.errorCode !== undefined) params.ErrorCode = String(o.errorCode);
      return post(m.statusCallback, params);
    },
    async inbound(target, msg) {
      const s = sid('SM');
      const params: Record<string, string> = {
        ToCountry: 'US',
        ToState: '',
        SmsMessageSid: s,
        NumMedia: '0',
        ToCity: '',
        FromZip: '',
        SmsSid: s,
        FromState: '',
        SmsStatus: 'received',
        FromCity: '',
        Body: msg.body,
        FromCountry: '',
        To: msg.to,
        ToZip: '',
        NumSegments: String(countSegments(msg.body)),
        MessageSid: s,
        AccountSid: accountSid,
        From: msg.from,
        ApiVersion: API_VERSION,
      };
      if (msg.optOutType) params.OptOutType = msg.optOutType;
      return post(target, params);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
