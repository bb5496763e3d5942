// The audit trail for the verbs that landed beside it: API key rotation and edits, TOTP and the second factor,
// a person ending their own sessions, imports and the users export, report definitions and report downloads,
// score definitions. Each writes exactly one row with its action, in its own transaction, and no secret (a
// rotated key, a TOTP secret, a recovery code, a code typed) reaches any row.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from 'otplib';
import { startTestHerald, ADMIN_KEY, type TestHerald } from './harness';

let h: TestHerald;

beforeAll(async () => {
  h = await startTestHerald();
});
afterAll(async () => {
  await h?.stop();
});

const lastId = async () => Number((await h.sql<{ id: number | null }[]>`select max(id) as id from audit`)[0].id ?? 0);
const rowsAfter = (id: number) => h.sql<any[]>`select * from audit where id > ${id} order by id`;
const everyRow = async () => JSON.stringify(await h.sql`select * from audit`);

type Res = { status: number; body: any };

/** Runs one call and expects exactly one audit row with this action (and returns it with the response). */
async function oneRow(action: string, call: () => Promise<Res>, okStatus: number[] = [200, 201, 202, 204]) {
  const before = await lastId();
  const res = await call();
  expect(okStatus, JSON.stringify(res.body)).toContain(res.status);
  const rows = (await rowsAfter(before)).filter((r) => !r.action.endsWith('.used_from_new_address'));
  expect(rows.map((r) => r.action)).toEqual([action]);
  return { res, row: rows[0] };
}

async function noRow(call: () => Promise<Res>, status: number) {
  const before = await lastId();
  const res = await call();
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(await rowsAfter(before)).toEqual([]);
}

async function call(method: string, path: string, o: { key?: string; cookie?: string; csrf?: string; body?: unknown } = {}): Promise<Res> {
  const headers: Record<string, string> = {};
  if (o.key) headers.authorization = `Bearer ${o.key}`;
  if (o.cookie) headers.cookie = o.cookie;
  if (o.csrf) headers['x-csrf-token'] = o.csrf;
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(h.url + path, { method, headers, body: o.body === undefined ? undefined : JSON.stringify(o.body) });
  const text = await r.text();
  let body: any = text;
  try { body = text ? JSON.parse(text) : null; } catch { /* a file */ }
  return { status: r.status, body };
}

