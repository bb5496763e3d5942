// A local stand-in for Discord's REST API (https://discord.com/api/v10/...), so the real @discordjs/rest
// `REST` (and discord.js) can be pointed at it: `new REST({ api: fake.api }).setToken('x')`.
//
// It answers in Discord's real shapes: message objects with snowflake ids, 204 for interaction callbacks,
// `{code, message, errors}` for invalid bodies (50035 "Invalid Form Body"), unknown messages (10008), an
// interaction answered twice (40060), and 429s with `{message, retry_after, global}` plus the Retry-After
// and X-RateLimit-* headers the client reads. Messages are kept so edits can be checked. 127.0.0.1 only.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeDiscordCall {
  /** HTTP method: "POST", "PATCH", "PUT"… */
  method: string;
  /** Path below the api base, e.g. "/v10/channels/123/messages". */
  path: string;
  query: Record<string, string>;
  body: any;
  /** The token after "Bot " in Authorization, if any. */
  token?: string;
  headers: IncomingHttpHeaders;
  at: number;
  status: number;
  response: any;
}

export interface FakeDiscordOptions {
  /** When set, other bot tokens get 401. */
  token?: string;
  applicationId?: string;
}

export interface FakeDiscordMessage {
  id: string;
  channel_id: string;
  content: string;
  embeds: any[];
  components: any[];
  allowed_mentions?: any;
  /** A reply's reference to the message it answers ({message_id, channel_id?, fail_if_not_exists?}). */
  message_reference?: any;
  edits: number;
}

export interface FakeDiscord {
  /** Base for `new REST({ api })`, e.g. "http://127.0.0.1:1234/api" (no version, no trailing slash). */
  api: string;
  calls: FakeDiscordCall[];
  callsOf(method: string, pathRegex?: RegExp): FakeDiscordCall[];
  /** Resolves with the first call (already made or future) with this HTTP method whose path matches. */
  waitForCall(method: string, pathRegex: RegExp, ms?: number): Promise<FakeDiscordCall>;
  /** The next request (optionally: the next one matching) gets a 429 in Discord's shape. */
  rateLimitNext(retryAfterSeconds: number, opts?: { global?: boolean; method?: string; pathRegex?: RegExp }): void;
  /** A message as it stands after any edits. */
  message(channelId: string, messageId: string): FakeDiscordMessage | undefined;
  /** Registered commands: `commands()` global, `commands(guildId)` per guild. */
  commands(guildId?: string): any[];
  /** The DM channel the fake opened with a user (POST /users/@me/channels), if any. */
  dmChannelOf(userId: string): string | undefined;
  close(): Promise<void>;
}

const DISCORD_EPOCH = 1420070400000n;
/**
 * The fake does not know which channel an interaction came from (tests build interactions themselves), so
 * interaction responses and follow-ups are kept under this pseudo channel id.
 */
export const INTERACTION_CHANNEL = '0';

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

/** `{ embeds: { 0: { title: { _errors: [...] } } } }` from "embeds.0.title". */
function formErrors(list: Array<[string, string, string]>) {
  const errors: any = {};
  for (const [path, code, message] of list) {
    let node = errors;
    for (const part of path.split('.')) node = node[part] ??= {};
    (node._errors ??= []).push({ code, message });
  }
  return { code: 50035, errors, message: 'Invalid Form Body' };
}

