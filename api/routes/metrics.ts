// KPI metrics and dashboards (docs/design.md "KPI metrics and role dashboards"): thin routers over db/metrics.
import { Hono } from 'hono';
import type { ApiContext, AppEnv } from '../context';
import { readJson } from '../http';
import { createMetricVerb, deleteMetricVerb, getMetricVerb, listMetricsVerb, patchMetricVerb, rebuildMetricVerb } from '../../db/metrics/verbs';
import { forecastVerb, seriesVerb, valueVerb } from '../../db/metrics/read';
import { drillVerb } from '../../db/metrics/drill';
import { createDashboardVerb, deleteDashboardVerb, previewDashboardVerb, getDashboardVerb, listDashboardsVerb, patchDashboardVerb } from '../../db/metrics/dashboards';

export function metricRoutes(ctx: ApiContext) {
  const r = new Hono<AppEnv>();
  r.get('/', async (c) => c.json({ items: await listMetricsVerb(ctx, c.get('actor')) }));
  r.post('/', async (c) => c.json(await createMetricVerb(ctx, c.get('actor'), await readJson(c)), 201));
  r.get('/:key', async (c) => c.json(await getMetricVerb(ctx, c.get('actor'), c.req.param('key'))));
  r.patch('/:key', async (c) => c.json(await patchMetricVerb(ctx, c.get('actor'), c.req.param('key'), await readJson(c))));
  r.delete('/:key', async (c) => { await deleteMetricVerb(ctx, c.get('actor'), c.req.param('key')); return c.body(null, 204); });
  r.post('/:key/rebuild', async (c) => c.json(await rebuildMetricVerb(ctx, c.get('actor'), c.req.param('key')), 202));
  r.get('/:key/series', async (c) => c.json(await seriesVerb(ctx, c.get('actor'), c.req.param('key'), c.req.query())));
  r.get('/:key/value', async (c) => c.json(await valueVerb(ctx, c.get('actor'), c.req.param('key'), c.req.query())));
  r.get('/:key/forecast', async (c) => c.json(await forecastVerb(ctx, c.get('actor'), c.req.param('key'), c.req.query())));
  r.get('/:key/events', async (c) => c.json(await drillVerb(ctx, c.get('actor'), c.req.param('key'), c.req.query())));
  return r;
}

export function dashboardRoutes(ctx: ApiContext) {
  const r = new Hono<AppEnv>();
  r.get('/', async (c) => c.json({ items: await listDashboardsVerb(ctx, c.get('actor')) }));
  r.post('/', async (c) => c.json(await createDashboardVerb(ctx, c.get('actor'), await readJson(c)), 201));
  r.post('/preview', async (c) => c.json(await previewDashboardVerb(ctx, c.get('actor'), await readJson(c), c.req.query())));
  r.get('/:key', async (c) => c.json(await getDashboardVerb(ctx, c.get('actor'), c.req.param('key'), c.req.query())));
  r.patch('/:key', async (c) => c.json(await patchDashboardVerb(ctx, c.get('actor'), c.req.param('key'), await readJson(c))));
  r.delete('/:key', async (c) => { await deleteDashboardVerb(ctx, c.get('actor'), c.req.param('key')); return c.body(null, 204); });
  return r;
}