async function login(email: string, password = 'a long password 1') {
  const r = await fetch(`${h.url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  const body = await r.json() as any;
  expect(r.status, JSON.stringify(body)).toBe(200);
  return { body, cookie: (r.headers.get('set-cookie') ?? '').split(';')[0], csrf: body.csrf_token as string };
}

const codeAt = (secret: string, offsetSteps: number, from = Date.now()) => generate({ secret, epoch: Math.floor(from / 1000) + offsetSteps * 30 });

describe('API keys', () => {
  it('rotate and update write one row each; the new secret is in no row; revoke is audited once', async () => {
    const k = await h.api('POST', '/v1/api-keys', { name: 'Deploy', scopes: ['events:write'] });
    expect(k.status).toBe(201);
    const id = k.body.id;
    const r = await oneRow('api_key.rotated', () => h.api('POST', `/v1/api-keys/${id}/rotate`, { overlap_minutes: 5 }));
    expect(r.res.body.key).toMatch(/^hk_/);
    expect(r.row).toMatchObject({ entity_kind: 'api_key', entity_id: String(id), entity_label: 'Deploy' });
    expect(r.row.before.rotated_at).toBeNull();
    expect(r.row.after.rotated_at).not.toBeNull();
    expect(r.row.after.overlap_minutes).toBe(5);
    const all = await everyRow();
    expect(all).not.toContain(r.res.body.key);
    expect(all).not.toContain(k.body.key);
    expect(all).not.toContain(r.res.body.key.slice('hk_'.length + 8 + 1)); // the secret part alone
    const u = await oneRow('api_key.updated', () => h.api('PATCH', `/v1/api-keys/${id}`, { name: 'Deploy bot', rate_limit_per_minute: 120 }));
    expect([u.row.before.name, u.row.after.name]).toEqual(['Deploy', 'Deploy bot']);
    expect([u.row.before.rate_limit_per_minute, u.row.after.rate_limit_per_minute]).toEqual([null, 120]);
    await noRow(() => h.api('PATCH', '/v1/api-keys/999999', { name: 'x' }), 404);
    await noRow(() => h.api('PATCH', `/v1/api-keys/${id}`, { name: '' }), 400);
    await noRow(() => h.api('POST', '/v1/api-keys/999999/rotate', {}), 404);
    await oneRow('api_key.revoked', () => h.api('DELETE', `/v1/api-keys/${id}`));
    await noRow(() => h.api('POST', `/v1/api-keys/${id}/rotate`, {}), 409);
  });
});

describe('sessions and TOTP', () => {
  it('enrol, enable, second factor completed and failed, disable, sessions ended by their owner; no secret or code in any row', async () => {
    const email = 'otp@example.com';
    const made = await h.api('POST', '/v1/users', { name: 'Otto', email, roles: ['accounting'], password: 'a long password 1' });
    expect(made.status).toBe(201);
    const s = await login(email);
    const en = await oneRow('auth.totp_enrolment_started', () => call('POST', '/v1/me/totp/enrol', { cookie: s.cookie, csrf: s.csrf }));
    const secret = en.res.body.secret as string;
    expect(en.row).toMatchObject({ actor_kind: 'user', actor_id: String(made.body.id), entity_kind: 'user', entity_id: String(made.body.id) });
    await noRow(() => call('POST', '/v1/me/totp/confirm', { cookie: s.cookie, csrf: s.csrf, body: { code: '000000' } }), 400);
    const t0 = Date.now();
    const c0 = await codeAt(secret, 0, t0);
    const on = await oneRow('auth.totp_enabled', () => call('POST', '/v1/me/totp/confirm', { cookie: s.cookie, csrf: s.csrf, body: { code: c0 } }));
    expect(on.row.after).toEqual({ enabled: true, recovery_codes: 10 });
    const codes = on.res.body.recovery_codes as string[];
    expect(codes).toHaveLength(10);
    await noRow(() => call('POST', '/v1/me/totp/enrol', { cookie: s.cookie, csrf: s.csrf }), 409);

    // Sign-in's second step: a wrong code is a failed sign-in (with its reason, never the code), a right one completes it.
    const p = await login(email);
    expect(p.body.second_factor).toBe('totp');
    const bad = await oneRow('auth.sign_in_failed', () => call('POST', '/v1/auth/totp', { cookie: p.cookie, csrf: p.csrf, body: { code: '919191' } }), [401]);
    expect(bad.row).toMatchObject({ actor_kind: 'anonymous', entity_kind: 'account', entity_id: email });
    expect(bad.row.after).toEqual({ reason: 'wrong second-factor code' });
    expect(bad.row.ip).toMatch(/127\.0\.0\.1/);
    const c1 = await codeAt(secret, 1);
    const ok = await oneRow('auth.second_factor_completed', () => call('POST', '/v1/auth/totp', { cookie: p.cookie, csrf: p.csrf, body: { code: c1 } }));
    expect(ok.row).toMatchObject({ actor_kind: 'user', actor_id: String(made.body.id), entity_label: email });
    expect(ok.row.ip).toMatch(/127\.0\.0\.1/);
    // A session owing nothing: POST /v1/auth/totp writes nothing.
    await noRow(() => call('POST', '/v1/auth/totp', { cookie: p.cookie, csrf: p.csrf, body: { code: '123456' } }), 401);

    // Five wrong codes: five rows, the last saying the sign-in ended.
    const q = await login(email);
    const before = await lastId();
    for (let i = 0; i < 5; i++) expect((await call('POST', '/v1/auth/totp', { cookie: q.cookie, csrf: q.csrf, body: { code: `10101${i}` } })).status).toBe(401);
    const fails = await rowsAfter(before);
    expect(fails.map((r) => r.action)).toEqual(Array(5).fill('auth.sign_in_failed'));
    expect(fails[4].after.reason).toBe('too many wrong second-factor codes');

    const off = await oneRow('auth.totp_disabled', () => call('POST', '/v1/me/totp/disable', { cookie: s.cookie, csrf: s.csrf, body: { code: codes[0] } }));
    expect([off.row.before.enabled, off.row.after.enabled]).toEqual([true, false]);
    await noRow(() => call('POST', '/v1/me/totp/disable', { cookie: s.cookie, csrf: s.csrf, body: { code: codes[1] } }), 400);

    // Sessions ended by their owner: one, then all the others (one row for the lot, none when there are none).
    const two = await login(email);
    const three = await login(email);
    const list = await call('GET', '/v1/me/sessions', { cookie: s.cookie });
    const twoId = list.body.items.find((x: any) => !x.current).id as number;
    await noRow(() => call('DELETE', '/v1/me/sessions/999999', { cookie: s.cookie, csrf: s.csrf }), 404);
    const one = await oneRow('auth.session_revoked', () => call('DELETE', `/v1/me/sessions/${twoId}`, { cookie: s.cookie, csrf: s.csrf }), [204]);
    expect(one.row).toMatchObject({ entity_kind: 'session', entity_id: String(twoId), actor_id: String(made.body.id) });
    expect(one.row.before.id).toBe(twoId);
    const rest = await oneRow('auth.session_revoked', () => call('DELETE', '/v1/me/sessions', { cookie: s.cookie, csrf: s.csrf }));
    expect(rest.row.after.revoked).toBe(rest.res.body.revoked);
    expect(rest.res.body.revoked).toBeGreaterThanOrEqual(2);
    expect((await call('GET', '/v1/alerts', { cookie: two.cookie })).status).toBe(401);
    expect((await call('GET', '/v1/alerts', { cookie: three.cookie })).status).toBe(401);
    await noRow(() => call('DELETE', '/v1/me/sessions', { cookie: s.cookie, csrf: s.csrf }), 200);

    const all = await everyRow();
    expect(all).not.toContain(secret);
    for (const c of codes) {
      expect(all).not.toContain(c);
      expect(all).not.toContain(c.replace('-', ''));
    }
    expect(all).not.toContain('919191');
    expect(all).not.toContain(s.cookie.split('=')[1]);
  });
});

describe('imports and the users export', () => {
  it('an import is created and retried with one row each; an export is audited like the alerts export', async () => {
    const people = [{ name: 'Imp One', email: 'imp1@example.com' }, { name: 'Imp Bad', email: 'not an email' }];
    const c = await oneRow('import.created', () => h.api('POST', '/v1/imports?kind=users&dry_run=0&filename=people.json', undefined,
      { raw: JSON.stringify(people), headers: { 'content-type': 'application/json' } }), [202]);
    const id = c.res.body.import_id;
    expect(c.row).toMatchObject({ entity_kind: 'import', entity_id: String(id) });
    expect(c.row.after).toMatchObject({ kind: 'users', filename: 'people.json', dry_run: false, format: 'json' });
    // The rows themselves are not on the trail.
    expect(JSON.stringify(c.row)).not.toContain('imp1@example.com');
    const done = await h.eventually(async () => {
      const r = await h.api('GET', `/v1/imports/${id}`);
      return (r.body.status === 'succeeded' || r.body.status === 'failed') && r.body;
    }, 60_000);
    expect(done.failed).toBe(1);
    const r = await oneRow('import.retried', () => h.api('POST', `/v1/imports/${id}/retry?dry_run=1`), [202]);
    expect(r.row.after).toMatchObject({ kind: 'users', dry_run: true, retry_of: id, failed_rows: 1 });
    expect(r.row.entity_id).toBe(String(r.res.body.import_id));
    // A corrected file sent to the retry is a retry too.
    const f = await oneRow('import.retried', () => h.api('POST', `/v1/imports/${id}/retry`, [{ name: 'Imp Bad', email: 'imp2@example.com' }]), [202]);
    expect(f.row.after).toMatchObject({ kind: 'users', retry_of: id, dry_run: false });
    await noRow(() => h.api('POST', '/v1/imports?kind=widgets', undefined, { raw: '[]', headers: { 'content-type': 'application/json' } }), 400);

    const before = await lastId();
    const csv = await fetch(`${h.url}/v1/users/export?format=csv`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(csv.status).toBe(200);
    expect(await csv.text()).toContain('imp1@example.com');
    const rows = (await rowsAfter(before)).filter((x) => !x.action.endsWith('.used_from_new_address'));
    expect(rows.map((x) => x.action)).toEqual(['user.exported']);
    expect(rows[0].after).toEqual({ format: 'csv', filename: 'users.csv' });
    await noRow(() => h.api('GET', '/v1/users/export?format=xml'), 400);
  }, 90_000);
});

describe('report definitions and downloads', () => {
  it('created, updated, deleted: one row each; a file download is an export', async () => {
    const c = await oneRow('report.created', () => h.api('POST', '/v1/reports', { name: 'Audit CSV', kind: 'alerts', format: 'csv', params: { period: 'last_24h' } }), [201]);
    const id = c.res.body.id;
    expect(c.row).toMatchObject({ entity_kind: 'report', entity_id: String(id), entity_label: 'Audit CSV', before: null });
    expect(c.row.after).toMatchObject({ name: 'Audit CSV', format: 'csv' });
    const u = await oneRow('report.updated', () => h.api('PATCH', `/v1/reports/${id}`, { name: 'Audit CSV daily' }));
    expect([u.row.before.name, u.row.after.name]).toEqual(['Audit CSV', 'Audit CSV daily']);
    await noRow(() => h.api('PATCH', `/v1/reports/${id}`, { format: 'docx' }), 400);
    await noRow(() => h.api('POST', '/v1/reports', { name: 'Bad', kind: 'nope', format: 'csv' }), 400);

    const run = await h.api('POST', `/v1/reports/${id}/run`);
    expect(run.status).toBe(202);
    const runId = run.body.run_id;
    await h.eventually(async () => (await h.api('GET', `/v1/report-runs/${runId}`)).body.status === 'succeeded', 30_000);
    const before = await lastId();
    const file = await fetch(`${h.url}/v1/report-runs/${runId}/file`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(file.status).toBe(200);
    expect((await file.text()).split('\r\n')[0]).toContain('id,status');
    const rows = (await rowsAfter(before)).filter((x) => !x.action.endsWith('.used_from_new_address'));
    expect(rows.map((x) => x.action)).toEqual(['report.exported']);
    expect(rows[0].after).toMatchObject({ run_id: runId, report_id: id });
    await noRow(() => h.api('GET', '/v1/report-runs/999999/file'), 404);

    const d = await oneRow('report.deleted', () => h.api('DELETE', `/v1/reports/${id}`));
    expect(d.row.before.name).toBe('Audit CSV daily');
    expect(d.row.after).toBeNull();
    await noRow(() => h.api('DELETE', `/v1/reports/${id}`), 404);
  }, 60_000);
});

describe('score definitions', () => {
  it('created, updated, deleted: one row each; a refused change writes none', async () => {
    const TRUST = {
      key: 'audited', name: 'Audited score', entity_kind: 'customer', base: 100, range: [0, 100],
      factors: [{ field: 'metadata.days_since_contact', op: 'gte', value: 30, points: -15, name: 'no contact in 30 days' }],
    };
    const c = await oneRow('score.created', () => h.api('POST', '/v1/scores', TRUST), [201]);
    expect(c.row).toMatchObject({ entity_kind: 'score', entity_id: 'audited', entity_label: 'Audited score', before: null });
    expect(c.row.after).toMatchObject({ key: 'audited', version: 1, base: 100 });
    await noRow(() => h.api('POST', '/v1/scores', TRUST), 409);
    const u = await oneRow('score.updated', () => h.api('PATCH', '/v1/scores/audited', { base: 80 }));
    expect([u.row.before.base, u.row.after.base]).toEqual([100, 80]);
    expect([u.row.before.version, u.row.after.version]).toEqual([1, 2]);
    await noRow(() => h.api('PATCH', '/v1/scores/audited', { key: 'other' }), 400);
    await noRow(() => h.api('PATCH', '/v1/scores/missing', { base: 1 }), 404);
    const d = await oneRow('score.deleted', () => h.api('DELETE', '/v1/scores/audited'));
    expect(d.row.before.key).toBe('audited');
    await noRow(() => h.api('DELETE', '/v1/scores/audited'), 404);
  });
});
