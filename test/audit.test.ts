// The audit trail, on a real Herald and real Postgres: every configuration verb writes exactly one row with its
// before and after in the change's own transaction (a refused change writes none, and a change whose audit row
// cannot be written does not happen); the CSV export parses back; a burst of failed sign-ins posts one
// security/* event that the preset rule delivers to the admin's email (a real SMTP server on 127.0.0.1).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseCsv } from 'csv-parse/sync';
import { startTestHerald, ADMIN_KEY, type TestHerald } from './harness';
import { startFakeSmtp, type FakeSmtp } from './fakes/smtp';

let h: TestHerald;
let smtp: FakeSmtp;
const ADMIN = { email: 'admin@example.com', password: 'correct horse battery' };

beforeAll(async () => {
  smtp = await startFakeSmtp();
  h = await startTestHerald({ SMTP_URL: smtp.url, EMAIL_FROM: 'Herald <alerts@herald.example>', HERALD_SECURITY_FAILED_SIGNINS_PER_ACCOUNT: '5' });
});
afterAll(async () => {
  await h?.stop();
  await smtp?.close();
});

const lastId = async () => Number((await h.sql<{ id: number | null }[]>`select max(id) as id from audit`)[0].id ?? 0);
const rowsAfter = (id: number) => h.sql<any[]>`select * from audit where id > ${id} order by id`;

/** Runs one call and expects exactly one audit row with this action (and returns it with the response). */
async function oneRow(action: string, call: () => Promise<{ status: number; body: any }>, okStatus: number[] = [200, 201, 202, 204]) {
  const before = await lastId();
  const res = await call();
  expect(okStatus, JSON.stringify(res.body)).toContain(res.status);
  const rows = (await rowsAfter(before)).filter((r) => !r.action.endsWith('.used_from_new_address'));
  expect(rows.map((r) => r.action)).toEqual([action]);
  return { res, row: rows[0] };
}

async function noRow(call: () => Promise<{ status: number; body: any }>, status: number) {
  const before = await lastId();
  const res = await call();
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(await rowsAfter(before)).toEqual([]);
}

const RULE = { name: 'Cash low', match: { category: 'finance', type: 'cash_low' }, targets: { roles: ['admin'] }, channels: ['in_app'] };

