// The audit trail: GET /v1/audit (filters, cursor paging) and GET /v1/audit/export?format=csv (streamed).
// Both need audit:read (checked in the verbs, db/audit/read.ts).
import { Hono } from 'hono';
import type { ApiContext, AppEnv } from '../context';
import { authenticate } from '../auth';
import { exportAudit, listAudit } from '../../db/audit/read';

export function auditRoutes(ctx: ApiContext) {
  const r = new Hono<AppEnv>();
  const auth = authenticate(ctx);
  r.get('/v1/audit', auth, async (c) => c.json(await listAudit(ctx, c.get('actor'), c.req.query())));
  r.get('/v1/audit/export', auth, async (c) => {
    const file = await exportAudit(ctx, c.get('actor'), c.req.query());
    return new Response(file.stream, {
      headers: {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="${file.filename}"`,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      },
    });
  });
  return r;
}
