// Issue 14, "Must fix first" 1 and 2: each found by sending the request shown, each sent here exactly.
// 1. A `matches` rule `^(a+)+$` and an event field of 28 × "a" + "!" froze the API and the worker (backtracking).
// 2. A NUL, a lone surrogate, year 0 or metadata 5,000 deep gave 500 and failed the good requests grouped with
//    it; NUL in user/role/key/rule/webhook fields and in query strings gave 500; so did a signed Discord `null`.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from './harness';
import { startFakeDiscord, type FakeDiscord } from './fakes/discord';
import {
  applicationCommandInteraction, componentInteraction, DEFAULT_APPLICATION_ID, DEFAULT_GUILD_ID, discordKeyPair, pingInteraction, signDiscordRequest,
  type DiscordKeyPair,
} from './fakes/discord-sign';
import type { EventInput } from '../db/events/schema';

let h: TestHerald;
let discord: FakeDiscord;
let keys: DiscordKeyPair;

beforeAll(async () => {
  discord = await startFakeDiscord({ token: 'discord-bot-token' });
  keys = discordKeyPair();
  h = await startTestHerald({
    DISCORD_BOT_TOKEN: 'discord-bot-token', DISCORD_APPLICATION_ID: DEFAULT_APPLICATION_ID, DISCORD_PUBLIC_KEY: keys.publicKeyHex,
    DISCORD_API_URL: discord.api, DISCORD_GUILD_ID: DEFAULT_GUILD_ID,
  });
});
afterAll(async () => {
  await h?.stop();
  await discord?.close();
});

type Res = { status: number; body: any; headers: Headers };
/** A 400 problem+json whose errors name `path`. */
function expectBadField(r: Res, path: string | RegExp) {
  expect(r.status, JSON.stringify(r.body)).toBe(400);
  expect(r.headers.get('content-type')).toContain('application/problem+json');
  expect(r.body).toMatchObject({ status: 400, title: expect.any(String), detail: expect.any(String) });
  const paths: string[] = r.body.errors.map((e: { path: string }) => e.path);
  expect(paths.some((p) => (typeof path === 'string' ? p === path : path.test(p))), `errors ${JSON.stringify(r.body.errors)} name ${path}`).toBe(true);
}

let seq = 0;
const good = (over: Record<string, unknown> = {}) => ({ category: 'hardening', type: 'ok', title: `Good event ${++seq}`, metadata: { n: seq }, ...over });
const eventStatus = async (id: number) => (await h.api('GET', `/v1/events/${id}`)).body.status as string;
const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;

