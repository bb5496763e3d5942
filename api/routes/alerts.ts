import { Hono } from 'hono';
import type { ApiContext, AppEnv } from '../context';
import { idParam, readJson } from '../http';
import { getAlert, listAlerts } from '../../db/alerts/read';
import { acknowledge, bulkAcknowledge, resolve, snooze } from '../../db/alerts/act';
import { addNote, assign, undo } from '../../db/alerts/together';

export function alertRoutes(ctx: ApiContext) {
  const r = new Hono<AppEnv>();
  r.get('/', async (c) => c.json(await listAlerts(ctx, c.get('actor'), c.req.query())));
  r.post('/acknowledge', async (c) => c.json(await bulkAcknowledge(ctx, c.get('actor'), await readJson(c))));
  r.get('/:id', async (c) => c.json(await getAlert(ctx, c.get('actor'), idParam(c))));
  r.post('/:id/acknowledge', async (c) => c.json(await acknowledge(ctx, c.get('actor'), idParam(c))));
  r.post('/:id/resolve', async (c) => c.json(await resolve(ctx, c.get('actor'), idParam(c))));
  r.post('/:id/snooze', async (c) => c.json(await snooze(ctx, c.get('actor'), idParam(c), await readJson(c))));
  r.post('/:id/undo', async (c) => c.json(await undo(ctx, c.get('actor'), idParam(c))));
  r.post('/:id/notes', async (c) => c.json(await addNote(ctx, c.get('actor'), idParam(c), await readJson(c)), 201));
  r.post('/:id/assign', async (c) => c.json(await assign(ctx, c.get('actor'), idParam(c), await readJson(c))));
  return r;
}
