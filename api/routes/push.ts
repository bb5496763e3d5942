// Web push: the VAPID public key the browser subscribes with, the device's subscription, and the one-tap
// acknowledgement URL a push notification carries (POSTed by the service worker, no session needed).
import { Hono } from 'hono';
import type { ApiContext, AppEnv } from '../context';
import { readJson } from '../http';
import { authenticate } from '../auth';
import { vapidKeys } from '../../db/push/vapid';
import { subscribe, unsubscribe } from '../../db/push/subscriptions';
import { acknowledgeByToken } from '../../db/push/ack';
import { everyonesReachability, myReachability } from '../../db/push/reach';

export function pushRoutes(ctx: ApiContext) {
  const r = new Hono<AppEnv>();
  const auth = authenticate(ctx);
  r.get('/v1/push/vapid-public-key', auth, async (c) => c.json({ key: (await vapidKeys(ctx.sql, ctx.config)).publicKey }));
  r.post('/v1/push/subscriptions', auth, async (c) => {
    const s = await subscribe(ctx, c.get('actor'), await readJson(c), c.req.header('user-agent') ?? null);
    return c.json(s, s.created ? 201 : 200);
  });
  r.delete('/v1/push/subscriptions', auth, async (c) => c.json(await unsubscribe(ctx, c.get('actor'), await readJson(c))));
  // Who can be reached where (the queue's notice, the Users page's channel column).
  r.get('/v1/reachability/me', auth, async (c) => c.json(await myReachability(ctx, c.get('actor'))));
  r.get('/v1/reachability', auth, async (c) => c.json(await everyonesReachability(ctx, c.get('actor'))));
  // The signed token is the credential (bound to person and alert, 24 h): no cookie, so no CSRF to check.
  r.post('/v1/push/ack/:token', async (c) => {
    c.header('Cache-Control', 'no-store');
    c.header('Referrer-Policy', 'no-referrer');
    return c.json(await acknowledgeByToken(ctx, c.req.param('token') ?? ''));
  });
  return r;
}
