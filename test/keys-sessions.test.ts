// Issue 14, "API keys", "Rate limits", "Sessions": on real Postgres, through a real Herald's HTTP API — and a
// second Herald process-equivalent (its own limiter, its own usage counters) on the same database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import twilio from 'twilio';
import { generate } from 'otplib';
import { startTestHerald, ADMIN_KEY, type TestHerald } from './harness';
import { startHerald, type HeraldHandle } from '../api/server';
import { clearApiKeyCache } from '../db/api-keys/repo';

let h: TestHerald;
let b: HeraldHandle;
const FIXED_MINUTE = Date.UTC(2026, 0, 1, 12, 0, 10);
const TWILIO_TOKEN = 'twilio-test-auth-token';

beforeAll(async () => {
  h = await startTestHerald({ LOG_LEVEL: 'error' });
  // Instance B: the same database, its own process state, small limits and HERALD_REQUIRE_2FA=1.
  b = await startHerald({
    roles: { api: true, worker: false },
    env: {
      DATABASE_URL: h.databaseUrl, PORT: '0', HOST: '127.0.0.1', HERALD_SECRET_KEY: 'test-secret', LOG_LEVEL: 'silent',
      HERALD_ADMIN_EMAIL: 'admin@example.com', HERALD_ADMIN_PASSWORD: 'correct horse battery', HERALD_ADMIN_API_KEY: ADMIN_KEY,
      HERALD_RATE_LIMIT_ADDRESS_PER_MINUTE: '3', HERALD_RATE_LIMIT_SESSION_PER_MINUTE: '4', HERALD_RATE_LIMIT_PROVIDER_PER_MINUTE: '2',
      HERALD_REQUIRE_2FA: '1', TWILIO_AUTH_TOKEN: TWILIO_TOKEN, TWILIO_ACCOUNT_SID: 'ACtest', TWILIO_FROM_NUMBER: '+15005550006',
      TWILIO_API_URL: 'http://127.0.0.1:9',
    },
  });
}, 60_000);
afterAll(async () => {
  await b?.stop();
  await h?.stop();
});

async function call(base: string, method: string, path: string, o: { key?: string; cookie?: string; csrf?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  if (o.key) headers.authorization = `Bearer ${o.key}`;
  if (o.cookie) headers.cookie = o.cookie;
  if (o.csrf) headers['x-csrf-token'] = o.csrf;
  if (o.body !== undefined) headers['content-type'] ??= 'application/json';
  const r = await fetch(base + path, { method, headers, body: o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body) });
  const text = await r.text();
  let body: any = text;
  try { body = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: r.status, body, headers: r.headers };
}