describe('every configuration verb writes exactly one audit row, in its own transaction', () => {
  it('rules: create, update, delete, import; a refused change writes nothing', async () => {
    const c = await oneRow('rule.created', () => h.api('POST', '/v1/rules', RULE));
    const id = c.res.body.id;
    expect(c.row).toMatchObject({ actor_kind: 'api_key', actor_name: 'HERALD_ADMIN_API_KEY', entity_kind: 'rule', entity_id: String(id), entity_label: 'Cash low', before: null });
    expect(c.row.after).toMatchObject({ name: 'Cash low', priority: 'normal' });
    expect(c.row.ip).toMatch(/127\.0\.0\.1/);
    const u = await oneRow('rule.updated', () => h.api('PATCH', `/v1/rules/${id}`, { priority: 'high' }));
    expect(u.row.before.priority).toBe('normal');
    expect(u.row.after.priority).toBe('high');
    await noRow(() => h.api('PATCH', `/v1/rules/${id}`, { priority: 'whenever' }), 400);
    await noRow(() => h.api('PATCH', '/v1/rules/999999', { priority: 'high' }), 404);
    const imp = await oneRow('rule.imported', () => h.api('POST', '/v1/rules/import', { rules: [{ ...RULE, priority: 'low' }, { ...RULE, name: 'Imported' }] }));
    expect(imp.row.after).toMatchObject({ mode: 'merge', added: 1, changed: 1 });
    expect(imp.row.before['Cash low'].priority).toBe('high');
    await noRow(() => h.api('POST', '/v1/rules/import?dry_run=1', { rules: [{ ...RULE, name: 'Dry' }] }), 200);
    const d = await oneRow('rule.deleted', () => h.api('DELETE', `/v1/rules/${id}`));
    expect(d.row.before.name).toBe('Cash low');
    expect(d.row.after).toBeNull();
  });

  it('a change whose audit row cannot be written is not made (same transaction)', async () => {
    await h.sql`alter table audit add constraint test_refuse check (action not in ('rule.created', 'role.permissions_changed', 'user.updated')) not valid`;
    try {
      const before = (await h.sql`select count(*)::int as n from rules`)[0].n;
      expect((await h.api('POST', '/v1/rules', { ...RULE, name: 'Never saved' })).status).toBe(500);
      expect((await h.sql`select count(*)::int as n from rules`)[0].n).toBe(before);
      await h.api('POST', '/v1/roles', { key: 'atomic', name: 'Atomic' });
      expect((await h.api('PATCH', '/v1/roles/atomic', { permissions: ['alerts:read', 'rules:write'] })).status).toBe(500);
      expect((await h.sql`select permissions from roles where key = 'atomic'`)[0].permissions).not.toContain('rules:write');
      const user = await h.api('POST', '/v1/users', { name: 'Atom', email: 'atom@example.com' });
      expect((await h.api('PATCH', `/v1/users/${user.body.id}`, { name: 'Changed' })).status).toBe(500);
      expect((await h.sql`select name from users where id = ${user.body.id}`)[0].name).toBe('Atom');
    } finally {
      await h.sql`alter table audit drop constraint test_refuse`;
    }
  });

  it('users and roles: password changes are said, never stored; permission changes are audited', async () => {
    const c = await oneRow('user.created', () => h.api('POST', '/v1/users', { name: 'Dana', email: 'dana@example.com', password: 'first password 1' }));
    const id = c.res.body.id;
    expect(JSON.stringify(c.row)).not.toContain('first password');
    await noRow(() => h.api('POST', '/v1/users', { name: 'Dana 2', email: 'dana@example.com' }), 409);
    const pw = await oneRow('user.password_changed', () => h.api('PATCH', `/v1/users/${id}`, { password: 'second password 2' }));
    expect(pw.row.after.password_changed).toBe(true);
    expect(JSON.stringify(pw.row)).not.toContain('second password');
    const u = await oneRow('user.updated', () => h.api('PATCH', `/v1/users/${id}`, { name: 'Dana B' }));
    expect([u.row.before.name, u.row.after.name]).toEqual(['Dana', 'Dana B']);
    await oneRow('user.deleted', () => h.api('DELETE', `/v1/users/${id}`));
    await oneRow('role.created', () => h.api('POST', '/v1/roles', { key: 'auditors', name: 'Auditors' }));
    await noRow(() => h.api('POST', '/v1/roles', { key: 'auditors', name: 'Again' }), 409);
    await noRow(() => h.api('PATCH', '/v1/roles/admin', { permissions: ['alerts:read'] }), 409);
    const p = await oneRow('role.permissions_changed', () => h.api('PATCH', '/v1/roles/auditors', { permissions: ['audit:read', 'alerts:read'] }));
    expect([...p.row.before.permissions].sort()).toEqual(['alerts:act', 'alerts:read']);
    expect(p.row.after.permissions).toEqual(['alerts:read', 'audit:read']);
    await oneRow('role.updated', () => h.api('PATCH', '/v1/roles/auditors', { name: 'Audit team' }));
    await oneRow('role.deleted', () => h.api('DELETE', '/v1/roles/auditors'));
    await noRow(() => h.api('DELETE', '/v1/roles/admin'), 409);
  });

  it('API keys, webhooks, integrations, heartbeats: secrets never reach the trail', async () => {
    const k = await oneRow('api_key.created', () => h.api('POST', '/v1/api-keys', { name: 'CI', scopes: ['events:write'] }));
    expect(JSON.stringify(k.row)).not.toContain(k.res.body.key);
    await oneRow('api_key.revoked', () => h.api('DELETE', `/v1/api-keys/${k.res.body.id}`));
    await noRow(() => h.api('DELETE', '/v1/api-keys/999999'), 404);
    const w = await oneRow('webhook.created', () => h.api('POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/hook' }));
    expect(JSON.stringify(w.row)).not.toContain(w.res.body.secret);
    const wu = await oneRow('webhook.updated', () => h.api('PATCH', `/v1/webhooks/${w.res.body.id}`, { enabled: false }));
    expect([wu.row.before.enabled, wu.row.after.enabled]).toEqual([true, false]);
    await oneRow('webhook.deleted', () => h.api('DELETE', `/v1/webhooks/${w.res.body.id}`));
    const i = await oneRow('integration.created', () => h.api('POST', '/v1/integrations', { name: 'AM', kind: 'alertmanager', category: 'ops' }));
    expect(JSON.stringify(i.row)).not.toContain(i.res.body.key);
    await oneRow('integration.updated', () => h.api('PATCH', `/v1/integrations/${i.res.body.id}`, { name: 'Alertmanager' }));
    const r = await oneRow('integration.key_rotated', () => h.api('POST', `/v1/integrations/${i.res.body.id}/rotate`));
    expect(JSON.stringify(r.row)).not.toContain(r.res.body.key);
    await oneRow('integration.deleted', () => h.api('DELETE', `/v1/integrations/${i.res.body.id}`));
    const hb = await oneRow('heartbeat.created', () => h.api('POST', '/v1/heartbeats', { name: 'Backup', interval_seconds: 3600, grace_seconds: 60 }));
    const hu = await oneRow('heartbeat.updated', () => h.api('PATCH', `/v1/heartbeats/${hb.res.body.id}`, { interval_seconds: 7200 }));
    expect([hu.row.before.interval_seconds, hu.row.after.interval_seconds]).toEqual([3600, 7200]);
    await oneRow('heartbeat.deleted', () => h.api('DELETE', `/v1/heartbeats/${hb.res.body.id}`));
  });

  it('expectations, maintenance windows, schedules and overrides, metrics, dashboards, preferences', async () => {
    const x = await oneRow('expectation.created', () => h.api('POST', '/v1/expectations', {
      name: 'Leads', after: { category: 'sales', type: 'lead_created' }, expect: [{ category: 'sales', type: 'lead_contacted' }],
      within_minutes: 60, same: 'entity', then: { category: 'sales', type: 'lead_not_contacted', title: 'Lead not contacted' },
    }));
    await oneRow('expectation.updated', () => h.api('PATCH', `/v1/expectations/${x.res.body.id}`, { within_minutes: 30 }));
    await oneRow('expectation.deleted', () => h.api('DELETE', `/v1/expectations/${x.res.body.id}`));
    const m = await oneRow('maintenance.created', () => h.api('POST', '/v1/maintenance', { name: 'm', starts_at: '2026-12-01T00:00:00Z', ends_at: '2026-12-01T02:00:00Z', match: { category: 'ops' } }));
    await oneRow('maintenance.deleted', () => h.api('DELETE', `/v1/maintenance/${m.res.body.id}`));
    const ana = (await h.api('POST', '/v1/users', { name: 'Ana', email: 'ana@example.com' })).body.id;
    const s = await oneRow('schedule.created', () => h.api('POST', '/v1/schedules', {
      name: 'On call', timezone: 'Europe/Berlin', rotations: [{ users: [ana], shift: 'weekly', handoff: '09:00', starts_on: '2026-03-23' }],
    }));
    const sid = s.res.body.id;
    const su = await oneRow('schedule.updated', () => h.api('PATCH', `/v1/schedules/${sid}`, { name: 'On call (ops)' }));
    expect([su.row.before.name, su.row.after.name]).toEqual(['On call', 'On call (ops)']);
    const o = await oneRow('schedule.override_added', () => h.api('POST', `/v1/schedules/${sid}/overrides`, { user_id: ana, starts_at: '2026-04-01T18:00:00Z', ends_at: '2026-04-02T06:00:00Z' }));
    const oid = o.res.body.overrides[0].id;
    await oneRow('schedule.override_deleted', () => h.api('DELETE', `/v1/schedules/${sid}/overrides/${oid}`));
    await oneRow('schedule.deleted', () => h.api('DELETE', `/v1/schedules/${sid}`));
    await oneRow('metric.created', () => h.api('POST', '/v1/metrics', { key: 'orders', name: 'Orders', source: { category: 'shop', type: 'order' }, aggregate: 'count' }));
    const mu = await oneRow('metric.updated', () => h.api('PATCH', '/v1/metrics/orders', { name: 'Orders placed' }));
    expect([mu.row.before.name, mu.row.after.name]).toEqual(['Orders', 'Orders placed']);
    await oneRow('dashboard.created', () => h.api('POST', '/v1/dashboards', { key: 'shop', name: 'Shop', roles: ['admin'], widgets: [{ type: 'kpi', metric: 'orders', title: 'Orders' }] }));
    await oneRow('dashboard.updated', () => h.api('PATCH', '/v1/dashboards/shop', { name: 'Shop floor' }));
    await noRow(() => h.api('PATCH', '/v1/dashboards/nope', { name: 'Nope' }), 404);
    await oneRow('dashboard.deleted', () => h.api('DELETE', '/v1/dashboards/shop'));
    await oneRow('metric.deleted', () => h.api('DELETE', '/v1/metrics/orders'));
    const pr = await oneRow('preferences.updated', () => h.api('PUT', `/v1/users/${ana}/preferences`, { channels: { normal: ['email'] } }), [200]);
    expect(pr.row).toMatchObject({ entity_kind: 'preferences', entity_id: String(ana) });
    expect(pr.row.after).not.toEqual(pr.row.before);
  });
});

