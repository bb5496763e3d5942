// The notification centre: GET /v1/notifications?category=&unread=&limit= and POST /v1/notifications/read.
import { Hono } from 'hono';
import type { ApiContext, AppEnv } from '../context';
import { readJson } from '../http';
import { authenticate } from '../auth';
import { listNotifications, markNotificationsRead } from '../../db/notifications/repo';

export function notificationRoutes(ctx: ApiContext) {
  const r = new Hono<AppEnv>();
  const auth = authenticate(ctx);
  r.get('/v1/notifications', auth, async (c) => c.json(await listNotifications(ctx, c.get('actor'), c.req.query())));
  r.post('/v1/notifications/read', auth, async (c) => c.json(await markNotificationsRead(ctx, c.get('actor'), await readJson(c))));
  return r;
}
