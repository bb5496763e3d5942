// The HTTP surface: one Hono app, one error handler, auth on /v1, the PWA as static files.
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { serveStatic } from '@hono/node-server/serve-static';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApiContext, AppEnv } from './context';
import { HeraldError, invalid, notFound, refusedByDatabase, tooLarge } from '../db/errors';
import { badTextReason } from '../db/platform/input';
import { problem } from './http';
import { authenticate } from './auth';
import { eventRoutes } from './routes/events';
import { alertRoutes } from './routes/alerts';
import { ruleRoutes } from './routes/rules';
import { apiKeyRoutes, roleRoutes, userRoutes, webhookRoutes } from './routes/admin';
import { authRoutes } from './routes/auth';
import { opsRoutes } from './routes/ops';
import { eventListRoute, expectationRoutes, maintenanceRoutes, heartbeatRoutes, integrationMount, integrationRoutes } from './routes/integrations';
import { dashboardRoutes, metricRoutes } from './routes/metrics';
import { meRoutes, scheduleRoutes, userPreferenceRoutes } from './routes/people';
import { log } from '../db/platform/log';
import { systemRoutes } from './routes/system';
import { openApiRoutes } from './openapi/routes';
import { addressLimits } from './limits';
import { securityRoutes } from './routes/security';
import { importRoutes, isImportUpload, userExportRoutes } from './routes/imports';

export const MAX_BODY_BYTES = 1024 * 1024;
const PWA_DIST = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'pwa', 'dist');

/** Routers that other modules mount (provider endpoints, PWA APIs); each gets the context. */
export type Mount = (app: Hono<AppEnv>, ctx: ApiContext) => void;

export function createApp(ctx: ApiContext, mounts: Mount[] = []): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.onError((err, c) => {
    if (err instanceof HeraldError) return problem(c, err);
    if (err instanceof HTTPException && err.status !== 500) return problem(c, new HeraldError(err.status, 'Request error', err.message || 'Request error'));
    const refused = refusedByDatabase(err);
    if (refused) {
      log.warn('input refused by the database (validation missed it)', { path: c.req.path, method: c.req.method, error: (err as Error).message });
      return problem(c, refused);
    }
    log.error('unhandled error', { path: c.req.path, method: c.req.method, error: (err as Error).message, stack: (err as Error).stack });
    return problem(c, new HeraldError(500, 'Internal error', 'Something went wrong on our side; it has been logged'));
  });
  app.notFound((c) => problem(c, notFound(`${c.req.method} ${c.req.path}`)));

  // A declared Content-Length is checked from the header alone. hono's bodyLimit reads `c.req.raw.body`, which
  // makes @hono/node-server build a full web Request (ReadableStream, AbortController) for every request:
  // about a third of the API's CPU per event at ingestion rates. Chunked bodies still go through bodyLimit.
  const limit = bodyLimit({ maxSize: MAX_BODY_BYTES, onError: () => { throw tooLarge(`The body is over ${MAX_BODY_BYTES} bytes (1 MiB)`); } });
  app.use('*', async (c, next) => {
    // Imports stream their file into Postgres under their own limit (HERALD_IMPORT_MAX_BYTES).
    if (isImportUpload(c.req.method, c.req.path)) return next();
    const len = c.req.header('content-length');
    if (len === undefined || c.req.header('transfer-encoding') !== undefined) return limit(c, next);
    if (Number(len) > MAX_BODY_BYTES) throw tooLarge(`The body is over ${MAX_BODY_BYTES} bytes (1 MiB)`);
    return next();
  });

  // A NUL or a lone surrogate in the path or the query string can never be stored or compared: 400 naming it.
  app.use('*', async (c, next) => {
    const bad = badUrlText(c.req.path, c.req.url);
    if (bad) throw invalid(`${bad.path}: ${bad.message}`, [bad]);
    return next();
  });

  app.route('/', opsRoutes(ctx));
  app.route('/', openApiRoutes());
  // Per-address limits for sign-in, links, provider and integration endpoints (api/limits.ts).
  app.use('*', addressLimits(ctx));
  app.route('/v1/auth', authRoutes(ctx));
  app.route('/v1/me', securityRoutes(ctx));
  for (const m of mounts) m(app, ctx);
  // Before /v1's auth: these are authenticated by the key in the body or the URL.
  integrationMount(app, ctx);

  const v1 = new Hono<AppEnv>();
  v1.use('*', authenticate(ctx));
  v1.route('/events', eventListRoute(ctx));
  v1.route('/events', eventRoutes(ctx));
  v1.route('/integrations', integrationRoutes(ctx));
  v1.route('/heartbeats', heartbeatRoutes(ctx));
  v1.route('/expectations', expectationRoutes(ctx));
  v1.route('/maintenance', maintenanceRoutes(ctx));
  v1.route('/alerts', alertRoutes(ctx));
  v1.route('/rules', ruleRoutes(ctx));
  v1.route('/users', userExportRoutes(ctx));
  v1.route('/imports', importRoutes(ctx));
  v1.route('/users', userPreferenceRoutes(ctx));
  v1.route('/users', userRoutes(ctx));
  v1.route('/me', meRoutes(ctx));
  v1.route('/roles', roleRoutes(ctx));
  v1.route('/api-keys', apiKeyRoutes(ctx));
  v1.route('/webhooks', webhookRoutes(ctx));
  v1.route('/metrics', metricRoutes(ctx));
  v1.route('/dashboards', dashboardRoutes(ctx));
  v1.route('/schedules', scheduleRoutes(ctx));
  v1.route('/system', systemRoutes(ctx));
  app.route('/v1', v1);

  if (existsSync(PWA_DIST)) {
    const root = path.relative(process.cwd(), PWA_DIST) || '.';
    app.use('/*', pwaCacheHeaders);
    app.use('/*', pwaSecurityHeaders);
    app.use('/*', serveStatic({ root }));
    // SPA fallback: client-side routes get index.html.
    app.get('*', async (c, next) => {
      if (c.req.path.startsWith('/v1/') || c.req.path.includes('.')) return next();
      return serveStatic({ root, path: 'index.html' })(c, next);
    });
  }
  return app;
}

