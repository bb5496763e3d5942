// GET /v1/system: the PWA's System page (db/system/verbs.ts).
import { Hono } from 'hono';
import type { ApiContext, AppEnv } from '../context';
import { systemStatusVerb } from '../../db/system/verbs';

export function systemRoutes(ctx: ApiContext) {
  const r = new Hono<AppEnv>();
  r.get('/', async (c) => c.json(await systemStatusVerb(ctx, c.get('actor'))));
  return r;
}
