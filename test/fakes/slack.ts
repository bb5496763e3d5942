// A local stand-in for Slack's Web API (https://slack.com/api/<method>) and for interaction response URLs,
// so the real @slack/web-api WebClient and @slack/bolt can be pointed at it (`slackApiUrl: fake.url`).
//
// It answers in Slack's real shapes: HTTP 200 with `{ok: true, …}` or `{ok: false, error}`, HTTP 429 with
// Retry-After for rate limits. It keeps state where tests need realism: a message must exist to be
// updated (`message_not_found`), posting to a user id lands in that user's DM channel (`D…`, the id that
// chat.update then needs), blocks are checked against Slack's limits (`invalid_blocks`), and a token is
// required. Everything listens on 127.0.0.1 only.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSlackCall {
  /** Web API method ("chat.postMessage"), or "response_url" for POSTs to a responseUrl(). */
  method: string;
  /** The decoded request: JSON, or form fields with JSON-valued fields (blocks, attachments…) parsed. */
  body: any;
  /** Bearer token from Authorization, else the `token` field. */
  token?: string;
  /** Date.now() when the request arrived. */
  at: number;
  headers: IncomingHttpHeaders;
  /** Path for response_url calls. */
  path: string;
  /** What the fake answered. */
  status: number;
  response: any;
}

export interface FakeSlackMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: any[] | undefined;
  thread_ts?: string;
  /** How many chat.update calls changed it. */
  edits: number;
}

/** A file uploaded to the fake and shared to a channel by files.completeUploadExternal. */
export interface FakeSlackFile {
  id: string;
  filename: string;
  title: string;
  channel: string;
  initial_comment?: string;
  /** The bytes as uploaded (the multipart part's content). */
  data: Buffer;
}

export type FakeSlackHandler = (body: any, call: FakeSlackCall) => unknown | Promise<unknown>;

export interface FakeSlackOptions {
  /** When set, only this token is accepted (others: `invalid_auth`). Any non-empty token otherwise. */
  token?: string;
  teamId?: string;
  teamDomain?: string;
  botUserId?: string;
  botId?: string;
  appId?: string;
  /** email → user id, as addUser(). */
  users?: Record<string, string>;
}

export interface FakeSlack {
  /** Base for `slackApiUrl`, ends with "/api/". */
  url: string;
  /** http://127.0.0.1:port */
  origin: string;
  calls: FakeSlackCall[];
  callsOf(method: string): FakeSlackCall[];
  /** Resolves with the first call (already made or future) of `method` matching `predicate`. */
  waitForCall(method: string, predicate?: (c: FakeSlackCall) => boolean, ms?: number): Promise<FakeSlackCall>;
  /** Replace the fake's answer for `method` (until cleared with `null`); the handler returns the JSON body. */
  respondWith(method: string, handler: FakeSlackHandler | null): void;
  /** The next call of `method` gets HTTP 429 with `Retry-After: <seconds>` and `{ok:false,error:'ratelimited'}`. */
  rateLimitNext(method: string, retryAfterSeconds: number): void;
  /** The next call of `method` gets `{ok:false, error}` (e.g. invalid_auth, missing_scope, channel_not_found). */
  failNext(method: string, error: string, extra?: Record<string, unknown>): void;
  /** Directory for users.lookupByEmail (case-insensitive email). */
  addUser(email: string, id: string, name?: string): void;
  /** A fresh response_url on the fake; POSTs to it are recorded as method "response_url". */
  responseUrl(): string;
  /** The current state of a posted message (after any edits), or undefined. */
  message(channel: string, ts: string): FakeSlackMessage | undefined;
  /** The DM channel id the fake assigned to a user (after conversations.open or a post to the user). */
  dmChannelOf(userId: string): string | undefined;
  /** The id the fake assigned to a channel first addressed by name ("#alerts"). */
  channelIdOf(name: string): string | undefined;
  /** Files shared through the files.uploadV2 flow (getUploadURLExternal → upload → completeUploadExternal). */
  files: FakeSlackFile[];
  close(): Promise<void>;
}

/** Fields the WebClient JSON-encodes inside a form body. */
const JSON_FIELDS = new Set(['blocks', 'attachments', 'metadata', 'user_auth_blocks', 'view', 'unfurls']);