/** The first path segment or query parameter (name or value, as decoded) with a NUL or a lone surrogate. */
export function badUrlText(path: string, url: string): { path: string; message: string } | null {
  const pathBad = badTextReason(path);
  if (pathBad) return { path: '(path)', message: pathBad };
  const q = url.indexOf('?');
  if (q < 0) return null;
  for (const [name, value] of new URLSearchParams(url.slice(q + 1))) {
    const bad = badTextReason(name) ?? badTextReason(value);
    if (bad) return { path: `query.${badTextReason(name) ? '(name)' : name}`, message: bad };
  }
  return null;
}

/**
 * The PWA's caching: /sw.js, the HTML (SPA fallback included) and the manifest are revalidated on every
 * load, so a deploy reaches phones at once (the service worker then offers "Reload"); hashed build assets
 * never change, so they are cached for good.
 */
const pwaCacheHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  if ((c.req.method !== 'GET' && c.req.method !== 'HEAD') || !c.res.ok) return;
  const p = c.req.path;
  c.res.headers.set('Cache-Control', p.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : p.startsWith('/icons/') ? 'public, max-age=86400' : 'no-cache');
};

/**
 * The PWA's content security policy: scripts, styles, fetches (the API and the live stream) and the service worker
 * only from Herald's own origin, no plugins, no <base> elsewhere, never framed. The built app has no inline script;
 * inline styles stay allowed (Preact and Chart.js set element styles). With it a stored `javascript:` link, or
 * any injected markup, cannot run script in the PWA's origin.
 */
export const PWA_CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data: blob:",
  "font-src 'self' data:", "connect-src 'self'", "worker-src 'self'", "manifest-src 'self'", "object-src 'none'",
  "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

/** Every response of the PWA's files (and its SPA fallback): the CSP above, frame and sniffing protection. */
const pwaSecurityHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  const h = c.res.headers;
  if (!h.has('Content-Security-Policy')) h.set('Content-Security-Policy', PWA_CSP);
  h.set('X-Frame-Options', 'DENY');
  h.set('X-Content-Type-Options', 'nosniff');
  if (!h.has('Referrer-Policy')) h.set('Referrer-Policy', 'same-origin');
};
