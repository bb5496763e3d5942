// OpenAPI (issue 15, item 5): the document at /openapi.json is generated from the zod schemas the verbs
// validate with, lists every route the app serves (this test fails when a route is missing: add its line to
// api/openapi/registry.ts), and is a valid OpenAPI 3.1 document for a maintained validator.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { z } from 'zod';
import { startTestHerald, type TestHerald } from './harness';
import { createApp } from '../api/app';
import { MOUNTS } from '../api/mounts';
import { ROUTES } from '../api/openapi/registry';
import { openApiPath } from '../api/openapi/document';
import { EventInputSchema } from '../db/events/schema';
import { RuleInputSchema } from '../db/rules/schema';
import { AlertQuerySchema } from '../db/alerts/read';

let h: TestHerald;
beforeAll(async () => { h = await startTestHerald(); });
afterAll(async () => { await h?.stop(); });

/** Every route the app serves: Hono's registered handlers, less middleware (`ALL`) and the PWA's fallback. */
function appRoutes(): string[] {
  const app = createApp(h.ctx, MOUNTS);
  const out = new Set<string>();
  for (const r of app.routes) {
    if (r.method === 'ALL' || r.path.endsWith('*')) continue;
    out.add(`${r.method} ${r.path}`);
  }
  return [...out];
}

describe('the OpenAPI document', () => {
  it('lists every route the app serves, and no route it does not', () => {
    const served = appRoutes();
    expect(served.length).toBeGreaterThan(100);
    const missing = served.filter((r) => !ROUTES[r]);
    expect(missing, 'add these to api/openapi/registry.ts').toEqual([]);
    const stale = Object.keys(ROUTES).filter((r) => !served.includes(r));
    expect(stale, 'these registry entries match no route').toEqual([]);
  });

  it('is served at /openapi.json and is valid OpenAPI 3.1', async () => {
    const r = await h.api('GET', '/openapi.json', undefined, { key: null });
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe('3.1.0');
    const v = new Validator();
    const res = await v.validate(r.body);
    expect(res.errors ?? []).toEqual([]);
    expect(res.valid).toBe(true);
    expect(v.version).toBe('3.1');
    // Every registry route is a path and method of the document.
    for (const key of Object.keys(ROUTES)) {
      const [method, p] = key.split(' ');
      expect(r.body.paths[openApiPath(p).path]?.[method.toLowerCase()], key).toBeDefined();
    }
  });

  it('request schemas are the zod schemas the verbs validate with', async () => {
    const doc = (await h.api('GET', '/openapi.json', undefined, { key: null })).body;
    const body = (path: string, method: string) => doc.paths[path][method].requestBody.content['application/json'].schema;
    const expected = (s: z.ZodType) => { const j = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>; delete j.$schema; return j; };
    expect(body('/v1/events', 'post')).toEqual(expected(EventInputSchema));
    expect(body('/v1/rules', 'post')).toEqual(expected(RuleInputSchema));
    expect(body('/v1/events', 'post').required).toEqual(expect.arrayContaining(['category', 'type', 'title']));
    expect(body('/v1/rules', 'post').properties.match.properties.category).toBeDefined();
    // Query parameters come from the query schema; path parameters from the route.
    const list = doc.paths['/v1/alerts'].get.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`);
    for (const name of Object.keys((expected(AlertQuerySchema).properties ?? {}) as object)) expect(list).toContain(`query:${name}`);
    expect(doc.paths['/v1/alerts/{id}/snooze'].post.parameters).toEqual([{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }]);
    // API routes need a key or session; the public ones say so.
    expect(doc.paths['/v1/alerts'].get.security).toEqual([{ apiKey: [] }, { session: [] }]);
    expect(doc.paths['/healthz'].get.security).toEqual([]);
  });

  it('a request the schema refuses is refused by the API too (same schema)', async () => {
    const doc = (await h.api('GET', '/openapi.json', undefined, { key: null })).body;
    const schema = doc.paths['/v1/events'].post.requestBody.content['application/json'].schema;
    expect(schema.additionalProperties).toBe(false);
    const r = await h.api('POST', '/v1/events', { category: 'finance', type: 'x', title: 't', severity: 'error', surprise: 1 });
    expect(r.status).toBe(400);
  });
});

describe('the interactive documentation', () => {
  it('is served at /docs under the content security policy, with no inline script', async () => {
    const r = await fetch(`${h.url}/docs`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await r.text();
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBe(2);
    for (const s of scripts) { expect(s[1]).toMatch(/src="\/docs\/[a-z]+\.js"/); expect(s[2].trim()).toBe(''); }
    for (const f of ['scalar.js', 'init.js']) {
      const js = await fetch(`${h.url}/docs/${f}`);
      expect(js.status).toBe(200);
      expect(js.headers.get('content-type')).toContain('javascript');
      expect((await js.text()).length).toBeGreaterThan(f === 'scalar.js' ? 100_000 : 10);
    }
    expect((await fetch(`${h.url}/docs/other.js`)).status).toBe(404);
    // Hostile paths and queries are refused like everywhere else (400 naming them), never a 500. (Bytes that
    // are not UTF-8 in a path stay percent-encoded: no such file, 404.)
    expect((await fetch(`${h.url}/docs/%ED%A0%80`)).status).toBe(404);
    for (const bad of ['/docs/%00', '/openapi.json?x=%00', '/v1/system?q=%00', '/v1/system?%00=1']) {
      const r = await fetch(`${h.url}${bad}`, { headers: { authorization: 'Bearer hk_test_admin_key_0123456789abcdef' } });
      expect(r.status, bad).toBe(400);
    }
    expect((await fetch(`${h.url}/docs/${'a'.repeat(5000)}.js`)).status).toBe(404);
  });
});
