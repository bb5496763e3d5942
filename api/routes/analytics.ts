// Analytics and exports: GET /v1/analytics/alerts and GET /v1/alerts/export (mounted from api/mounts.ts,
// ahead of the /v1 router, so `/v1/alerts/export` is never taken for `/v1/alerts/:id`).
import { Hono } from 'hono';
import type { ApiContext, AppEnv } from '../context';
import { authenticate } from '../auth';
import { alertAnalytics } from '../../db/analytics/alerts';
import { exportAlerts } from '../../db/analytics/export';

export function analyticsRoutes(ctx: ApiContext) {
  const r = new Hono<AppEnv>();
  const auth = authenticate(ctx);
  r.get('/v1/analytics/alerts', auth, async (c) => c.json(await alertAnalytics(ctx, c.get('actor'), c.req.query())));
  r.get('/v1/alerts/export', auth, async (c) => {
    const file = await exportAlerts(ctx, c.get('actor'), c.req.query());
    return new Response(file.stream, {
      headers: {
        'content-type': file.contentType,
        'content-disposition': `attachment; filename="${file.filename}"`,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      },
    });
  });
  return r;
}
