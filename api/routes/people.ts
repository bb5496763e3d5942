// Schedules and personal preferences: thin routes over the verbs in db/schedules and db/preferences.
import { Hono } from 'hono';
import type { ApiContext, AppEnv } from '../context';
import { idParam, readJson } from '../http';
import {
  addOverrideVerb, createScheduleVerb, deleteOverrideVerb, deleteScheduleVerb, getScheduleVerb, listSchedulesVerb, onCallVerb,
  patchScheduleVerb, shiftsVerb,
} from '../../db/schedules/verbs';
import { rulesUsingSchedule } from '../../db/rules/repo';
import { getPreferencesVerb, putPreferencesVerb } from '../../db/preferences/verbs';
import { myDigestsVerb } from '../../db/messages/digest';

export function scheduleRoutes(ctx: ApiContext) {
  const r = new Hono<AppEnv>();
  r.get('/', async (c) => c.json({ items: await listSchedulesVerb(ctx, c.get('actor')) }));
  r.post('/', async (c) => c.json(await createScheduleVerb(ctx, c.get('actor'), await readJson(c)), 201));
  r.get('/:id', async (c) => c.json(await getScheduleVerb(ctx, c.get('actor'), idParam(c))));
  r.patch('/:id', async (c) => c.json(await patchScheduleVerb(ctx, c.get('actor'), idParam(c), await readJson(c))));
  r.put('/:id', async (c) => c.json(await patchScheduleVerb(ctx, c.get('actor'), idParam(c), await readJson(c))));
  r.delete('/:id', async (c) => { await deleteScheduleVerb(ctx, c.get('actor'), idParam(c), rulesUsingSchedule); return c.body(null, 204); });
  r.post('/:id/overrides', async (c) => c.json(await addOverrideVerb(ctx, c.get('actor'), idParam(c), await readJson(c)), 201));
  r.delete('/:id/overrides/:override', async (c) => { await deleteOverrideVerb(ctx, c.get('actor'), idParam(c), idParam(c, 'override')); return c.body(null, 204); });
  r.get('/:id/oncall', async (c) => c.json(await onCallVerb(ctx, c.get('actor'), idParam(c), c.req.query())));
  r.get('/:id/shifts', async (c) => c.json(await shiftsVerb(ctx, c.get('actor'), idParam(c), c.req.query())));
  return r;
}

export function meRoutes(ctx: ApiContext) {
  const r = new Hono<AppEnv>();
  r.get('/preferences', async (c) => c.json(await getPreferencesVerb(ctx, c.get('actor'), 'me')));
  r.put('/preferences', async (c) => c.json(await putPreferencesVerb(ctx, c.get('actor'), 'me', await readJson(c))));
  r.get('/digests', async (c) => c.json({ items: await myDigestsVerb(ctx, c.get('actor')) }));
  return r;
}

/** Mounted beside the users router: `/v1/users/:id/preferences` (admins, or the person themselves). */
export function userPreferenceRoutes(ctx: ApiContext) {
  const r = new Hono<AppEnv>();
  r.get('/:id/preferences', async (c) => c.json(await getPreferencesVerb(ctx, c.get('actor'), idParam(c))));
  r.put('/:id/preferences', async (c) => c.json(await putPreferencesVerb(ctx, c.get('actor'), idParam(c), await readJson(c))));
  return r;
}