function decodeBody(raw: string, contentType: string | undefined): any {
  const ct = (contentType ?? '').toLowerCase();
  if (ct.includes('application/json')) {
    try {
      return raw ? JSON.parse(raw) : {};
    } catch {
      return { __invalid_json: raw };
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    if (JSON_FIELDS.has(k)) {
      try {
        out[k] = JSON.parse(v);
        continue;
      } catch {
        /* keep the string: Slack would answer invalid_blocks_format / invalid_arguments */
      }
    }
    out[k] = v;
  }
  return out;
}

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

const readBytes = (req: IncomingMessage) =>
  new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

/** The content of the first part of a multipart/form-data body (the whole body when it is not multipart). */
function multipartContent(body: Buffer, contentType: string | undefined): Buffer {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType ?? '');
  if (!boundary) return body;
  const delim = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const start = body.indexOf(delim);
  if (start < 0) return body;
  const headersEnd = body.indexOf('\r\n\r\n', start);
  const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]), headersEnd);
  return body.subarray(headersEnd + 4, next < 0 ? body.length : next);
}

/**
 * Checks blocks against the limits Slack enforces, returning Slack-style messages
 * ("must be less than 151 characters [json-pointer:/blocks/0/text/text]").
 */
export function slackBlockErrors(blocks: unknown): string[] {
  const errs: string[] = [];
  const at = (p: string) => ` [json-pointer:${p}]`;
  if (!Array.isArray(blocks)) return [`must provide an array${at('/blocks')}`];
  if (blocks.length > 50) errs.push(`no more than 50 items allowed${at('/blocks')}`);
  const ids = new Set<string>();
  const text = (t: any, p: string, max: number, kinds = ['plain_text', 'mrkdwn']) => {
    if (!t || typeof t !== 'object' || !kinds.includes(t.type)) errs.push(`must be a valid text object${at(p)}`);
    else if (typeof t.text !== 'string' || t.text.length < 1) errs.push(`must be more than 0 characters${at(`${p}/text`)}`);
    else if (t.text.length > max) errs.push(`must be less than ${max + 1} characters${at(`${p}/text`)}`);
  };
  blocks.forEach((b: any, i) => {
    const p = `/blocks/${i}`;
    if (!b || typeof b !== 'object') return errs.push(`must be an object${at(p)}`);
    if (b.block_id !== undefined) {
      if (typeof b.block_id !== 'string' || b.block_id.length > 255) errs.push(`must be less than 256 characters${at(`${p}/block_id`)}`);
      else if (ids.has(b.block_id)) errs.push(`duplicate block_id${at(`${p}/block_id`)}`);
      ids.add(b.block_id);
    }
    switch (b.type) {
      case 'header':
        text(b.text, `${p}/text`, 150, ['plain_text']);
        break;
      case 'section':
        if (b.text === undefined && !Array.isArray(b.fields)) errs.push(`must provide text or fields${at(p)}`);
        if (b.text !== undefined) text(b.text, `${p}/text`, 3000);
        if (Array.isArray(b.fields)) {
          if (b.fields.length > 10) errs.push(`no more than 10 items allowed${at(`${p}/fields`)}`);
          b.fields.forEach((f: any, j: number) => text(f, `${p}/fields/${j}`, 2000));
        }
        break;
      case 'context':
        if (!Array.isArray(b.elements) || !b.elements.length) errs.push(`must provide elements${at(`${p}/elements`)}`);
        else {
          if (b.elements.length > 10) errs.push(`no more than 10 items allowed${at(`${p}/elements`)}`);
          b.elements.forEach((e: any, j: number) => e?.type !== 'image' && text(e, `${p}/elements/${j}`, 3000));
        }
        break;
      case 'actions':
        if (!Array.isArray(b.elements) || !b.elements.length) errs.push(`must provide elements${at(`${p}/elements`)}`);
        else {
          if (b.elements.length > 25) errs.push(`no more than 25 items allowed${at(`${p}/elements`)}`);
          const actionIds = new Set<string>();
          b.elements.forEach((e: any, j: number) => {
            const q = `${p}/elements/${j}`;
            if (e?.type !== 'button') return;
            text(e.text, `${q}/text`, 75, ['plain_text']);
            if (e.value !== undefined && String(e.value).length > 2000) errs.push(`must be less than 2001 characters${at(`${q}/value`)}`);
            if (e.url !== undefined && String(e.url).length > 3000) errs.push(`must be less than 3001 characters${at(`${q}/url`)}`);
            if (e.style !== undefined && e.style !== 'primary' && e.style !== 'danger') errs.push(`must be a valid enum value${at(`${q}/style`)}`);
            if (e.action_id !== undefined) {
              if (String(e.action_id).length > 255) errs.push(`must be less than 256 characters${at(`${q}/action_id`)}`);
              if (actionIds.has(e.action_id)) errs.push(`duplicate action_id${at(`${q}/action_id`)}`);
              actionIds.add(e.action_id);
            }
          });
        }
        break;
      case 'divider':
      case 'image':
      case 'rich_text':
      case 'markdown':
      case 'input':
      case 'file':
      case 'video':
        break;
      default:
        errs.push(`must be a valid enum value${at(`${p}/type`)}`);
    }
  });
  return errs;
}

