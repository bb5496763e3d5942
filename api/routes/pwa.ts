// The server side of the PWA, mounted from api/mounts.ts: notifications, the live stream, SOP ticks and web
// push. Each route carries its own authentication (session cookie or API key; cookie writes need
// X-CSRF-Token) so nothing here runs for the core /v1 routes; the push acknowledgement URL is signed instead.
import { Hono } from 'hono';
import type { ApiContext, AppEnv } from '../context';
import { notificationRoutes } from './notifications';
import { streamRoutes } from './stream';
import { sopRoutes } from './sop';
import { pushRoutes } from './push';

export function pwaRoutes(ctx: ApiContext) {
  const r = new Hono<AppEnv>();
  r.route('/', notificationRoutes(ctx));
  r.route('/', streamRoutes(ctx));
  r.route('/', sopRoutes(ctx));
  r.route('/', pushRoutes(ctx));
  return r;
}