describe('1. one rule can freeze Herald', () => {
  const evil = 'a'.repeat(28) + '!';
  let ruleId: number;

  it('accepts ^(a+)+$ (RE2 runs it in linear time) and routes the 28 × "a" + "!" event without blocking', async () => {
    const rule = await h.api('POST', '/v1/rules', {
      name: 'Evil pattern', position: 1, match: { category: 'redos', conditions: [{ field: 'metadata.s', op: 'matches', value: '^(a+)+$' }] },
      targets: { roles: ['admin'] }, channels: ['in_app'],
    });
    expect(rule.status).toBe(201);
    ruleId = rule.body.id;

    const started = Date.now();
    const ev = await h.api('POST', '/v1/events', { category: 'redos', type: 'probe', title: 'ReDoS probe', metadata: { s: evil } });
    expect(ev.status).toBe(202);
    // The API still answers while the worker routes it (one event loop for both).
    expect((await h.api('GET', '/healthz', undefined, { key: null })).status).toBe(200);
    expect(await h.eventually(async () => { const s = await eventStatus(ev.body.event_id); return s !== 'accepted' && s; }, 10_000)).toBe('unrouted');
    // Backtracking took 3.8 s for this input (doubling with each "a"); RE2 takes microseconds.
    expect(Date.now() - started).toBeLessThan(3_000);

    // A matching value still matches: the semantics are kept.
    const hit = await h.api('POST', '/v1/events', { category: 'redos', type: 'probe', title: 'All a', metadata: { s: 'aaaa' } });
    expect(await h.eventually(async () => { const s = await eventStatus(hit.body.event_id); return s !== 'accepted' && s; })).toBe('routed');
  });

  it('POST /v1/rules/test answers the same input at once', async () => {
    const t0 = Date.now();
    const r = await h.api('POST', '/v1/rules/test', { event: { category: 'redos', type: 'probe', title: 'ReDoS probe', metadata: { s: evil } } });
    expect(r.status).toBe(200);
    expect(r.body.matched).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(1_500);
    const m = await h.api('POST', '/v1/rules/test', { event: { category: 'redos', type: 'probe', title: 'All a', metadata: { s: 'a'.repeat(28) } } });
    expect(m.body.matched.map((x: { rule_id: number }) => x.rule_id)).toEqual([ruleId]);
  });

  it('refuses at save time (400 naming the field) what the engine cannot compile', async () => {
    const withPattern = (value: string) => ({ name: 'Bad pattern', match: { category: 'redos', conditions: [{ field: 'metadata.s', op: 'matches', value }] } });
    for (const bad of ['(a)\\1', '(?=a)a', 'a{5000}', '(unclosed']) {
      const r = await h.api('POST', '/v1/rules', withPattern(bad));
      expectBadField(r, 'match.conditions.0.value');
      expect(r.body.detail).toContain('metadata.s');
    }
    const patch = await h.api('PATCH', `/v1/rules/${ruleId}`, { match: { category: 'redos', conditions: [{ field: 'metadata.s', op: 'matches', value: '(a)\\1' }] } });
    expectBadField(patch, 'match.conditions.0.value');
  });
});

