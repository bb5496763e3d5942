// /openapi.json (the document, public like /healthz) and /docs (Scalar's API reference, served from our own
// origin under the PWA's content security policy: its script is the package's bundle and a small start-up
// file, nothing inline, no CDN, no font service).
import { Hono } from 'hono';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { openApiDocument } from './document';
import { PWA_CSP } from '../app';
import { notFound } from '../../db/errors';

const require = createRequire(import.meta.url);

const FILES: Record<string, () => string> = {
  'scalar.js': () => readFileSync(require.resolve('@scalar/api-reference/browser/standalone.js'), 'utf8'),
  // No font service, no AI agent or registry calls (they would leave Herald's origin; the CSP blocks them anyway).
  'init.js': () => "Scalar.createApiReference('#app', { url: '/openapi.json', withDefaultFonts: false, hideClientButton: true, showDeveloperTools: 'never', telemetry: false, agent: { disabled: true } });\n",
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Herald API</title>
</head>
<body>
  <div id="app"></div>
  <script src="/docs/scalar.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`;

export function openApiRoutes() {
  const r = new Hono();
  const cache = new Map<string, string>();
  const secure = { 'Content-Security-Policy': PWA_CSP, 'X-Content-Type-Options': 'nosniff', 'X-Frame-Options': 'DENY' };
  r.get('/openapi.json', (c) => c.json(openApiDocument()));
  r.get('/docs', (c) => c.html(PAGE, 200, secure));
  r.get('/docs/:file', (c) => {
    const name = c.req.param('file');
    const load = FILES[name];
    if (!load) throw notFound(`GET ${c.req.path}`);
    if (!cache.has(name)) cache.set(name, load());
    return c.body(cache.get(name)!, 200, { ...secure, 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'public, max-age=3600' });
  });
  return r;
}
