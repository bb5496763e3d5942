import { Hono } from 'hono';
import type { ApiContext, AppEnv } from '../context';
import { idParam, readJson } from '../http';
import { createRuleVerb, deleteRuleVerb, exportVerb, getRuleVerb, importVerb, listRulesVerb, patchRuleVerb, previewVerb } from '../../db/rules/verbs';
import { dryRunVerb } from '../../db/events/dry-run';

export function ruleRoutes(ctx: ApiContext) {
  const r = new Hono<AppEnv>();
  r.get('/', async (c) => c.json({ items: await listRulesVerb(ctx, c.get('actor')) }));
  r.post('/', async (c) => c.json(await createRuleVerb(ctx, c.get('actor'), await readJson(c)), 201));
  r.get('/export', async (c) => {
    const format = c.req.query('format') ?? 'json';
    const text = await exportVerb(ctx, c.get('actor'), format);
    return c.body(text, 200, {
      'content-type': format === 'yaml' ? 'application/yaml; charset=utf-8' : 'application/json; charset=utf-8',
      'content-disposition': `attachment; filename="herald-rules.${format}"`,
    });
  });
  r.post('/import', async (c) => c.json(await importVerb(ctx, c.get('actor'), await c.req.text(), c.req.header('content-type'), c.req.query())));
  r.post('/test', async (c) => c.json(await dryRunVerb(ctx, c.get('actor'), await readJson(c))));
  r.post('/preview', async (c) => c.json(await previewVerb(ctx, c.get('actor'), await readJson(c))));
  r.get('/:id', async (c) => c.json(await getRuleVerb(ctx, c.get('actor'), idParam(c))));
  r.patch('/:id', async (c) => c.json(await patchRuleVerb(ctx, c.get('actor'), idParam(c), await readJson(c))));
  r.delete('/:id', async (c) => { await deleteRuleVerb(ctx, c.get('actor'), idParam(c)); return c.body(null, 204); });
  return r;
}