async function login(base: string, email: string, password: string, ua = 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36') {
  const r = await fetch(`${base}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': ua }, body: JSON.stringify({ email, password }) });
  const body = await r.json() as any;
  return { status: r.status, body, cookie: (r.headers.get('set-cookie') ?? '').split(';')[0], csrf: body.csrf_token as string };
}

async function newKey(name: string, extra: Record<string, unknown> = {}) {
  const r = await h.api('POST', '/v1/api-keys', { name, scopes: ['events:write', 'alerts:read'], ...extra });
  expect(r.status).toBe(201);
  return r.body as { id: number; key: string };
}

async function newUser(email: string, roles: string[] = ['accounting']) {
  const r = await h.api('POST', '/v1/users', { name: email.split('@')[0], email, phone: null, roles, password: 'a long password 1' });
  expect(r.status).toBe(201);
  return r.body.id as number;
}

describe('API key rotation with an overlap window', () => {
  it('the old secret works until the window ends, then 401; the new one is shown once and works', async () => {
    const k = await newKey('rotating');
    expect((await call(h.url, 'GET', '/v1/alerts', { key: k.key })).status).toBe(200);
    const rot = await h.api('POST', `/v1/api-keys/${k.id}/rotate`, { overlap_minutes: 30 });
    expect(rot.status).toBe(200);
    expect(rot.body.key).toMatch(/^hk_/);
    expect(rot.body.key).not.toBe(k.key);
    expect(Date.parse(rot.body.previous_expires_at) - Date.now()).toBeGreaterThan(29 * 60_000);
    // Both work during the overlap.
    expect((await call(h.url, 'GET', '/v1/alerts', { key: k.key })).status).toBe(200);
    expect((await call(h.url, 'GET', '/v1/alerts', { key: rot.body.key })).status).toBe(200);
    // The listing never shows a secret again.
    const list = await h.api('GET', '/v1/api-keys');
    expect(JSON.stringify(list.body)).not.toContain(rot.body.key);
    // The window ends (moved to the past in the database, then the 5 s verification cache is dropped).
    await h.sql`update api_keys set previous_expires_at = now() - interval '1 second' where id = ${k.id}`;
    clearApiKeyCache();
    const old = await call(h.url, 'GET', '/v1/alerts', { key: k.key });
    expect(old.status).toBe(401);
    expect((await call(h.url, 'GET', '/v1/alerts', { key: rot.body.key })).status).toBe(200);
  });

  it('overlap_minutes 0 ends the old secret at once; revoked keys cannot be rotated; revoke ends every secret', async () => {
    const k = await newKey('rotate-now');
    const rot = await h.api('POST', `/v1/api-keys/${k.id}/rotate`, { overlap_minutes: 0 });
    expect(rot.status).toBe(200);
    expect((await call(h.url, 'GET', '/v1/alerts', { key: k.key })).status).toBe(401);
    expect((await call(h.url, 'GET', '/v1/alerts', { key: rot.body.key })).status).toBe(200);
    expect((await h.api('DELETE', `/v1/api-keys/${k.id}`)).status).toBe(200);
    expect((await call(h.url, 'GET', '/v1/alerts', { key: rot.body.key })).status).toBe(401);
    expect((await h.api('POST', `/v1/api-keys/${k.id}/rotate`, {})).status).toBe(409);
    expect((await h.api('POST', `/v1/api-keys/${k.id}/rotate`, { overlap_minutes: -1 })).status).toBe(400);
    expect((await h.api('POST', '/v1/api-keys/999999/rotate', {})).status).toBe(404);
  });

  it('rotating needs api_keys:write, and the 403 names it', async () => {
    const k = await newKey('not-an-admin');
    const r = await call(h.url, 'POST', `/v1/api-keys/${k.id}/rotate`, { key: k.key, body: {} });
    expect(r.status).toBe(403);
    expect(r.body.detail).toContain('api_keys:write');
  });
});

describe('API key usage', () => {
  it('counts requests per day by status class, and the last address', async () => {
    const k = await newKey('usage');
    for (let i = 0; i < 3; i++) expect((await call(h.url, 'POST', '/v1/events', { key: k.key, body: { category: 'ops', type: 'usage', title: `u${i}` } })).status).toBe(202);
    for (let i = 0; i < 2; i++) expect((await call(h.url, 'POST', '/v1/events', { key: k.key, body: { category: 'ops' } })).status).toBe(400);
    expect((await call(h.url, 'GET', '/v1/users', { key: k.key })).status).toBe(403);
    await h.ctx.usage.flush();
    const u = await h.api('GET', `/v1/api-keys/${k.id}/usage`);
    expect(u.status).toBe(200);
    const today = new Date().toISOString().slice(0, 10);
    expect(u.body.days).toEqual([{ date: today, requests: 6, by_status: { '2xx': 3, '4xx': 3 } }]);
    // A second flush adds, it does not replace.
    await call(h.url, 'GET', '/v1/alerts', { key: k.key });
    await h.ctx.usage.flush();
    const again = await h.api('GET', `/v1/api-keys/${k.id}/usage?days=7`);
    expect(again.body.days[0].by_status['2xx']).toBe(4);
    const [row] = (await h.api('GET', '/v1/api-keys')).body.items.filter((x: any) => x.id === k.id);
    expect(row.last_used_address).toMatch(/127\.0\.0\.1/);
    expect(Date.now() - Date.parse(row.last_used_at)).toBeLessThan(60_000);
    expect((await h.api('GET', `/v1/api-keys/${k.id}/usage?days=1000`)).status).toBe(400);
  });
});

describe('rate limits across two Herald instances on one database', () => {
  it('a per-key limit counted by instance A refuses on instance B with 429, Retry-After and RateLimit headers', async () => {
    const k = await newKey('limited', { rate_limit_per_minute: 5 });
    // Both instances in the same calendar minute, whatever the wall clock does meanwhile.
    h.ctx.limiter.now = () => FIXED_MINUTE;
    b.ctx.limiter.now = () => FIXED_MINUTE;
    try {
      for (let i = 0; i < 3; i++) {
        const r = await call(h.url, 'GET', '/v1/alerts', { key: k.key });
        expect(r.status).toBe(200);
        expect(r.headers.get('ratelimit-policy')).toBe('"api-key";q=5;w=60');
        expect(r.headers.get('ratelimit')).toBe(`"api-key";r=${4 - i};t=50`);
      }
      await h.ctx.limiter.sync(); // A's counts reach Postgres (every HERALD_RATE_LIMIT_SYNC_MS in production)
      expect((await call(b.url, 'GET', '/v1/alerts', { key: k.key })).status).toBe(200);
      expect((await call(b.url, 'GET', '/v1/alerts', { key: k.key })).status).toBe(200);
      const limited = await call(b.url, 'GET', '/v1/alerts', { key: k.key });
      expect(limited.status).toBe(429);
      expect(limited.headers.get('content-type')).toContain('application/problem+json');
      expect(limited.headers.get('retry-after')).toBe('50');
      expect(limited.headers.get('ratelimit-policy')).toBe('"api-key";q=5;w=60');
      expect(limited.headers.get('ratelimit')).toBe('"api-key";r=0;t=50');
      const metrics = await (await fetch(`${b.url}/metrics`)).text();
      expect(metrics).toMatch(/herald_rate_limited_total\{policy="api-key"\} [1-9]/);
      // B's count reaches A too.
      await b.ctx.limiter.sync();
      await h.ctx.limiter.sync();
      expect((await call(h.url, 'GET', '/v1/alerts', { key: k.key })).status).toBe(429);
      // The next minute starts afresh.
      h.ctx.limiter.now = () => FIXED_MINUTE + 60_000;
      expect((await call(h.url, 'GET', '/v1/alerts', { key: k.key })).status).toBe(200);
      // 429s count in the key's usage as 4xx.
      await h.ctx.usage.flush();
      await b.ctx.usage.flush();
      const u = await h.api('GET', `/v1/api-keys/${k.id}/usage`);
      expect(u.body.days[0].by_status).toEqual({ '2xx': 6, '4xx': 2 });
    } finally {
      h.ctx.limiter.now = Date.now;
      b.ctx.limiter.now = Date.now;
    }
  });

  it('the per-key limit is configurable (PATCH) and validated', async () => {
    const k = await newKey('patchable');
    const p = await h.api('PATCH', `/v1/api-keys/${k.id}`, { rate_limit_per_minute: 1 });
    expect(p.status).toBe(200);
    expect(p.body.rate_limit_per_minute).toBe(1);
    clearApiKeyCache();
    b.ctx.limiter.now = () => FIXED_MINUTE + 120_000;
    try {
      expect((await call(b.url, 'GET', '/v1/alerts', { key: k.key })).status).toBe(200);
      expect((await call(b.url, 'GET', '/v1/alerts', { key: k.key })).status).toBe(429);
    } finally { b.ctx.limiter.now = Date.now; }
    expect((await h.api('PATCH', `/v1/api-keys/${k.id}`, { rate_limit_per_minute: 0 })).status).toBe(400);
    expect((await h.api('PATCH', `/v1/api-keys/${k.id}`, { rate_limit_per_minute: 1e300 })).status).toBe(400);
    expect((await h.api('PATCH', `/v1/api-keys/${k.id}`, { rate_limit_per_minute: null })).body.rate_limit_per_minute).toBe(null);
  });

  it('per address on sign-in, per session, and provider endpoints never refuse a signed provider retry', async () => {
    const minute = FIXED_MINUTE + 180_000;
    b.ctx.limiter.now = () => minute;
    try {
      // B allows 3 unauthenticated requests a minute per address.
      const email = 'limits@example.com';
      await newUser(email);
      const s = await login(b.url, email, 'a long password 1');
      expect(s.status).toBe(200);
      expect((await login(b.url, email, 'wrong')).status).toBe(401);
      expect((await login(b.url, email, 'wrong')).status).toBe(401);
      const refused = await fetch(`${b.url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: 'a long password 1' }) });
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('50');
      expect(refused.headers.get('ratelimit-policy')).toBe('"address";q=3;w=60');
      // B allows 4 requests a minute per session.
      for (let i = 0; i < 4; i++) expect((await call(b.url, 'GET', '/v1/alerts', { cookie: s.cookie })).status).toBe(200);
      const sess = await call(b.url, 'GET', '/v1/alerts', { cookie: s.cookie });
      expect(sess.status).toBe(429);
      expect(sess.headers.get('ratelimit')).toBe('"session";r=0;t=50');
      // Provider endpoints: 2 a minute per address on B; unsigned ones beyond it are 429 ...
      const form = { MessageSid: 'SM0000000000000000000000000000000', MessageStatus: 'delivered' };
      const body = new URLSearchParams(form).toString();
      const formHeaders = { 'content-type': 'application/x-www-form-urlencoded' };
      expect((await call(b.url, 'POST', '/twilio/status', { body, headers: formHeaders })).status).toBe(403);
      expect((await call(b.url, 'POST', '/twilio/status', { body, headers: formHeaders })).status).toBe(403);
      expect((await call(b.url, 'POST', '/twilio/status', { body, headers: formHeaders })).status).toBe(429);
      // ... a forged "retry" still meets the signature check (403), and a signed retry goes through.
      const forged = await call(b.url, 'POST', '/twilio/status', { body, headers: { ...formHeaders, 'x-twilio-signature': 'forged', 'i-twilio-idempotency-token': 'x' } });
      expect(forged.status).toBe(403);
      const signature = twilio.getExpectedTwilioSignature(TWILIO_TOKEN, `${b.url}/twilio/status`, form);
      const signed = await call(b.url, 'POST', '/twilio/status', { body, headers: { ...formHeaders, 'x-twilio-signature': signature, 'i-twilio-idempotency-token': 'retry-1' } });
      expect(signed.status).toBeLessThan(300);
    } finally { b.ctx.limiter.now = Date.now; }
  });
});

