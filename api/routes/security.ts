// The signed-in person's own security: their sessions (GET /v1/me/sessions, DELETE /v1/me/sessions/:id,
// DELETE /v1/me/sessions to end all the others) and their TOTP second factor (GET /v1/me/totp, POST
// /v1/me/totp/enrol, POST /v1/me/totp/confirm {code}, POST /v1/me/totp/disable {code}). Mounted before /v1's own
// authentication so that an admin who must enrol (HERALD_REQUIRE_2FA) can reach the TOTP routes.
import { Hono } from 'hono';
import type { ApiContext, AppEnv } from '../context';
import { idParam, readJson } from '../http';
import { authenticate } from '../auth';
import { listMySessions, revokeMyOtherSessions, revokeMySession, timeoutsOf } from '../../db/sessions/repo';
import { confirmTotp, disableTotp, enrolTotp, totpStatus } from '../../db/sessions/totp';

export function securityRoutes(ctx: ApiContext) {
  const r = new Hono<AppEnv>();
  r.use('/sessions', authenticate(ctx));
  r.use('/sessions/*', authenticate(ctx));
  r.use('/totp', authenticate(ctx, { allowEnrol: true }));
  r.use('/totp/*', authenticate(ctx, { allowEnrol: true }));
  r.get('/sessions', async (c) => c.json({ items: await listMySessions(ctx, c.get('actor'), c.get('session')?.id ?? null, timeoutsOf(ctx.config)) }));
  r.delete('/sessions', async (c) => c.json({ revoked: await revokeMyOtherSessions(ctx, c.get('actor'), c.get('session')?.id ?? null) }));
  r.delete('/sessions/:id', async (c) => { await revokeMySession(ctx, c.get('actor'), idParam(c)); return c.body(null, 204); });
  r.get('/totp', async (c) => c.json(await totpStatus(ctx, c.get('actor'))));
  r.post('/totp/enrol', async (c) => c.json(await enrolTotp(ctx, c.get('actor'))));
  r.post('/totp/confirm', async (c) => c.json(await confirmTotp(ctx, c.get('actor'), await readJson(c))));
  r.post('/totp/disable', async (c) => c.json(await disableTotp(ctx, c.get('actor'), await readJson(c))));
  return r;
}
