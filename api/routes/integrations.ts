// Integrations: the admin CRUD under /v1 (Bearer or session), and the endpoints other tools call with the
// key in the body or the URL (no Bearer header): PagerDuty's /v2/enqueue, the Alertmanager and Grafana
// webhooks and the heartbeat ping URL. Thin: validate, call one verb, answer in the caller's protocol.
import { Hono } from 'hono';
import type { Context } from 'hono';
import type { ApiContext, AppEnv } from '../context';
import type { Mount } from '../app';
import { idParam, readJson, readText } from '../http';
import { createIntegration, deleteIntegration, getIntegration, integrationEvents, listIntegrations, rotateIntegrationKey, updateIntegration } from '../../db/integrations/repo';
import { enqueuePagerDuty, receiveAlertGroup } from '../../db/integrations/receive';
import { createHeartbeat, deleteHeartbeat, getHeartbeat, listHeartbeats, ping, rotateHeartbeatKey, updateHeartbeat } from '../../db/integrations/heartbeats';
import { listEvents } from '../../db/events/read';
import { createMaintenance, deleteMaintenance, getMaintenance, listMaintenance } from '../../db/maintenance/windows';
import { resumeEscalationsPausedBy } from '../../db/escalation/escalate';
import { createExpectation, deleteExpectation, getExpectation, listExpectations, updateExpectation } from '../../db/expectations/repo';

export function integrationRoutes(ctx: ApiContext) {
  const r = new Hono<AppEnv>();
  r.get('/', async (c) => c.json({ items: await listIntegrations(ctx, c.get('actor')) }));
  r.post('/', async (c) => c.json(await createIntegration(ctx, c.get('actor'), await readJson(c)), 201));
  r.get('/:id', async (c) => c.json(await getIntegration(ctx, c.get('actor'), idParam(c))));
  r.patch('/:id', async (c) => c.json(await updateIntegration(ctx, c.get('actor'), idParam(c), await readJson(c))));
  r.delete('/:id', async (c) => { await deleteIntegration(ctx, c.get('actor'), idParam(c)); return c.body(null, 204); });
  r.post('/:id/rotate', async (c) => c.json(await rotateIntegrationKey(ctx, c.get('actor'), idParam(c))));
  r.get('/:id/events', async (c) => c.json({ items: await integrationEvents(ctx, c.get('actor'), idParam(c)) }));
  return r;
}

export function heartbeatRoutes(ctx: ApiContext) {
  const r = new Hono<AppEnv>();
  r.get('/', async (c) => c.json({ items: await listHeartbeats(ctx, c.get('actor')) }));
  r.post('/', async (c) => c.json(await createHeartbeat(ctx, c.get('actor'), await readJson(c)), 201));
  r.get('/:id', async (c) => c.json(await getHeartbeat(ctx, c.get('actor'), idParam(c))));
  r.patch('/:id', async (c) => c.json(await updateHeartbeat(ctx, c.get('actor'), idParam(c), await readJson(c))));
  r.delete('/:id', async (c) => { await deleteHeartbeat(ctx, c.get('actor'), idParam(c)); return c.body(null, 204); });
  r.post('/:id/rotate', async (c) => c.json(await rotateHeartbeatKey(ctx, c.get('actor'), idParam(c))));
  return r;
}

export function expectationRoutes(ctx: ApiContext) {
  const r = new Hono<AppEnv>();
  r.get('/', async (c) => c.json({ items: await listExpectations(ctx, c.get('actor')) }));
  r.post('/', async (c) => c.json(await createExpectation(ctx, c.get('actor'), await readJson(c)), 201));
  r.get('/:id', async (c) => c.json(await getExpectation(ctx, c.get('actor'), idParam(c))));
  r.patch('/:id', async (c) => c.json(await updateExpectation(ctx, c.get('actor'), idParam(c), await readJson(c))));
  r.delete('/:id', async (c) => { await deleteExpectation(ctx, c.get('actor'), idParam(c)); return c.body(null, 204); });
  return r;
}

export function maintenanceRoutes(ctx: ApiContext) {
  const r = new Hono<AppEnv>();
  r.get('/', async (c) => c.json({ items: await listMaintenance(ctx, c.get('actor')) }));
  r.post('/', async (c) => c.json(await createMaintenance(ctx, c.get('actor'), await readJson(c)), 201));
  r.get('/:id', async (c) => c.json(await getMaintenance(ctx, c.get('actor'), idParam(c))));
  r.delete('/:id', async (c) => { await deleteMaintenance(ctx, c.get('actor'), idParam(c), resumeEscalationsPausedBy); return c.body(null, 204); });
  return r;
}

/** GET /v1/events (the list) sits beside the events router's POST and /:id. */
export function eventListRoute(ctx: ApiContext) {
  const r = new Hono<AppEnv>();
  r.get('/', async (c) => c.json(await listEvents(ctx, c.get('actor'), c.req.query())));
  return r;
}

/** PagerDuty answers malformed JSON in its own shape too. */
async function pagerDutyBody(c: Context): Promise<{ ok: true; body: unknown } | { ok: false; message: string }> {
  const text = await readText(c);
  try {
    return { ok: true, body: JSON.parse(text) };
  } catch (e) {
    return { ok: false, message: `Malformed JSON: ${(e as Error).message}` };
  }
}

/** The unauthenticated endpoints (mounted before /v1's auth middleware, so they answer first). */
export const integrationMount: Mount = (app, ctx) => {
  app.post('/v2/enqueue', async (c) => {
    const raw = await pagerDutyBody(c);
    if (!raw.ok) return c.json({ status: 'invalid event', message: 'Event object is invalid', errors: [raw.message] }, 400);
    const a = await enqueuePagerDuty(ctx, ctx.ingestor, raw.body);
    return c.json(a.body, a.status);
  });
  app.post('/v1/integrations/alertmanager/:key', async (c) =>
    c.json(await receiveAlertGroup(ctx, ctx.ingestor, 'alertmanager', c.req.param('key'), await readJson(c)), 202));
  app.post('/v1/integrations/grafana/:key', async (c) =>
    c.json(await receiveAlertGroup(ctx, ctx.ingestor, 'grafana', c.req.param('key'), await readJson(c)), 202));
  app.on(['GET', 'POST', 'HEAD'], '/v1/ping/:key', async (c) => c.json(await ping(ctx, c.req.param('key'))));
};