describe('sessions', () => {
  it('lists my sessions with device and address; revokes one and all the others', async () => {
    const email = 'sessions@example.com';
    await newUser(email);
    const one = await login(h.url, email, 'a long password 1', 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1');
    const two = await login(h.url, email, 'a long password 1');
    const three = await login(h.url, email, 'a long password 1');
    const list = await call(h.url, 'GET', '/v1/me/sessions', { cookie: one.cookie });
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(3);
    const mine = list.body.items.find((s: any) => s.current);
    expect(mine.user_agent).toContain('iPhone');
    expect(mine.address).toMatch(/127\.0\.0\.1/);
    const others = list.body.items.filter((s: any) => !s.current);
    // Another person cannot end them (404), and a write needs the CSRF token.
    const admin = await login(h.url, 'admin@example.com', 'correct horse battery');
    expect((await call(h.url, 'DELETE', `/v1/me/sessions/${others[0].id}`, { cookie: admin.cookie, csrf: admin.csrf })).status).toBe(404);
    expect((await call(h.url, 'DELETE', `/v1/me/sessions/${others[0].id}`, { cookie: one.cookie })).status).toBe(403);
    expect((await call(h.url, 'DELETE', `/v1/me/sessions/${others[0].id}`, { cookie: one.cookie, csrf: one.csrf })).status).toBe(204);
    const alive = [two, three].filter(async () => true);
    const statuses = await Promise.all(alive.map((s) => call(h.url, 'GET', '/v1/alerts', { cookie: s.cookie }).then((r) => r.status)));
    expect(statuses.sort()).toEqual([200, 401]);
    const all = await call(h.url, 'DELETE', '/v1/me/sessions', { cookie: one.cookie, csrf: one.csrf });
    expect(all.body).toEqual({ revoked: 1 });
    expect((await call(h.url, 'GET', '/v1/alerts', { cookie: two.cookie })).status).toBe(401);
    expect((await call(h.url, 'GET', '/v1/alerts', { cookie: three.cookie })).status).toBe(401);
    expect((await call(h.url, 'GET', '/v1/alerts', { cookie: one.cookie })).status).toBe(200);
  });

  it('ends a session after the idle timeout and after the absolute timeout', async () => {
    const email = 'timeouts@example.com';
    await newUser(email);
    const idle = await login(h.url, email, 'a long password 1');
    expect((await call(h.url, 'GET', '/v1/alerts', { cookie: idle.cookie })).status).toBe(200);
    // Used 11 h 59 min ago: still alive (idle timeout 720 min), and the use moves last_seen_at.
    await h.sql`update sessions set last_seen_at = now() - interval '719 minutes' where user_id = (select id from users where email = ${email})`;
    expect((await call(h.url, 'GET', '/v1/alerts', { cookie: idle.cookie })).status).toBe(200);
    const [seen] = await h.sql`select extract(epoch from now() - last_seen_at)::int as ago from sessions where user_id = (select id from users where email = ${email})`;
    expect(seen.ago).toBeLessThan(60);
    await h.sql`update sessions set last_seen_at = now() - interval '721 minutes' where user_id = (select id from users where email = ${email})`;
    const r = await call(h.url, 'GET', '/v1/alerts', { cookie: idle.cookie });
    expect(r.status).toBe(401);
    expect(r.body.detail).toContain('expired');
    // Absolute: signed in 30 days ago, though used a moment ago.
    const abs = await login(h.url, email, 'a long password 1');
    expect((await call(h.url, 'GET', '/v1/alerts', { cookie: abs.cookie })).status).toBe(200);
    await h.sql`update sessions set created_at = now() - interval '30 days 1 minute', last_seen_at = now() where user_id = (select id from users where email = ${email})`;
    expect((await call(h.url, 'GET', '/v1/alerts', { cookie: abs.cookie })).status).toBe(401);
  });
});

const codeAt = (secret: string, offsetSteps: number, from = Date.now()) => generate({ secret, epoch: Math.floor(from / 1000) + offsetSteps * 30 });

describe('TOTP second factor', () => {
  it('enrols with an otpauth URI and QR, confirms with a code, then sign-in asks for a code (or a recovery code)', async () => {
    const email = 'totp@example.com';
    await newUser(email);
    const s = await login(h.url, email, 'a long password 1');
    expect(s.body.second_factor).toBe(null);
    expect((await call(h.url, 'GET', '/v1/me/totp', { cookie: s.cookie })).body).toMatchObject({ enabled: false, required: false });
    const en = await call(h.url, 'POST', '/v1/me/totp/enrol', { cookie: s.cookie, csrf: s.csrf });
    expect(en.status).toBe(200);
    expect(en.body.otpauth_uri).toMatch(/^otpauth:\/\/totp\/Herald:totp%40example\.com\?secret=[A-Z2-7]+&issuer=Herald/);
    expect(en.body.qr_svg).toContain('<svg');
    const secret = en.body.secret as string;
    expect((await call(h.url, 'POST', '/v1/me/totp/confirm', { cookie: s.cookie, csrf: s.csrf, body: { code: '000000' } })).status).toBe(400);
    const t0 = Date.now();
    const conf = await call(h.url, 'POST', '/v1/me/totp/confirm', { cookie: s.cookie, csrf: s.csrf, body: { code: await codeAt(secret, 0, t0) } });
    expect(conf.status).toBe(200);
    expect(conf.body.recovery_codes).toHaveLength(10);
    expect((await h.sql`select count(*)::int as n from user_recovery_codes where user_id = (select id from users where email = ${email})`)[0].n).toBe(10);
    const stored = await h.sql`select encode(code_hash, 'hex') as h from user_recovery_codes`;
    expect(JSON.stringify(stored)).not.toContain(conf.body.recovery_codes[0]);
    expect((await call(h.url, 'GET', '/v1/me/totp', { cookie: s.cookie })).body).toMatchObject({ enabled: true, recovery_codes_left: 10 });

    // Sign in again: the password alone gives a session good for nothing but the code.
    const p = await login(h.url, email, 'a long password 1');
    expect(p.body.second_factor).toBe('totp');
    expect((await call(h.url, 'GET', '/v1/alerts', { cookie: p.cookie })).status).toBe(401);
    expect((await call(h.url, 'POST', '/v1/auth/totp', { cookie: p.cookie, csrf: p.csrf, body: { code: '123456' } })).status).toBe(401);
    // The code of the step just used to confirm is refused (replay); the next step's code is accepted.
    expect((await call(h.url, 'POST', '/v1/auth/totp', { cookie: p.cookie, csrf: p.csrf, body: { code: await codeAt(secret, 0, t0) } })).status).toBe(401);
    const ok = await call(h.url, 'POST', '/v1/auth/totp', { cookie: p.cookie, csrf: p.csrf, body: { code: await codeAt(secret, 1) } });
    expect(ok.status).toBe(200);
    expect((await call(h.url, 'GET', '/v1/alerts', { cookie: p.cookie })).status).toBe(200);

    // A recovery code works once.
    const rc = conf.body.recovery_codes[0] as string;
    const q = await login(h.url, email, 'a long password 1');
    expect((await call(h.url, 'POST', '/v1/auth/totp', { cookie: q.cookie, csrf: q.csrf, body: { code: rc } })).status).toBe(200);
    const q2 = await login(h.url, email, 'a long password 1');
    expect((await call(h.url, 'POST', '/v1/auth/totp', { cookie: q2.cookie, csrf: q2.csrf, body: { code: rc } })).status).toBe(401);
    // Five wrong codes end the pending sign-in (the reused recovery code was the first).
    for (let i = 0; i < 3; i++) expect((await call(h.url, 'POST', '/v1/auth/totp', { cookie: q2.cookie, csrf: q2.csrf, body: { code: '111111' } })).status).toBe(401);
    const fifth = await call(h.url, 'POST', '/v1/auth/totp', { cookie: q2.cookie, csrf: q2.csrf, body: { code: '333333' } });
    expect(fifth.status).toBe(401);
    expect(fifth.body.detail).toContain('sign in with your password again');
    expect((await call(h.url, 'POST', '/v1/auth/totp', { cookie: q2.cookie, csrf: q2.csrf, body: { code: await codeAt(secret, 1) } })).status).toBe(401);

    // Turning it off needs a code.
    expect((await call(h.url, 'POST', '/v1/me/totp/disable', { cookie: s.cookie, csrf: s.csrf, body: { code: '222222' } })).status).toBe(400);
    expect((await call(h.url, 'POST', '/v1/me/totp/disable', { cookie: s.cookie, csrf: s.csrf, body: { code: conf.body.recovery_codes[1] } })).status).toBe(200);
    expect((await login(h.url, email, 'a long password 1')).body.second_factor).toBe(null);
  });

  it('HERALD_REQUIRE_2FA=1: an admin without TOTP must enrol before anything else; others need not', async () => {
    const email = 'boss@example.com';
    await newUser(email, ['admin']);
    await newUser('clerk@example.com');
    b.ctx.limiter.now = () => FIXED_MINUTE + 240_000; // B's small address limit: a fresh minute
    try {
      const clerk = await login(b.url, 'clerk@example.com', 'a long password 1');
      expect(clerk.body.second_factor).toBe(null);
      const s = await login(b.url, email, 'a long password 1');
      expect(s.body.second_factor).toBe('enrol');
      const blocked = await call(b.url, 'GET', '/v1/alerts', { cookie: s.cookie });
      expect(blocked.status).toBe(403);
      expect(blocked.body.detail).toContain('Two-factor');
      expect((await call(b.url, 'GET', '/v1/auth/me', { cookie: s.cookie })).body.second_factor).toBe('enrol');
      expect((await call(b.url, 'GET', '/v1/me/totp', { cookie: s.cookie })).body).toMatchObject({ enabled: false, required: true });
      const en = await call(b.url, 'POST', '/v1/me/totp/enrol', { cookie: s.cookie, csrf: s.csrf });
      const conf = await call(b.url, 'POST', '/v1/me/totp/confirm', { cookie: s.cookie, csrf: s.csrf, body: { code: await codeAt(en.body.secret, 0) } });
      expect(conf.status).toBe(200);
      b.ctx.limiter.now = () => FIXED_MINUTE + 360_000; // B's small session limit: a fresh minute
      expect((await call(b.url, 'GET', '/v1/alerts', { cookie: s.cookie })).status).toBe(200);
      // It cannot be turned off while required.
      expect((await call(b.url, 'POST', '/v1/me/totp/disable', { cookie: s.cookie, csrf: s.csrf, body: { code: conf.body.recovery_codes[0] } })).status).toBe(403);
      // Next sign-in asks for the code.
      b.ctx.limiter.now = () => FIXED_MINUTE + 420_000;
      const again = await login(b.url, email, 'a long password 1');
      expect(again.body.second_factor).toBe('totp');
      expect((await call(b.url, 'POST', '/v1/auth/totp', { cookie: again.cookie, csrf: again.csrf, body: { code: await codeAt(en.body.secret, 1) } })).status).toBe(200);
      expect((await call(b.url, 'GET', '/v1/alerts', { cookie: again.cookie })).status).toBe(200);
    } finally { b.ctx.limiter.now = Date.now; }
  });
});

describe('hostile input on the new endpoints', () => {
  it('NUL, lone surrogates, deep nesting and huge numbers are 400s, never 500s', async () => {
    const k = await newKey('hostile');
    const s = await login(h.url, 'admin@example.com', 'correct horse battery');
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const bodies = [{ overlap_minutes: '\u0000' }, { overlap_minutes: 1e308 }, { overlap_minutes: 5, x: '\ud800' }, deep, '{"overlap_minutes": 99999999999999999999999}'];
    for (const body of bodies) {
      const r = await call(h.url, 'POST', `/v1/api-keys/${k.id}/rotate`, { key: ADMIN_KEY, body });
      expect(r.status, JSON.stringify(body).slice(0, 40)).toBe(400);
    }
    for (const body of [{ name: 'a\u0000b' }, { name: '\udc00' }, { rate_limit_per_minute: 2 ** 60 }, deep]) {
      expect((await call(h.url, 'PATCH', `/v1/api-keys/${k.id}`, { key: ADMIN_KEY, body })).status).toBe(400);
    }
    for (const body of [{ code: '\u0000\u0000\u0000\u0000\u0000\u0000' }, { code: '\ud800123456' }, { code: 123456 }, deep]) {
      expect((await call(h.url, 'POST', '/v1/me/totp/confirm', { cookie: s.cookie, csrf: s.csrf, body })).status).toBe(400);
      expect((await call(h.url, 'POST', '/v1/auth/totp', { cookie: s.cookie, csrf: s.csrf, body })).status).toBeLessThan(500);
    }
    expect((await call(h.url, 'GET', `/v1/api-keys/${k.id}/usage?days=%00`, { key: ADMIN_KEY })).status).toBe(400);
    expect((await call(h.url, 'GET', `/v1/api-keys/${k.id}/usage?days=1e400`, { key: ADMIN_KEY })).status).toBe(400);
    expect((await call(h.url, 'DELETE', '/v1/me/sessions/99999999999999999999', { cookie: s.cookie, csrf: s.csrf })).status).toBe(400);
    const agent = await fetch(`${h.url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'x\udc00y' }, body: JSON.stringify({ email: 'admin@example.com', password: 'correct horse battery' }) }).catch(() => null);
    expect(agent === null || agent.status < 500).toBe(true);
  });
});