describe('2. one bad event fails its neighbours', () => {
  const badShapes: Array<[string, string, string | RegExp]> = [
    ['NUL in the title', JSON.stringify(good({ title: 'bad\u0000title' })), 'title'],
    ['a lone surrogate in a metadata string', JSON.stringify(good({ metadata: { note: 'half \ud800 a pair' } })), 'metadata.note'],
    ['a lone surrogate in a metadata key', JSON.stringify(good({ metadata: { 'k\udc00': 1 } })), /^metadata/],
    ['NUL in the entity id', JSON.stringify(good({ entity: { kind: 'invoice', id: 'a\u0000b' } })), 'entity.id'],
    ['occurred_at in year 0', JSON.stringify(good({ occurred_at: '0000-01-01T00:00:00Z' })), 'occurred_at'],
    ['metadata nested 5,000 deep', `{"category":"hardening","type":"deep","title":"Deep","metadata":${deep(5000)}}`, /^metadata(\.a)+$/],
    ['metadata over the size bound', JSON.stringify(good({ metadata: { big: 'x'.repeat(70_000) } })), /^metadata/],
  ];

  it.each(badShapes)('%s is a 400 naming the field', async (_name, raw, path) => {
    expectBadField(await h.api('POST', '/v1/events', undefined, { raw }), path);
  });

  it('60 good requests sent beside the bad ones all succeed (202), the bad ones get 400', async () => {
    const before = (await h.sql`select count(*)::int as n from events where category = 'hardening'`)[0].n as number;
    const goods = Array.from({ length: 60 }, () => good());
    const sends = [
      ...goods.map((e) => h.api('POST', '/v1/events', e)),
      ...badShapes.map(([, raw]) => h.api('POST', '/v1/events', undefined, { raw })),
    ];
    const results = await Promise.all(sends);
    expect(results.slice(0, 60).map((r) => r.status)).toEqual(Array(60).fill(202));
    results.slice(60).forEach((r, i) => expectBadField(r, badShapes[i][2]));
    expect((await h.sql`select count(*)::int as n from events where category = 'hardening'`)[0].n).toBe(before + 60);
  });

  it('a write Postgres refuses in a grouped flush is retried per request: only the bad one fails', async () => {
    // Past validation, straight into the ingestor every request goes through: a NUL that json_to_recordset
    // refuses. The first accept starts a flush on its own; everything queued in the same tick waits for it and
    // goes in the next flush together: the bad write and 60 good ones share one statement.
    const input = (title: string) => ({ ...good(), title, severity: 'warning', action: 'trigger' }) as EventInput;
    const outcome = (p: Promise<unknown>) => p.then(() => 'accepted', (e: Error & { code?: string }) => e.code ?? e.message);
    const ing = h.ctx.ingestor;
    const primer = outcome(ing.accept(1, [input('primer')], null));
    const bad = outcome(ing.accept(1, [input('slipped\u0000through')], null));
    const goods = Array.from({ length: 60 }, (_, i) => ing.accept(1, [input(`grouped good ${i}`)], null));
    const http = Array.from({ length: 20 }, () => h.api('POST', '/v1/events', good()));
    expect(await primer).toBe('accepted');
    expect(await bad).toBe('22P05'); // only the bad write fails, with its own error
    const accepted = await Promise.all(goods);
    expect((await Promise.all(http)).map((r) => r.status)).toEqual(Array(20).fill(202));
    const ids = accepted.map((a) => (a as Array<{ event_id: number }>)[0].event_id);
    expect((await h.sql`select count(*)::int as n from events where id = any(${ids}::bigint[])`)[0].n).toBe(60);
    expect((await h.sql`select count(*)::int as n from events where title like 'slipped%'`)[0].n).toBe(0);
  });

  it('a batch with one bad item: the item gets {error} in its slot, the others are accepted', async () => {
    const events = [good(), good({ title: 'NUL\u0000' }), good(), good({ occurred_at: '0000-01-01T00:00:00Z' }), good()];
    const r = await h.api('POST', '/v1/events/batch', { events });
    expect(r.status).toBe(202);
    expect(r.body.results).toHaveLength(5);
    for (const i of [0, 2, 4]) expect(r.body.results[i]).toEqual({ event_id: expect.any(Number), dedup_key: expect.any(String) });
    expect(r.body.results[1].error).toMatchObject({ status: 400, errors: [{ path: 'title', message: expect.stringContaining('NUL') }] });
    expect(r.body.results[3].error).toMatchObject({ status: 400, errors: [{ path: 'occurred_at', message: expect.any(String) }] });
    const ids = [0, 2, 4].map((i) => r.body.results[i].event_id);
    expect((await h.sql`select count(*)::int as n from events where id = any(${ids}::bigint[])`)[0].n).toBe(3);
    // A deep one in a batch too.
    const raw = `{"events":[${JSON.stringify(good())},{"category":"hardening","type":"deep","title":"Deep","metadata":${deep(5000)}}]}`;
    const d = await h.api('POST', '/v1/events/batch', undefined, { raw });
    expect(d.status).toBe(202);
    expect(d.body.results[0].event_id).toEqual(expect.any(Number));
    expect(d.body.results[1].error.errors[0].path).toMatch(/^metadata/);
  });

  it('the net under validation: a value Postgres refuses is a 400 alone, an {error} slot in a batch, and fails no neighbour', async () => {
    // This test's own database refuses titles that validation accepts (as Postgres would refuse a value that a
    // future field's validation missed): SQLSTATE 22023, a data exception.
    await h.sql.unsafe(`
      create function refuse_boom() returns trigger language plpgsql as $$
      begin if new.title like 'boom%' then raise exception 'the title % is refused', new.title using errcode = '22023'; end if; return new; end $$;
      create trigger refuse_boom before insert on events for each row execute function refuse_boom();`);
    try {
      const alone = await h.api('POST', '/v1/events', good({ title: 'boom alone' }));
      expect(alone.status).toBe(400);
      expect(alone.headers.get('content-type')).toContain('application/problem+json');
      expect(alone.body.detail).toContain('refused');

      const batch = await h.api('POST', '/v1/events/batch', { events: [good(), good({ title: 'boom in a batch' }), good()] });
      expect(batch.status).toBe(202);
      expect(batch.body.results[0]).toEqual({ event_id: expect.any(Number), dedup_key: expect.any(String) });
      expect(batch.body.results[1].error).toMatchObject({ status: 400, detail: expect.stringContaining('refused') });
      expect(batch.body.results[2]).toEqual({ event_id: expect.any(Number), dedup_key: expect.any(String) });

      // 60 good requests at once with 3 that the database refuses: grouped together, retried one by one.
      const sends = [
        ...Array.from({ length: 60 }, () => h.api('POST', '/v1/events', good())),
        ...[1, 2, 3].map((i) => h.api('POST', '/v1/events', good({ title: `boom ${i}` }))),
        h.api('POST', '/v1/events/batch', { events: [good({ title: 'boom batched' }), good()] }),
      ];
      const res = await Promise.all(sends);
      expect(res.slice(0, 60).map((r) => r.status)).toEqual(Array(60).fill(202));
      expect(res.slice(60, 63).map((r) => r.status)).toEqual([400, 400, 400]);
      expect(res[63].status).toBe(202);
      expect(res[63].body.results[0].error.status).toBe(400);
      expect(res[63].body.results[1].event_id).toEqual(expect.any(Number));
      expect((await h.sql`select count(*)::int as n from events where title like 'boom%'`)[0].n).toBe(0);
    } finally {
      await h.sql.unsafe('drop trigger refuse_boom on events; drop function refuse_boom();');
    }
  });

  it('dates: 1970 to 9999 are accepted, outside is a 400', async () => {
    for (const ok of ['1970-01-01T00:00:00Z', '2024-02-29T12:00:00+02:00', '9999-12-31T23:59:59Z']) {
      expect((await h.api('POST', '/v1/events', good({ occurred_at: ok }))).status).toBe(202);
    }
    for (const bad of ['1969-12-31T23:59:59Z', '0000-01-01T00:00:00Z', '2023-02-29T00:00:00Z', '+010000-01-01T00:00:00Z']) {
      expectBadField(await h.api('POST', '/v1/events', good({ occurred_at: bad })), 'occurred_at');
    }
  });

  it('NUL and lone surrogates in user, role, API key, rule and webhook fields are 400s naming the field', async () => {
    expectBadField(await h.api('POST', '/v1/users', { name: 'Nul\u0000l', email: 'nul@example.com' }), 'name');
    expectBadField(await h.api('POST', '/v1/users', { name: 'Ana', email: 'a\u0000@example.com' }), 'email');
    expectBadField(await h.api('POST', '/v1/users', { name: 'Ana', email: 'ana2@example.com', timezone: 'Europe/\u0000' }), 'timezone');
    expectBadField(await h.api('POST', '/v1/users', { name: 'Ana', email: 'ana3@example.com', phone: '+1\ud800' }), 'phone');
    const user = await h.api('POST', '/v1/users', { name: 'Ok User', email: 'ok@example.com' });
    expect(user.status).toBe(201);
    expectBadField(await h.api('PATCH', `/v1/users/${user.body.id}`, { name: '\u0000' }), 'name');
    expectBadField(await h.api('POST', '/v1/roles', { key: 'ops\u0000', name: 'Ops' }), 'key');
    expectBadField(await h.api('POST', '/v1/roles', { key: 'ops', name: 'O\u0000ps' }), 'name');
    expectBadField(await h.api('POST', '/v1/api-keys', { name: 'K\u0000', scopes: ['events:write'] }), 'name');
    expectBadField(await h.api('POST', '/v1/api-keys', { name: 'K', scopes: ['events:write'], expires_at: '0000-01-01T00:00:00Z' }), 'expires_at');
    const rule = { name: 'R', match: { category: 'x' } };
    expectBadField(await h.api('POST', '/v1/rules', { ...rule, name: 'R\u0000' }), 'name');
    expectBadField(await h.api('POST', '/v1/rules', { ...rule, match: { category: 'x', conditions: [{ field: 'metadata.a', op: 'eq', value: 'v\u0000' }] } }), 'match.conditions.0.value');
    expectBadField(await h.api('POST', '/v1/rules', { ...rule, sop: { title: 'S', steps: ['step \ud800'] } }), 'sop.steps.0');
    expectBadField(await h.api('POST', '/v1/rules', { ...rule, slack_channel: '#a\u0000' }), 'slack_channel');
    expectBadField(await h.api('POST', '/v1/rules/test', { event: good({ title: '\u0000' }) }), 'title');
    expectBadField(await h.api('POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/\u0000', events: ['*'] }), 'url');
    expectBadField(await h.api('POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/', description: 'd\u0000' }), 'description');
    expectBadField(await h.api('POST', '/v1/auth/login', { email: 'admin@example.com\u0000', password: 'x' }, { key: null }), 'email');
  });

  it('NUL in a query string or a path is a 400, not a 500', async () => {
    expectBadField(await h.api('GET', '/v1/alerts?category=%00'), 'query.category');
    expectBadField(await h.api('GET', '/v1/alerts?status=open&cursor=%00'), 'query.cursor');
    expectBadField(await h.api('GET', '/v1/rules/export?format=%00'), 'query.format');
    expectBadField(await h.api('GET', '/v1/notifications?category=%00'), 'query.category');
    expectBadField(await h.api('DELETE', '/v1/roles/%00'), '(path)');
    expect((await h.api('GET', '/v1/alerts?category=finance')).status).toBe(200);
  });

  it('a signed Discord interaction whose body is null (or another non-interaction) is a 400', async () => {
    const post = async (raw: string) => {
      const res = await fetch(`${h.url}/discord/interactions`, { method: 'POST', headers: { 'content-type': 'application/json', ...signDiscordRequest(keys.privateKey, raw) }, body: raw });
      return { status: res.status, body: await res.json() };
    };
    expect(await post('null')).toEqual({ status: 400, body: { error: expect.any(String) } });
    for (const raw of ['[]', '7', '"x"', '{}', '{"type":3,"id":"1","token":"t"}', '{"type":2,"id":"1","token":"t","data":null}', '{"type":2,"id":"1","token":"t","data":{"name":"herald","type":1,"options":[null]}}']) {
      const r = await post(raw);
      expect(r.status, raw).toBeLessThan(500);
    }
    expect(await post(JSON.stringify(pingInteraction()))).toEqual({ status: 200, body: { type: 1 } });
  });

  it('signed Discord bodies of any shape (real interactions with fields replaced by anything) never give a 500', async () => {
    const post = async (raw: string) => {
      const res = await fetch(`${h.url}/discord/interactions`, { method: 'POST', headers: { 'content-type': 'application/json', ...signDiscordRequest(keys.privateKey, raw) }, body: raw });
      await res.text();
      return res.status;
    };
    const base = () => [
      pingInteraction(),
      componentInteraction({ userId: '300000000000000009', customId: 'herald:ack:1', messageId: '1500000000000000001' }),
      applicationCommandInteraction({ userId: '300000000000000009', subcommand: 'snooze', options: { id: 1, minutes: 30 } }),
    ] as unknown as Record<string, any>[];
    const anything = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(null, [], {}, '', 'x\u0000', -0, 1e308, '1e400'));
    const shaped = fc.tuple(fc.nat(2), fc.constantFrom('type', 'id', 'token', 'data', 'member', 'user', 'message', 'application_id', 'guild_id'),
      fc.constantFrom(null, 'custom_id', 'name', 'options', 'type', 'user'), anything)
      .map(([i, k, k2, v]) => {
        const b = base()[i];
        if (k2 && b[k] && typeof b[k] === 'object') b[k][k2] = v;
        else b[k] = v;
        return JSON.stringify(b);
      });
    await fc.assert(
      fc.asyncProperty(fc.oneof(shaped, anything.map((v) => JSON.stringify(v))), async (raw) => {
        const status = await post(raw);
        expect(status, raw.slice(0, 300)).toBeLessThan(500);
      }),
      { numRuns: 300, endOnFailure: true },
    );
  }, 60_000);
});
