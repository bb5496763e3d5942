// Permissions (issue 14, "What a user can do" 1): roles carry permission sets, API keys carry the same
// names as scopes, every verb checks one and a 403 names it. For each permission with an endpoint today:
// one call allowed and one refused, through an API key; and a person's rights follow their roles' sets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from './harness';
import { signIn } from './pwa-session';
import { BUILT_IN_PERMISSIONS, PERMISSIONS, type Permission } from '../db/model/permissions';

let h: TestHerald;
beforeAll(async () => { h = await startTestHerald(); });
afterAll(async () => { await h?.stop(); });

const rule = (name: string) => ({
  name, match: { category: 'finance', type: 'invoice_overdue' }, targets: { roles: ['accounting'] }, channels: ['in_app'],
});

/** One representative call per permission (the ones whose endpoints exist in this release). */
const CALLS: Partial<Record<Permission, { method: string; path: string; body?: () => unknown }>> = {
  'events:write': { method: 'POST', path: '/v1/events', body: () => ({ category: 'finance', type: 'x', title: 'x' }) },
  'alerts:read': { method: 'GET', path: '/v1/alerts' },
  'alerts:act': { method: 'POST', path: '/v1/alerts/acknowledge', body: () => ({ category: 'nothing_open' }) },
  'rules:read': { method: 'GET', path: '/v1/rules' },
  'rules:write': { method: 'POST', path: '/v1/rules', body: () => rule(`rule ${Math.random()}`) },
  'users:read': { method: 'GET', path: '/v1/users' },
  'users:write': { method: 'POST', path: '/v1/roles', body: () => ({ key: `r${Math.floor(Math.random() * 1e9)}`, name: 'R' }) },
  'api_keys:write': { method: 'GET', path: '/v1/api-keys' },
  'integrations:write': { method: 'GET', path: '/v1/webhooks' },
};

async function keyWith(scopes: string[]): Promise<string> {
  const r = await h.api('POST', '/v1/api-keys', { name: `key ${scopes.join(',')}`, scopes });
  expect(r.status).toBe(201);
  return r.body.key;
}

describe('permission matrix through API keys', () => {
  for (const [perm, call] of Object.entries(CALLS) as Array<[Permission, NonNullable<(typeof CALLS)[Permission]>]>) {
    it(`${perm}: allowed with the scope, refused without it (the 403 names it)`, async () => {
      const other = PERMISSIONS.find((p) => p !== perm && !(perm === 'alerts:read' && p === 'alerts:act'))!;
      const allowed = await h.api(call.method, call.path, call.body?.(), { key: await keyWith([perm]) });
      expect(allowed.status, JSON.stringify(allowed.body)).toBeLessThan(300);
      const refused = await h.api(call.method, call.path, call.body?.(), { key: await keyWith([other]) });
      expect(refused.status).toBe(403);
      expect(refused.body.detail).toContain(perm);
    });
  }

  it('reads the first version\'s scopes as their new names (alerts:write acts, admin does everything)', async () => {
    expect((await h.api('POST', '/v1/alerts/acknowledge', { category: 'none' }, { key: await keyWith(['alerts:write']) })).status).toBe(200);
    expect((await h.api('GET', '/v1/webhooks', undefined, { key: await keyWith(['admin']) })).status).toBe(200);
    expect((await h.api('POST', '/v1/api-keys', { name: 'bad', scopes: ['alerts:everything'] })).status).toBe(400);
  });
});

describe('roles carry permission sets', () => {
  it('gives the built-in roles their documented defaults', async () => {
    const roles = (await h.api('GET', '/v1/roles')).body.items as Array<{ key: string; permissions: string[] }>;
    for (const [key, perms] of Object.entries(BUILT_IN_PERMISSIONS)) {
      expect(roles.find((r) => r.key === key)?.permissions, key).toEqual([...perms].sort());
    }
  });

  it('lets a custom role choose: a viewer cannot act until the role is given alerts:act', async () => {
    expect((await h.api('POST', '/v1/roles', { key: 'viewer', name: 'Viewer', permissions: ['alerts:read'] })).status).toBe(201);
    const u = await h.api('POST', '/v1/users', { name: 'Vic Viewer', email: 'vic@example.com', roles: ['viewer'], password: 'vic password 1' });
    expect(u.status).toBe(201);
    await h.api('POST', '/v1/rules', { ...rule('Viewer rule'), targets: { users: [u.body.id] } });
    const ev = await h.api('POST', '/v1/events', { category: 'finance', type: 'invoice_overdue', title: 'Invoice 7 overdue' });
    const alertId = await h.eventually(async () => (await h.api('GET', `/v1/events/${ev.body.event_id}`)).body.alert_id);

    const vic = await signIn(h, 'vic@example.com', 'vic password 1');
    expect((await vic.call('GET', `/v1/alerts/${alertId}`)).status).toBe(200);
    const refused = await vic.call('POST', `/v1/alerts/${alertId}/acknowledge`);
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toContain('alerts:act');
    expect((await vic.call('GET', '/v1/rules')).status).toBe(403);

    const patched = await h.api('PATCH', '/v1/roles/viewer', { permissions: ['alerts:read', 'alerts:act', 'alerts:act'] });
    expect(patched.body.permissions).toEqual(['alerts:act', 'alerts:read']);
    expect((await vic.call('POST', `/v1/alerts/${alertId}/acknowledge`)).status).toBe(200);
  });

  it('keeps every permission on the admin role and refuses unknown names', async () => {
    expect((await h.api('PATCH', '/v1/roles/admin', { permissions: ['alerts:read'] })).status).toBe(409);
    const bad = await h.api('PATCH', '/v1/roles/workshop', { permissions: ['rules:delete_everything'] });
    expect(bad.status).toBe(400);
    expect((await h.api('PATCH', '/v1/roles/nobody', { name: 'X' })).status).toBe(404);
  });

  it('lets workshop act on alerts but not edit rules (the built-in default)', async () => {
    await h.api('POST', '/v1/users', { name: 'Wes Workshop', email: 'wes@example.com', roles: ['workshop'], password: 'wes password 1' });
    const wes = await signIn(h, 'wes@example.com', 'wes password 1');
    expect((await wes.call('POST', '/v1/alerts/acknowledge', { category: 'production' })).status).toBe(200);
    const r = await wes.call('POST', '/v1/rules', rule('Wes rule'));
    expect(r.status).toBe(403);
    expect(r.body.detail).toContain('rules:write');
  });
});