/** Discord's length and count limits for a message body; [] when valid. */
export function discordMessageErrors(b: any): Array<[string, string, string]> {
  const errs: Array<[string, string, string]> = [];
  const max = (path: string, v: unknown, n: number) => {
    if (typeof v === 'string' && v.length > n) errs.push([path, 'BASE_TYPE_MAX_LENGTH', `Must be ${n} or fewer in length.`]);
  };
  max('content', b.content, 2000);
  if (Array.isArray(b.embeds)) {
    if (b.embeds.length > 10) errs.push(['embeds', 'BASE_TYPE_MAX_LENGTH', 'Must be 10 or fewer in length.']);
    let total = 0;
    b.embeds.forEach((e: any, i: number) => {
      const p = `embeds.${i}`;
      max(`${p}.title`, e?.title, 256);
      max(`${p}.description`, e?.description, 4096);
      max(`${p}.footer.text`, e?.footer?.text, 2048);
      max(`${p}.author.name`, e?.author?.name, 256);
      if (e?.color !== undefined && (!Number.isInteger(e.color) || e.color < 0 || e.color > 0xffffff)) {
        errs.push([`${p}.color`, 'NUMBER_TYPE_MAX', 'int value should be less than or equal to 16777215.']);
      }
      const fields = Array.isArray(e?.fields) ? e.fields : [];
      if (fields.length > 25) errs.push([`${p}.fields`, 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.']);
      fields.forEach((f: any, j: number) => {
        if (typeof f?.name !== 'string' || !f.name.length) errs.push([`${p}.fields.${j}.name`, 'BASE_TYPE_REQUIRED', 'This field is required']);
        if (typeof f?.value !== 'string' || !f.value.length) errs.push([`${p}.fields.${j}.value`, 'BASE_TYPE_REQUIRED', 'This field is required']);
        max(`${p}.fields.${j}.name`, f?.name, 256);
        max(`${p}.fields.${j}.value`, f?.value, 1024);
        total += String(f?.name ?? '').length + String(f?.value ?? '').length;
      });
      total += [e?.title, e?.description, e?.footer?.text, e?.author?.name].reduce((n, s) => n + (typeof s === 'string' ? s.length : 0), 0);
    });
    if (total > 6000) errs.push(['embeds', 'MAX_EMBED_SIZE_EXCEEDED', 'Embed size exceeds maximum size of 6000']);
  }
  if (Array.isArray(b.components)) {
    if (b.components.length > 5) errs.push(['components', 'BASE_TYPE_MAX_LENGTH', 'Must be 5 or fewer in length.']);
    const ids = new Set<string>();
    b.components.forEach((row: any, i: number) => {
      const items = Array.isArray(row?.components) ? row.components : [];
      if (row?.type !== 1) errs.push([`components.${i}.type`, 'BASE_TYPE_CHOICES', 'Value must be one of {1}.']);
      if (items.length < 1 || items.length > 5) errs.push([`components.${i}.components`, 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 5 in length.']);
      items.forEach((c: any, j: number) => {
        const p = `components.${i}.components.${j}`;
        if (c?.type !== 2) return;
        max(`${p}.label`, c.label, 80);
        if (c.style === 5) {
          if (typeof c.url !== 'string' || !/^https?:\/\//.test(c.url)) errs.push([`${p}.url`, 'URL_TYPE_INVALID_URL', 'Not a well formed URL.']);
          if (c.custom_id !== undefined) errs.push([`${p}.custom_id`, 'COMPONENT_LAYOUT_WIDTH_EXCEEDED', 'Link buttons cannot have a custom_id']);
        } else {
          if (typeof c.custom_id !== 'string' || !c.custom_id.length) errs.push([`${p}.custom_id`, 'BASE_TYPE_REQUIRED', 'This field is required']);
          max(`${p}.custom_id`, c.custom_id, 100);
          if (ids.has(c.custom_id)) errs.push([`${p}.custom_id`, 'COMPONENT_CUSTOM_ID_DUPLICATED', 'Component custom id cannot be duplicated']);
          ids.add(c.custom_id);
        }
      });
    });
  }
  return errs;
}

export async function startFakeDiscord(opts: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  const applicationId = opts.applicationId ?? '1100000000000000001';
  const calls: FakeDiscordCall[] = [];
  const waiters = new Set<{ method: string; re: RegExp; resolve: (c: FakeDiscordCall) => void; reject: (e: Error) => void }>();
  const limits: Array<{ seconds: number; global: boolean; method?: string; re?: RegExp }> = [];
  const messages = new Map<string, FakeDiscordMessage>(); // `${channel}:${id}`
  const answered = new Map<string, { token: string; type: number; originalId: string | null }>(); // interaction id →
  const tokens = new Map<string, { channelId: string; originalId: string | null }>(); // interaction token → follow-up webhook
  const commandSets = new Map<string, any[]>(); // '' global, else guild id
  const dmChannels = new Map<string, string>(); // recipient user id → DM channel id
  let seq = 0n;

  const snowflake = () => {
    seq = (seq + 1n) & 0xfffn;
    return (((BigInt(Date.now()) - DISCORD_EPOCH) << 22n) | (1n << 17n) | seq).toString();
  };

  const messageObject = (m: FakeDiscordMessage, webhookId?: string) => ({
    id: m.id,
    type: 0,
    content: m.content,
    channel_id: m.channel_id,
    author: { id: applicationId, username: 'Herald', discriminator: '0000', global_name: null, avatar: null, bot: true },
    attachments: [],
    embeds: m.embeds,
    components: m.components,
    mentions: [],
    mention_roles: [],
    mention_everyone: false,
    pinned: false,
    tts: false,
    timestamp: new Date().toISOString(),
    edited_timestamp: m.edits ? new Date().toISOString() : null,
    flags: 0,
    ...(webhookId ? { webhook_id: webhookId, application_id: applicationId } : {}),
  });

  const createMessage = (channelId: string, b: any): { status: number; body: any } => {
    const hasAny = (typeof b.content === 'string' && b.content.length) || (Array.isArray(b.embeds) && b.embeds.length) || (Array.isArray(b.components) && b.components.length);
    if (!hasAny) return { status: 400, body: { message: 'Cannot send an empty message', code: 50006 } };
    const errs = discordMessageErrors(b);
    if (errs.length) return { status: 400, body: formErrors(errs) };
    // A reply must reference a message of the same channel; Discord refuses an unknown one unless told not to.
    const ref = b.message_reference;
    if (ref && !messages.has(`${ref.channel_id ?? channelId}:${ref.message_id}`) && ref.fail_if_not_exists !== false) {
      return { status: 400, body: formErrors([['message_reference', 'REPLIES_UNKNOWN_MESSAGE', 'Unknown message']]) };
    }
    if (ref && ref.channel_id !== undefined && ref.channel_id !== channelId) {
      return { status: 400, body: formErrors([['message_reference', 'REPLIES_CANNOT_REFERENCE_OTHER_CHANNEL', 'Cannot reply to a message in another channel']]) };
    }
    const m: FakeDiscordMessage = {
      id: snowflake(),
      channel_id: channelId,
      content: b.content ?? '',
      embeds: b.embeds ?? [],
      components: b.components ?? [],
      allowed_mentions: b.allowed_mentions,
      ...(ref ? { message_reference: ref } : {}),
      edits: 0,
    };
    messages.set(`${channelId}:${m.id}`, m);
    return { status: 200, body: m };
  };

  const editMessage = (m: FakeDiscordMessage | undefined, b: any): { status: number; body: any } => {
    if (!m) return { status: 404, body: { message: 'Unknown Message', code: 10008 } };
    const errs = discordMessageErrors(b);
    if (errs.length) return { status: 400, body: formErrors(errs) };
    if (b.content !== undefined) m.content = b.content ?? '';
    if (b.embeds !== undefined) m.embeds = b.embeds ?? [];
    if (b.components !== undefined) m.components = b.components ?? [];
    if (b.allowed_mentions !== undefined) m.allowed_mentions = b.allowed_mentions;
    m.edits++;
    return { status: 200, body: m };
  };

  const putCommands = (key: string, b: any): { status: number; body: any } => {
    if (!Array.isArray(b)) return { status: 400, body: formErrors([['_root', 'BASE_TYPE_ARRAY', 'Must be an array.']]) };
    const errs: Array<[string, string, string]> = [];
    b.forEach((c: any, i: number) => {
      if (typeof c?.name !== 'string' || !/^[-_\p{Ll}\p{N}]{1,32}$/u.test(c.name)) errs.push([`${i}.name`, 'APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid']);
      if ((c?.type ?? 1) === 1 && (typeof c?.description !== 'string' || c.description.length < 1 || c.description.length > 100)) {
        errs.push([`${i}.description`, 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.']);
      }
    });
    if (errs.length) return { status: 400, body: formErrors(errs) };
    const prev = commandSets.get(key) ?? [];
    const saved = b.map((c: any) => ({
      id: prev.find((p) => p.name === c.name)?.id ?? snowflake(),
      application_id: applicationId,
      version: snowflake(),
      default_member_permissions: null,
      type: 1,
      nsfw: false,
      ...(key ? { guild_id: key } : {}),
      ...c,
    }));
    commandSets.set(key, saved);
    return { status: 200, body: saved };
  };

  const record = (call: FakeDiscordCall) => {
    calls.push(call);
    for (const w of [...waiters]) {
      if (w.method === call.method && w.re.test(call.path)) {
        waiters.delete(w);
        w.resolve(call);
      }
    }
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    if (status === 204) {
      res.writeHead(204, headers);
      return res.end();
    }
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const route = (method: string, path: string, query: Record<string, string>, body: any, token: string | undefined): { status: number; body: any } => {
    let m: RegExpExecArray | null;
    const needsBot = () => {
      if (!token) return { status: 401, body: { message: '401: Unauthorized', code: 0 } };
      if (opts.token && token !== opts.token) return { status: 401, body: { message: '401: Unauthorized', code: 0 } };
      return null;
    };
    // Opening (or reusing) the DM channel with a user: POST /users/@me/channels {recipient_id}.
    if (path === '/v10/users/@me/channels' && method === 'POST') {
      const denied = needsBot();
      if (denied) return denied;
      const rid = body?.recipient_id;
      if (typeof rid !== 'string' || !/^\d{15,21}$/.test(rid)) return { status: 400, body: formErrors([['recipient_id', 'NUMBER_TYPE_COERCE', `Value "${rid}" is not snowflake.`]]) };
      let id = dmChannels.get(rid);
      if (!id) dmChannels.set(rid, (id = snowflake()));
      return { status: 200, body: { id, type: 1, last_message_id: null, flags: 0, recipients: [{ id: rid, username: `user${rid.slice(-4)}`, discriminator: '0', global_name: null, avatar: null }] } };
    }
    if ((m = /^\/v10\/channels\/(\d+)\/messages$/.exec(path)) && method === 'POST') {
      return needsBot() ?? createMessage(m[1], body);
    }
    if ((m = /^\/v10\/channels\/(\d+)\/messages\/(\d+)$/.exec(path))) {
      const denied = needsBot();
      if (denied) return denied;
      const msg = messages.get(`${m[1]}:${m[2]}`);
      if (method === 'PATCH') return editMessage(msg, body);
      if (method === 'GET') return msg ? { status: 200, body: messageObject(msg) } : { status: 404, body: { message: 'Unknown Message', code: 10008 } };
    }
    if ((m = /^\/v10\/applications\/(\d+)\/commands$/.exec(path)) && method === 'PUT') {
      return needsBot() ?? putCommands('', body);
    }
    if ((m = /^\/v10\/applications\/(\d+)\/guilds\/(\d+)\/commands$/.exec(path)) && method === 'PUT') {
      return needsBot() ?? putCommands(m[2], body);
    }
    if ((m = /^\/v10\/interactions\/(\d+)\/([^/]+)\/callback$/.exec(path)) && method === 'POST') {
      const [, id, itoken] = m;
      if (answered.has(id)) return { status: 400, body: { message: 'Interaction has already been acknowledged.', code: 40060 } };
      const type = Number(body?.type);
      if (![1, 4, 5, 6, 7, 8, 9].includes(type)) return { status: 400, body: formErrors([['type', 'BASE_TYPE_CHOICES', 'Value must be one of {1, 4, 5, 6, 7, 8, 9}.']]) };
      let originalId: string | null = null;
      if (type === 4 || type === 7) {
        const errs = discordMessageErrors(body?.data ?? {});
        if (errs.length) return { status: 400, body: formErrors(errs.map(([p, c, t]) => [`data.${p}`, c, t])) };
      }
      if (type === 4 || type === 5) {
        // The interaction's own response message (type 5 shows "thinking…" until edited via @original).
        const data = type === 4 ? body?.data ?? {} : {};
        if (type === 4 && !data.content && !data.embeds?.length && !data.components?.length) {
          return { status: 400, body: { message: 'Cannot send an empty message', code: 50006 } };
        }
        const own: FakeDiscordMessage = {
          id: snowflake(),
          channel_id: INTERACTION_CHANNEL,
          content: data.content ?? '',
          embeds: data.embeds ?? [],
          components: data.components ?? [],
          edits: 0,
        };
        messages.set(`${INTERACTION_CHANNEL}:${own.id}`, own);
        originalId = own.id;
      }
      answered.set(id, { token: itoken, type, originalId });
      tokens.set(itoken, { channelId: INTERACTION_CHANNEL, originalId });
      if (query.with_response === 'true') {
        const resource: any = { type };
        if (originalId) resource.message = messageObject(messages.get(`${INTERACTION_CHANNEL}:${originalId}`)!);
        return { status: 200, body: { interaction: { id, type: 3, activity_instance_id: null, response_message_id: originalId, response_message_loading: type === 5, response_message_ephemeral: Boolean((body?.data?.flags ?? 0) & 64) }, resource } };
      }
      return { status: 204, body: undefined };
    }
    if ((m = /^\/v10\/webhooks\/(\d+)\/([^/]+)$/.exec(path)) && method === 'POST') {
      const t = tokens.get(m[2]);
      if (!t) return { status: 404, body: { message: 'Unknown Webhook', code: 10015 } };
      const created = createMessage(t.channelId, body ?? {});
      return created.status === 200 ? { status: 200, body: messageObject(created.body, m[1]) } : created;
    }
    if ((m = /^\/v10\/webhooks\/(\d+)\/([^/]+)\/messages\/(@original|\d+)$/.exec(path)) && (method === 'PATCH' || method === 'GET')) {
      const t = tokens.get(m[2]);
      if (!t) return { status: 404, body: { message: 'Unknown Webhook', code: 10015 } };
      const mid = m[3] === '@original' ? t.originalId : m[3];
      const msg = mid ? messages.get(`${t.channelId}:${mid}`) : undefined;
      if (method === 'GET') return msg ? { status: 200, body: messageObject(msg, m[1]) } : { status: 404, body: { message: 'Unknown Message', code: 10008 } };
      const edited = editMessage(msg, body ?? {});
      return edited.status === 200 ? { status: 200, body: messageObject(edited.body, m[1]) } : edited;
    }
    return { status: 404, body: { message: '404: Not Found', code: 0 } };
  };

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const raw = await readBody(req);
      let body: any;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        body = { __invalid_json: raw };
      }
      let path = url.pathname.replace(/^\/api/, '');
      try {
        path = decodeURIComponent(path); // clients may send "@original" as "%40original"
      } catch {
        /* keep it raw: it will not match a route */
      }
      const auth = req.headers.authorization;
      const token = auth?.startsWith('Bot ') ? auth.slice(4) : undefined;
      const method = (req.method ?? 'GET').toUpperCase();
      const call: FakeDiscordCall = {
        method,
        path,
        query: Object.fromEntries(url.searchParams),
        body,
        token,
        headers: req.headers,
        at: Date.now(),
        status: 0,
        response: undefined,
      };

      const li = limits.findIndex((l) => (!l.method || l.method === method) && (!l.re || l.re.test(path)));
      if (li !== -1) {
        const [l] = limits.splice(li, 1);
        const retryAfter = Math.max(0, l.seconds);
        call.status = 429;
        call.response = { message: 'You are being rate limited.', retry_after: retryAfter, global: l.global };
        const headers: Record<string, string> = {
          // Discord sends whole seconds here; the fake mirrors the requested value so tests can stay fast.
          'retry-after': String(retryAfter),
          'x-ratelimit-scope': l.global ? 'global' : 'user',
        };
        if (l.global) headers['x-ratelimit-global'] = 'true';
        else
          Object.assign(headers, {
            'x-ratelimit-limit': '5',
            'x-ratelimit-remaining': '0',
            'x-ratelimit-reset': ((Date.now() + retryAfter * 1000) / 1000).toFixed(3),
            'x-ratelimit-reset-after': retryAfter.toFixed(3),
            'x-ratelimit-bucket': 'fakebucket0000000000000000000000',
          });
        record(call);
        return send(res, 429, call.response, headers);
      }

      const out = route(method, path, call.query, body, token);
      call.status = out.status;
      const isMessage = out.status === 200 && out.body && typeof out.body === 'object' && 'edits' in out.body;
      call.response = isMessage ? messageObject(out.body) : out.body;
      if (out.status === 200 && call.response === undefined) call.status = 204;
      record(call);
      return send(res, call.status, call.response, {
        'x-ratelimit-limit': '50',
        'x-ratelimit-remaining': '49',
        'x-ratelimit-reset': ((Date.now() + 1000) / 1000).toFixed(3),
        'x-ratelimit-reset-after': '1.000',
        'x-ratelimit-bucket': 'fakebucket0000000000000000000000',
      });
    } catch (err) {
      send(res, 500, { message: '500: Internal Server Error', code: 0, detail: String(err) });
    }
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    api: `http://127.0.0.1:${port}/api`,
    calls,
    callsOf: (method, re) => calls.filter((c) => c.method === method.toUpperCase() && (!re || re.test(c.path))),
    waitForCall(method, re, ms = 5000) {
      const M = method.toUpperCase();
      const found = calls.find((c) => c.method === M && re.test(c.path));
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(w);
          const seen = calls.map((c) => `${c.method} ${c.path}`).join(', ') || 'none';
          reject(new Error(`fake Discord: no ${M} ${re} within ${ms} ms (calls: ${seen})`));
        }, ms);
        const w = {
          method: M,
          re,
          resolve: (c: FakeDiscordCall) => (clearTimeout(timer), resolve(c)),
          reject: (e: Error) => (clearTimeout(timer), reject(e)),
        };
        waiters.add(w);
      });
    },
    rateLimitNext(retryAfterSeconds, o = {}) {
      limits.push({ seconds: retryAfterSeconds, global: Boolean(o.global), method: o.method?.toUpperCase(), re: o.pathRegex });
    },
    message: (channelId, messageId) => messages.get(`${channelId}:${messageId}`),
    commands: (guildId) => commandSets.get(guildId ?? '') ?? [],
    dmChannelOf: (userId) => dmChannels.get(userId),
    close() {
      for (const w of waiters) w.reject(new Error(`fake Discord closed while waiting for ${w.method} ${w.re}`));
      waiters.clear();
      return new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      });
    },
  };
}
