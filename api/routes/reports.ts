// Reports (docs/design.md "Reports (the report jobs)"): definitions under /v1/reports, runs under
// /v1/report-runs. Mounted from api/mounts.ts; each route authenticates itself (like analytics).
import { Hono } from 'hono';
import type { ApiContext, AppEnv } from '../context';
import { authenticate } from '../auth';
import { idParam, readJson } from '../http';
import {
  createReport, deleteReport, getReport, getRun, listReports, listRuns, retryRun, runFile, runReportNow, updateReport,
} from '../../db/reports/verbs';

export function reportRoutes(ctx: ApiContext) {
  const r = new Hono<AppEnv>();
  const auth = authenticate(ctx);
  r.get('/v1/reports', auth, async (c) => c.json(await listReports(ctx, c.get('actor'))));
  r.post('/v1/reports', auth, async (c) => c.json(await createReport(ctx, c.get('actor'), await readJson(c)), 201));
  r.get('/v1/reports/:id', auth, async (c) => c.json(await getReport(ctx, c.get('actor'), idParam(c))));
  r.patch('/v1/reports/:id', auth, async (c) => c.json(await updateReport(ctx, c.get('actor'), idParam(c), await readJson(c))));
  r.delete('/v1/reports/:id', auth, async (c) => {
    await deleteReport(ctx, c.get('actor'), idParam(c));
    return c.body(null, 204);
  });
  r.post('/v1/reports/:id/run', auth, async (c) => c.json(await runReportNow(ctx, c.get('actor'), idParam(c)), 202));
  r.get('/v1/reports/:id/runs', auth, async (c) => c.json(await listRuns(ctx, c.get('actor'), idParam(c))));
  r.get('/v1/report-runs/:id', auth, async (c) => c.json(await getRun(ctx, c.get('actor'), idParam(c))));
  r.post('/v1/report-runs/:id/retry', auth, async (c) => c.json(await retryRun(ctx, c.get('actor'), idParam(c)), 202));
  r.get('/v1/report-runs/:id/file', auth, async (c) => {
    const f = await runFile(ctx, c.get('actor'), idParam(c));
    const ascii = f.filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
    return new Response(new Uint8Array(f.data), {
      headers: {
        'content-type': f.contentType,
        'content-length': String(f.data.length),
        'content-disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(f.filename)}`,
        'cache-control': 'private, no-store',
        'x-content-type-options': 'nosniff',
      },
    });
  });
  return r;
}
