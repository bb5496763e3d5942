// SOP checklist ticks: PUT /v1/alerts/:id/sop/:step {checked} → {checked, ticks}. (GET /v1/alerts/:id
// carries the same as `sop_progress`.)
import { Hono } from 'hono';
import type { ApiContext, AppEnv } from '../context';
import { idParam, readJson } from '../http';
import { authenticate } from '../auth';
import { parseStep, setSopStep } from '../../db/sop/progress';

export function sopRoutes(ctx: ApiContext) {
  const r = new Hono<AppEnv>();
  r.put('/v1/alerts/:id/sop/:step', authenticate(ctx), async (c) =>
    c.json(await setSopStep(ctx, c.get('actor'), idParam(c), parseStep(c.req.param('step') ?? ''), await readJson(c))));
  return r;
}
