import { Hono } from 'hono';
import type { ApiContext, AppEnv } from '../context';
import { idParam, readJson } from '../http';
import { acceptBatch, acceptEvent } from '../../db/events/accept';
import { getEvent } from '../../db/events/read';
import { invalid } from '../../db/errors';

function idempotencyKey(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  if (!raw.trim() || raw.length > 255) throw invalid('Idempotency-Key must be 1 to 255 characters');
  return raw.trim();
}

export function eventRoutes(ctx: ApiContext) {
  const r = new Hono<AppEnv>();
  r.post('/', async (c) => {
    const res = await acceptEvent(ctx.ingestor, c.get('actor'), await readJson(c), idempotencyKey(c.req.header('idempotency-key')));
    return c.json(res, 202);
  });
  r.post('/batch', async (c) => {
    const results = await acceptBatch(ctx.ingestor, c.get('actor'), await readJson(c), idempotencyKey(c.req.header('idempotency-key')));
    return c.json({ results }, 202);
  });
  r.get('/:id', async (c) => c.json(await getEvent(ctx, c.get('actor'), idParam(c))));
  return r;
}