describe('GET /v1/audit and its CSV export', () => {
  it('filters by actor, action (prefix), entity (kind and kind:id) and time, pages with a cursor', async () => {
    const rule = (await h.api('POST', '/v1/rules', { ...RULE, name: 'Filtered' })).body.id;
    await h.api('PATCH', `/v1/rules/${rule}`, { priority: 'low' });
    const byEntity = await h.api('GET', `/v1/audit?entity=rule:${rule}`);
    expect(byEntity.status).toBe(200);
    expect(byEntity.body.items.map((i: any) => i.action)).toEqual(['rule.updated', 'rule.created']);
    const first = byEntity.body.items[1];
    expect(first).toMatchObject({ actor: { kind: 'api_key', name: 'HERALD_ADMIN_API_KEY' }, entity: { kind: 'rule', id: String(rule), label: 'Filtered' }, before: null });
    expect(Object.keys(first).sort()).toEqual(['action', 'actor', 'after', 'at', 'before', 'entity', 'id', 'ip']);
    const actions = (await h.api('GET', '/v1/audit?action=rule.*&limit=200')).body.items.map((i: any) => i.action);
    expect(actions.length).toBeGreaterThan(3);
    expect(actions.every((a: string) => a.startsWith('rule.'))).toBe(true);
    expect((await h.api('GET', '/v1/audit?action=rule.created&entity=rule')).body.items.every((i: any) => i.action === 'rule.created')).toBe(true);
    const keyId = (await h.sql`select id from api_keys where name = 'HERALD_ADMIN_API_KEY'`)[0].id;
    expect((await h.api('GET', `/v1/audit?actor=api_key:${keyId}&limit=1`)).body.items[0].actor.id).toBe(String(keyId));
    expect((await h.api('GET', '/v1/audit?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z')).body).toEqual({ items: [], next_cursor: null });
    // Paging: three pages of two cover the six newest rows, without overlap.
    const seen: number[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 3; i++) {
      const page: any = await h.api('GET', `/v1/audit?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.body.items).toHaveLength(2);
      seen.push(...page.body.items.map((x: any) => x.id));
      cursor = page.body.next_cursor;
    }
    expect(new Set(seen).size).toBe(6);
    expect([...seen].sort((a, b) => b - a)).toEqual(seen);
  });

  it('needs audit:read, and names it', async () => {
    const k = await h.api('POST', '/v1/api-keys', { name: 'reader', scopes: ['alerts:read'] });
    const r = await h.api('GET', '/v1/audit', undefined, { key: k.body.key });
    expect(r.status).toBe(403);
    expect(r.body.detail).toContain('audit:read');
    const a = await h.api('POST', '/v1/api-keys', { name: 'auditor', scopes: ['audit:read'] });
    expect((await h.api('GET', '/v1/audit', undefined, { key: a.body.key })).status).toBe(200);
  });

  it('hostile query strings are 400s, never 500s', async () => {
    const bad = [
      'actor=%00', 'action=%00', 'entity=rule:%00', 'from=0000-01-01T00:00:00Z', 'from=yesterday',
      'to=99999-01-01T00:00:00Z', 'cursor=-1', 'cursor=99999999999999999999999', 'cursor=1e9', 'limit=0', 'limit=100000', 'limit=abc',
      'action=DROP%20TABLE', 'entity=RULE', 'unknown=1', `actor=${'a'.repeat(5000)}`, 'from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z',
      'format=xlsx',
    ];
    for (const q of bad) {
      for (const path of ['/v1/audit', '/v1/audit/export']) {
        const r = await h.api('GET', `${path}?${q}`);
        expect(r.status, `${path}?${q}: ${JSON.stringify(r.body)}`).toBe(400);
      }
    }
    // Odd but storable (bytes that are not UTF-8 decode to U+FFFD): answered, not failed.
    for (const q of ['entity=rule:%ED%A0%80', 'actor=%ED%A0%80', 'actor=%F0%9F%98%80', 'entity=rule:%27%3B--']) {
      expect((await h.api('GET', `/v1/audit?${q}`)).status).toBe(200);
    }
    // Odd but valid: a LIKE wildcard in a name is matched literally.
    expect((await h.api('GET', '/v1/audit?actor=%25_%25')).body.items).toEqual([]);
  });

  it('exports CSV that parses back to the same rows, and the export is itself audited', async () => {
    const before = await lastId();
    const res = await fetch(`${h.url}/v1/audit/export?format=csv&action=rule.*`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    expect(res.headers.get('content-disposition')).toMatch(/attachment; filename="herald-audit-\d{4}-\d{2}-\d{2}\.csv"/);
    const records = parseCsv(await res.text(), { columns: true, bom: true }) as Record<string, string>[];
    const listed = (await h.api('GET', '/v1/audit?action=rule.*&limit=200')).body.items.reverse();
    expect(records.map((r) => Number(r.id))).toEqual(listed.map((i: any) => i.id));
    const created = records.find((r) => r.action === 'rule.created')!;
    const same = listed.find((i: any) => i.id === Number(created.id));
    expect(JSON.parse(created.after)).toEqual(same.after);
    expect(created.before).toBe('');
    expect(created.actor_name).toBe('HERALD_ADMIN_API_KEY');
    const audited = (await rowsAfter(before)).filter((r) => r.action === 'audit.exported');
    expect(audited).toHaveLength(1);
    expect(audited[0].after).toMatchObject({ format: 'csv', filters: { action: 'rule.*' } });
  });
});

describe('security events', () => {
  it('sign-in, its failures and sign-out are audited with the address; passwords never are', async () => {
    const before = await lastId();
    const login = (password: string) => fetch(`${h.url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: ADMIN.email, password }) });
    expect((await login('not the password')).status).toBe(401);
    const ok = await login(ADMIN.password);
    expect(ok.status).toBe(200);
    const { csrf_token } = await ok.json();
    const cookie = ok.headers.get('set-cookie')!.split(';')[0];
    expect((await fetch(`${h.url}/v1/auth/logout`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf_token } })).status).toBe(204);
    const rows = await rowsAfter(before);
    expect(rows.map((r) => r.action)).toEqual(['auth.sign_in_failed', 'auth.signed_in', 'auth.signed_out']);
    expect(rows[0]).toMatchObject({ actor_kind: 'anonymous', actor_name: ADMIN.email, entity_kind: 'account', after: { reason: 'wrong password' } });
    expect(rows[1]).toMatchObject({ actor_kind: 'user', actor_name: 'Admin' });
    for (const r of rows) expect(r.ip).toMatch(/127\.0\.0\.1/);
    expect(JSON.stringify(rows)).not.toContain('not the password');
  });

  it('a burst of failed sign-ins posts one security/login_failures, which reaches the admin by email', async () => {
    await h.sql`delete from login_attempts`;
    const target = 'victim@example.com';
    const fails = [];
    for (let i = 0; i < 8; i++) {
      const r = await fetch(`${h.url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: target, password: `guess ${i}` }) });
      fails.push(r.status);
    }
    expect(fails.every((s) => s === 401)).toBe(true);
    const events = await h.sql`select id, title, dedup_key from events where category = 'security' and type = 'login_failures'`;
    expect(events).toHaveLength(1);
    expect(events[0].title).toBe(`5 failed sign-ins for ${target} within 10 minutes`);
    const i = await h.eventually(async () => { const n = smtp.messages.findIndex((m) => m.subject?.includes(`failed sign-ins for ${target}`)); return n >= 0 ? n + 1 : null; }, 15_000);
    expect(smtp.envelopes[i - 1].to).toContain(ADMIN.email);
    expect(smtp.messages.filter((m) => m.subject?.includes(`failed sign-ins for ${target}`))).toHaveLength(1);
    // The alert is in the app too, routed by the preset rule.
    const alert = await h.eventually(async () => (await h.sql`select id, category, priority from alerts where category = 'security'`)[0]);
    expect(alert.priority).toBe('high');
  });

  it('a role permission change posts security/permission_changed; exports post security/bulk_export', async () => {
    await h.api('POST', '/v1/roles', { key: 'night', name: 'Night shift' });
    await h.api('PATCH', '/v1/roles/night', { permissions: ['alerts:read', 'rules:write'] });
    const pc = await h.sql`select title, metadata from events where category = 'security' and type = 'permission_changed' and entity->>'id' = 'night'`;
    expect(pc).toHaveLength(1);
    expect(pc[0].metadata.after.permissions).toEqual(['alerts:read', 'rules:write']);
    const exports = await h.sql`select count(*)::int as n from events where category = 'security' and type = 'bulk_export'`;
    // The earlier audit export opened the admin key's window: another export within it posts nothing new.
    expect(exports[0].n).toBe(1);
    await fetch(`${h.url}/v1/alerts/export?format=csv`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } }).then((r) => r.text());
    expect((await h.sql`select count(*)::int as n from events where category = 'security' and type = 'bulk_export'`)[0].n).toBe(1);
    expect((await h.sql`select count(*)::int as n from audit where action = 'alert.exported'`)[0].n).toBe(1);
  });
});
