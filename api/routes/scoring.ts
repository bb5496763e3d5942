// Scoring (docs/design.md "Scoring (the scoring jobs)"): thin routers over db/scoring. Mounted from
// api/mounts.ts with their own authentication, like the analytics routes.
import { Hono } from 'hono';
import type { ApiContext, AppEnv } from '../context';
import { authenticate } from '../auth';
import { idParam, readJson } from '../http';
import { listEntitiesVerb } from '../../db/scoring/entities';
import {
  createScoreVerb, deleteScoreVerb, getEntityVerb, getRunVerb, getScoreVerb, historyVerb, listScoresVerb, patchScoreVerb,
  rankingVerb, recomputeVerb, summaryVerb, trainVerb,
} from '../../db/scoring/verbs';

export function scoringRoutes(ctx: ApiContext) {
  const r = new Hono<AppEnv>();
  r.use('/v1/scores', authenticate(ctx));
  r.use('/v1/scores/*', authenticate(ctx));
  r.use('/v1/entities', authenticate(ctx));
  r.use('/v1/entities/*', authenticate(ctx));
  const actor = (c: { get: (k: 'actor') => AppEnv['Variables']['actor'] }) => c.get('actor');

  r.get('/v1/entities', async (c) => c.json(await listEntitiesVerb(ctx, actor(c), c.req.query())));
  r.get('/v1/entities/:kind/:id', async (c) => c.json(await getEntityVerb(ctx, actor(c), c.req.param('kind'), c.req.param('id'))));
  r.get('/v1/entities/:kind/:id/scores/:key/history', async (c) =>
    c.json(await historyVerb(ctx, actor(c), c.req.param('kind'), c.req.param('id'), c.req.param('key'))));

  r.get('/v1/scores', async (c) => c.json({ items: await listScoresVerb(ctx, actor(c)) }));
  r.post('/v1/scores', async (c) => c.json(await createScoreVerb(ctx, actor(c), await readJson(c)), 201));
  r.get('/v1/scores/:key', async (c) => c.json(await getScoreVerb(ctx, actor(c), c.req.param('key'))));
  r.patch('/v1/scores/:key', async (c) => c.json(await patchScoreVerb(ctx, actor(c), c.req.param('key'), await readJson(c))));
  r.delete('/v1/scores/:key', async (c) => { await deleteScoreVerb(ctx, actor(c), c.req.param('key')); return c.body(null, 204); });
  r.get('/v1/scores/:key/entities', async (c) => c.json(await rankingVerb(ctx, actor(c), c.req.param('key'), c.req.query())));
  r.get('/v1/scores/:key/summary', async (c) => c.json(await summaryVerb(ctx, actor(c), c.req.param('key'))));
  r.post('/v1/scores/:key/recompute', async (c) => c.json(await recomputeVerb(ctx, actor(c), c.req.param('key')), 202));
  r.post('/v1/scores/:key/train', async (c) => c.json(await trainVerb(ctx, actor(c), c.req.param('key')), 202));
  r.get('/v1/scores/:key/runs/:run', async (c) => c.json(await getRunVerb(ctx, actor(c), c.req.param('key'), idParam(c, 'run'))));
  return r;
}
