// Users, roles, API keys and webhooks: thin routes over the verbs in db/.
import { Hono } from 'hono';
import type { ApiContext, AppEnv } from '../context';
import { idParam, readJson } from '../http';
import { createRole, createUser, deleteRole, deleteUser, getUser, listRoles, listUsers, patchRole, updateUser } from '../../db/users/repo';
import { apiKeyUsage, createApiKey, listApiKeys, revokeApiKey, rotateApiKey, updateApiKey } from '../../db/api-keys/repo';
import { createWebhook, deleteWebhook, getWebhook, listDeliveries, listWebhooks, retryDelivery, sendTestEvent, updateWebhook } from '../../db/webhooks/repo';

export function userRoutes(ctx: ApiContext) {
  const r = new Hono<AppEnv>();
  r.get('/', async (c) => c.json({ items: await listUsers(ctx, c.get('actor')) }));
  r.post('/', async (c) => c.json(await createUser(ctx, c.get('actor'), await readJson(c)), 201));
  r.get('/:id', async (c) => c.json(await getUser(ctx, c.get('actor'), idParam(c))));
  r.patch('/:id', async (c) => c.json(await updateUser(ctx, c.get('actor'), idParam(c), await readJson(c), { sessionId: c.get('session')?.id })));
  r.delete('/:id', async (c) => { await deleteUser(ctx, c.get('actor'), idParam(c)); return c.body(null, 204); });
  return r;
}

export function roleRoutes(ctx: ApiContext) {
  const r = new Hono<AppEnv>();
  r.get('/', async (c) => c.json({ items: await listRoles(ctx, c.get('actor')) }));
  r.post('/', async (c) => c.json(await createRole(ctx, c.get('actor'), await readJson(c)), 201));
  r.patch('/:key', async (c) => c.json(await patchRole(ctx, c.get('actor'), c.req.param('key'), await readJson(c))));
  r.delete('/:key', async (c) => { await deleteRole(ctx, c.get('actor'), c.req.param('key')); return c.body(null, 204); });
  return r;
}

export function apiKeyRoutes(ctx: ApiContext) {
  const r = new Hono<AppEnv>();
  r.get('/', async (c) => c.json({ items: await listApiKeys(ctx, c.get('actor')) }));
  r.post('/', async (c) => c.json(await createApiKey(ctx, c.get('actor'), await readJson(c)), 201));
  r.delete('/:id', async (c) => c.json(await revokeApiKey(ctx, c.get('actor'), idParam(c))));
  r.patch('/:id', async (c) => c.json(await updateApiKey(ctx, c.get('actor'), idParam(c), await readJson(c))));
  r.post('/:id/rotate', async (c) => c.json(await rotateApiKey(ctx, c.get('actor'), idParam(c), await readJson(c))));
  r.get('/:id/usage', async (c) => c.json(await apiKeyUsage(ctx, c.get('actor'), idParam(c), c.req.query())));
  return r;
}

export function webhookRoutes(ctx: ApiContext) {
  const r = new Hono<AppEnv>();
  r.get('/', async (c) => c.json({ items: await listWebhooks(ctx, c.get('actor')) }));
  r.post('/', async (c) => c.json(await createWebhook(ctx, c.get('actor'), await readJson(c)), 201));
  r.get('/:id', async (c) => c.json(await getWebhook(ctx, c.get('actor'), idParam(c))));
  r.patch('/:id', async (c) => c.json(await updateWebhook(ctx, c.get('actor'), idParam(c), await readJson(c))));
  r.delete('/:id', async (c) => { await deleteWebhook(ctx, c.get('actor'), idParam(c)); return c.body(null, 204); });
  r.get('/:id/deliveries', async (c) => c.json({ items: await listDeliveries(ctx, c.get('actor'), idParam(c)) }));
  r.post('/:id/deliveries/:delivery/retry', async (c) => c.json(await retryDelivery(ctx, c.get('actor'), idParam(c), idParam(c, 'delivery')), 202));
  r.post('/:id/test', async (c) => c.json(await sendTestEvent(ctx, c.get('actor'), idParam(c)), 202));
  return r;
}