export async function startFakeSlack(opts: FakeSlackOptions = {}): Promise<FakeSlack> {
  const teamId = opts.teamId ?? 'T0HERALD1';
  const teamDomain = opts.teamDomain ?? 'herald-test';
  const botUserId = opts.botUserId ?? 'U0HERALDBOT';
  const botId = opts.botId ?? 'B0HERALDBOT';
  const appId = opts.appId ?? 'A0HERALDAPP';

  const calls: FakeSlackCall[] = [];
  const waiters = new Set<{ method: string; pred?: (c: FakeSlackCall) => boolean; resolve: (c: FakeSlackCall) => void; reject: (e: Error) => void }>();
  const handlers = new Map<string, FakeSlackHandler>();
  const queued = new Map<string, Array<{ kind: 'rate'; seconds: number } | { kind: 'fail'; error: string; extra?: Record<string, unknown> }>>();
  const directory = new Map<string, { id: string; name: string }>();
  const dms = new Map<string, string>(); // user id → D channel
  const messages = new Map<string, FakeSlackMessage>(); // `${channel}:${ts}`
  const knownChannels = new Set<string>();
  const named = new Map<string, string>(); // channel name → C id
  const responseUrls = new Map<string, number>(); // path → uses
  const uploads = new Map<string, { filename: string; length: number; data: Buffer | null }>(); // file id → upload
  const files: FakeSlackFile[] = [];
  let fileCounter = 0;
  let tsCounter = 0;
  let dmCounter = 0;
  let responseCounter = 0;
  const tsBase = Math.floor(Date.now() / 1000);

  for (const [email, id] of Object.entries(opts.users ?? {})) directory.set(email.toLowerCase(), { id, name: email.split('@')[0] });

  const nextTs = () => {
    tsCounter++;
    return `${tsBase + Math.floor(tsCounter / 1_000_000)}.${String(tsCounter % 1_000_000).padStart(6, '0')}`;
  };
  const dmFor = (user: string) => {
    let d = dms.get(user);
    if (!d) {
      dmCounter++;
      d = `D${String(dmCounter).padStart(8, '0')}${user.replace(/[^A-Z0-9]/gi, '').slice(-4).toUpperCase()}`;
      dms.set(user, d);
      knownChannels.add(d);
    }
    return d;
  };
  /** Slack resolves a user id given as `channel` to the DM with that user; other ids must look like channels. */
  const resolveChannel = (ch: unknown): string | null => {
    if (typeof ch !== 'string' || !ch) return null;
    if (/^[UW][A-Z0-9]+$/.test(ch)) return dmFor(ch);
    // Slack also accepts a channel name ("#alerts" or "alerts") where it takes a channel id.
    const name = /^#?([a-z0-9][a-z0-9._-]{0,79})$/.exec(ch)?.[1];
    if (name) {
      let id = named.get(name);
      if (!id) named.set(name, (id = `C${String(named.size + 1).padStart(8, '0')}NAMED`));
      knownChannels.add(id);
      return id;
    }
    if (/^[CG][A-Z0-9]+$/.test(ch)) return ch;
    if (/^D[A-Z0-9]+$/.test(ch) && knownChannels.has(ch)) return ch;
    return null;
  };
  const botMessage = (m: FakeSlackMessage) => ({
    type: 'message',
    user: botUserId,
    bot_id: botId,
    app_id: appId,
    team: teamId,
    text: m.text,
    ts: m.ts,
    ...(m.blocks ? { blocks: m.blocks } : {}),
    ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}),
    bot_profile: { id: botId, app_id: appId, name: 'Herald', deleted: false, team_id: teamId },
  });
  const hasContent = (b: any) =>
    (typeof b.text === 'string' && b.text.length > 0) || (Array.isArray(b.blocks) && b.blocks.length > 0) || (Array.isArray(b.attachments) && b.attachments.length > 0);
  const contentError = (b: any): Record<string, unknown> | null => {
    if (b.blocks !== undefined) {
      if (typeof b.blocks === 'string') return { ok: false, error: 'invalid_blocks_format' };
      const errors = slackBlockErrors(b.blocks);
      if (errors.length) return { ok: false, error: 'invalid_blocks', errors, response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) } };
    }
    if (typeof b.text === 'string' && b.text.length > 40_000) return { ok: false, error: 'msg_too_long' };
    return null;
  };

  const methods: Record<string, (b: any) => Record<string, unknown>> = {
    'api.test': (b) => ({ ok: true, args: b }),
    'auth.test': () => ({
      ok: true,
      url: `https://${teamDomain}.slack.com/`,
      team: 'Herald Test',
      user: 'herald',
      team_id: teamId,
      user_id: botUserId,
      bot_id: botId,
      is_enterprise_install: false,
    }),
    'chat.postMessage': (b) => {
      const channel = resolveChannel(b.channel);
      if (!channel) return { ok: false, error: 'channel_not_found' };
      if (!hasContent(b)) return { ok: false, error: 'no_text' };
      const bad = contentError(b);
      if (bad) return bad;
      knownChannels.add(channel);
      const m: FakeSlackMessage = { channel, ts: nextTs(), text: b.text ?? '', blocks: b.blocks, thread_ts: b.thread_ts, edits: 0 };
      messages.set(`${channel}:${m.ts}`, m);
      return { ok: true, channel, ts: m.ts, message: botMessage(m) };
    },
    'chat.update': (b) => {
      if (typeof b.channel !== 'string' || !knownChannels.has(b.channel)) return { ok: false, error: 'channel_not_found' };
      const m = messages.get(`${b.channel}:${b.ts}`);
      if (!m) return { ok: false, error: 'message_not_found' };
      if (!hasContent(b)) return { ok: false, error: 'no_text' };
      const bad = contentError(b);
      if (bad) return bad;
      if (b.text !== undefined) m.text = b.text;
      if (b.blocks !== undefined) m.blocks = b.blocks;
      m.edits++;
      return { ok: true, channel: m.channel, ts: m.ts, text: m.text, message: { ...botMessage(m), edited: { user: botUserId, ts: nextTs() } } };
    },
    'chat.postEphemeral': (b) => {
      const channel = resolveChannel(b.channel);
      if (!channel) return { ok: false, error: 'channel_not_found' };
      if (typeof b.user !== 'string' || !b.user) return { ok: false, error: 'user_not_in_channel' };
      if (!hasContent(b)) return { ok: false, error: 'no_text' };
      const bad = contentError(b);
      if (bad) return bad;
      return { ok: true, message_ts: nextTs() };
    },
    'conversations.open': (b) => {
      const users = String(b.users ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (b.channel) {
        const ch = resolveChannel(b.channel);
        return ch ? { ok: true, no_op: true, already_open: true, channel: { id: ch } } : { ok: false, error: 'channel_not_found' };
      }
      if (!users.length) return { ok: false, error: 'users_list_not_supplied' };
      if (users.length > 1) return { ok: false, error: 'not_supported', detail: 'multi-person DMs are not faked' };
      if (!/^[UW][A-Z0-9]+$/.test(users[0])) return { ok: false, error: 'user_not_found' };
      const already = dms.has(users[0]);
      return { ok: true, no_op: already, already_open: already, channel: { id: dmFor(users[0]) } };
    },
    'users.lookupByEmail': (b) => {
      const entry = directory.get(String(b.email ?? '').toLowerCase());
      if (!entry) return { ok: false, error: 'users_not_found' };
      return {
        ok: true,
        user: {
          id: entry.id,
          team_id: teamId,
          name: entry.name,
          deleted: false,
          real_name: entry.name,
          tz: 'Europe/Berlin',
          is_bot: false,
          is_admin: false,
          profile: { email: String(b.email), real_name: entry.name, display_name: entry.name, team: teamId },
        },
      };
    },
    // files.uploadV2, step 1: a URL to send the bytes to, and the file's id.
    'files.getUploadURLExternal': (b) => {
      const length = Number(b.length);
      if (typeof b.filename !== 'string' || !b.filename) return { ok: false, error: 'invalid_arguments' };
      if (!Number.isInteger(length) || length < 1) return { ok: false, error: 'invalid_arguments' };
      fileCounter++;
      const id = `F${String(fileCounter).padStart(9, '0')}`;
      uploads.set(id, { filename: b.filename, length, data: null });
      return { ok: true, upload_url: `${origin}/upload/v1/${id}`, file_id: id };
    },
    // Step 3: share the uploaded files to a channel.
    'files.completeUploadExternal': (b) => {
      let list: Array<{ id: string; title?: string }>;
      try {
        list = typeof b.files === 'string' ? JSON.parse(b.files) : b.files;
      } catch {
        return { ok: false, error: 'invalid_arguments' };
      }
      if (!Array.isArray(list) || !list.length) return { ok: false, error: 'invalid_arguments' };
      let channel: string | undefined;
      if (b.channel_id !== undefined) {
        // Uploads take a channel id, never a name.
        if (typeof b.channel_id !== 'string' || !/^[CGD][A-Z0-9]+$/.test(b.channel_id) || !resolveChannel(b.channel_id)) return { ok: false, error: 'channel_not_found' };
        channel = b.channel_id;
      }
      const done = [];
      for (const f of list) {
        const u = uploads.get(f.id);
        if (!u) return { ok: false, error: 'file_not_found' };
        if (!u.data) return { ok: false, error: 'file_upload_not_completed' };
        if (u.data.length !== u.length) return { ok: false, error: 'file_size_mismatch' };
        if (channel) files.push({ id: f.id, filename: u.filename, title: f.title ?? u.filename, channel, initial_comment: b.initial_comment, data: u.data });
        done.push({ id: f.id, name: u.filename, title: f.title ?? u.filename, size: u.length, channels: channel ? [channel] : [] });
      }
      return { ok: true, files: done };
    },
    // The reverse of lookupByEmail, over the same directory: what a profile shows with users:read.email.
    'users.info': (b) => {
      const found = [...directory.entries()].find(([, v]) => v.id === b.user);
      if (!found) return { ok: false, error: 'user_not_found' };
      const [email, entry] = found;
      return {
        ok: true,
        user: {
          id: entry.id, team_id: teamId, name: entry.name, deleted: false, real_name: entry.name, tz: 'Europe/Berlin', is_bot: false, is_admin: false,
          profile: { email, real_name: entry.name, display_name: entry.name, team: teamId },
        },
      };
    },
  };

  const record = (call: FakeSlackCall) => {
    calls.push(call);
    for (const w of [...waiters]) {
      if (w.method === call.method && (!w.pred || w.pred(call))) {
        waiters.delete(w);
        w.resolve(call);
      }
    }
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  };

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      // files.uploadV2, step 2: the bytes, as multipart/form-data (binary: never decoded as text).
      const up = /^\/upload\/v1\/(F[0-9]+)$/.exec(url.pathname);
      if (up) {
        const rawBytes = await readBytes(req);
        const u = uploads.get(up[1]);
        const call: FakeSlackCall = { method: 'upload', body: { file_id: up[1], bytes: rawBytes.length }, at: Date.now(), headers: req.headers, path: url.pathname, status: 200, response: 'OK' };
        if (!u) Object.assign(call, { status: 404, response: 'not found' });
        else u.data = multipartContent(rawBytes, req.headers['content-type']);
        record(call);
        res.writeHead(call.status, { 'content-type': 'text/plain' });
        return res.end(call.response);
      }
      const raw = await readBody(req);
      const body = req.method === 'GET' ? Object.fromEntries(url.searchParams) : decodeBody(raw, req.headers['content-type']);
      const auth = req.headers.authorization;
      const token = auth?.startsWith('Bearer ') ? auth.slice(7) : typeof body?.token === 'string' ? body.token : undefined;

      if (url.pathname.startsWith('/response/')) {
        const uses = responseUrls.get(url.pathname);
        const call: FakeSlackCall = { method: 'response_url', body, token, at: Date.now(), headers: req.headers, path: url.pathname, status: 200, response: { ok: true } };
        if (uses === undefined) Object.assign(call, { status: 404, response: { ok: false, error: 'expired_url' } });
        // Slack allows a response_url to be used 5 times.
        else if (uses >= 5) Object.assign(call, { status: 404, response: { ok: false, error: 'used_url' } });
        else responseUrls.set(url.pathname, uses + 1);
        record(call);
        return send(res, call.status, call.response);
      }

      const m = /^\/api\/([A-Za-z0-9_.]+)$/.exec(url.pathname);
      const method = m?.[1] ?? url.pathname;
      const call: FakeSlackCall = { method, body, token, at: Date.now(), headers: req.headers, path: url.pathname, status: 200, response: undefined };

      const q = queued.get(method);
      const next = q?.shift();
      if (next?.kind === 'rate') {
        call.status = 429;
        call.response = { ok: false, error: 'ratelimited' };
        record(call);
        return send(res, 429, call.response, { 'retry-after': String(Math.max(0, Math.ceil(next.seconds))) });
      }
      if (next?.kind === 'fail') {
        call.response = { ok: false, error: next.error, ...next.extra };
      } else if (!m) {
        call.status = 404;
        call.response = { ok: false, error: 'unknown_method' };
      } else if (!token && method !== 'api.test') {
        call.response = { ok: false, error: 'not_authed' };
      } else if (opts.token && token !== opts.token && method !== 'api.test') {
        call.response = { ok: false, error: 'invalid_auth' };
      } else if (handlers.has(method)) {
        call.response = await handlers.get(method)!(body, call);
      } else if (methods[method]) {
        call.response = methods[method](body);
      } else {
        call.response = { ok: false, error: 'unknown_method' };
      }
      record(call);
      return send(res, call.status, call.response);
    } catch (err) {
      send(res, 500, { ok: false, error: 'fatal_error', detail: String(err) });
    }
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  return {
    url: `${origin}/api/`,
    origin,
    calls,
    callsOf: (method) => calls.filter((c) => c.method === method),
    waitForCall(method, predicate, ms = 5000) {
      const found = calls.find((c) => c.method === method && (!predicate || predicate(c)));
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = {
          method,
          pred: predicate,
          resolve: (c: FakeSlackCall) => (clearTimeout(timer), resolve(c)),
          reject: (e: Error) => (clearTimeout(timer), reject(e)),
        };
        const timer = setTimeout(() => {
          waiters.delete(w);
          const seen = calls.map((c) => c.method).join(', ') || 'none';
          reject(new Error(`fake Slack: no ${method} call matching within ${ms} ms (calls: ${seen})`));
        }, ms);
        waiters.add(w);
      });
    },
    respondWith(method, handler) {
      if (handler) handlers.set(method, handler);
      else handlers.delete(method);
    },
    rateLimitNext(method, retryAfterSeconds) {
      const q = queued.get(method) ?? [];
      q.push({ kind: 'rate', seconds: retryAfterSeconds });
      queued.set(method, q);
    },
    failNext(method, error, extra) {
      const q = queued.get(method) ?? [];
      q.push({ kind: 'fail', error, extra });
      queued.set(method, q);
    },
    addUser(email, id, name) {
      directory.set(email.toLowerCase(), { id, name: name ?? email.split('@')[0] });
    },
    responseUrl() {
      responseCounter++;
      const path = `/response/${teamId}/${1_000_000 + responseCounter}/${Math.random().toString(36).slice(2, 14)}`;
      responseUrls.set(path, 0);
      return `${origin}${path}`;
    },
    message: (channel, ts) => messages.get(`${channel}:${ts}`),
    dmChannelOf: (userId) => dms.get(userId),
    channelIdOf: (name) => named.get(name.replace(/^#/, '')),
    files,
    close() {
      for (const w of waiters) w.reject(new Error(`fake Slack closed while waiting for ${w.method}`));
      waiters.clear();
      return new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      });
    },
  };
}
