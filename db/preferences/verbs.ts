// Preference verbs: a person reads and replaces their own (`/v1/me/preferences`); admins anyone's
// (`/v1/users/:id/preferences`). PUT replaces the whole document; what it leaves out takes its default.
import type { Herald } from '../herald';
import { can, require, type Actor } from '../actor';
import { forbidden, invalid, notFound, parse } from '../errors';
import { preferencesPreview } from '../model/preferences';
import { PreferencesSchema } from './schema';
import { readPreferences, writePreferences } from './repo';
import { recordAudit } from '../audit/record';
import type { Sql } from '../platform/sql';

function meOf(actor: Actor): number {
  if (actor.kind !== 'user') throw invalid('/v1/me is a person: sign in (an API key is nobody); admins use /v1/users/:id/preferences');
  return actor.userId;
}

function mayEdit(actor: Actor, userId: number) {
  if (actor.kind === 'user' && actor.userId === userId) return require(actor, 'alerts:read');
  if (!can(actor, 'users:write')) throw forbidden("Changing someone else's preferences needs the users:write permission");
}

async function view(h: Herald | { sql: Sql }, orgId: number, userId: number) {
  const r = await readPreferences(h.sql, orgId, userId);
  if (!r) throw notFound(`User ${userId}`);
  return { user_id: userId, timezone: r.timezone, ...r.prefs, preview: preferencesPreview(r.prefs) };
}

export async function getPreferencesVerb(h: Herald, actor: Actor, userId: number | 'me') {
  const id = userId === 'me' ? meOf(actor) : userId;
  mayEdit(actor, id);
  return view(h, actor.orgId, id);
}

export async function putPreferencesVerb(h: Herald, actor: Actor, userId: number | 'me', input: unknown) {
  const id = userId === 'me' ? meOf(actor) : userId;
  mayEdit(actor, id);
  const p = parse(PreferencesSchema, input);
  // Quiet hours and digests are computed by Postgres in the person's zone: it must know it.
  const [tz] = await h.sql<{ timezone: string; known: boolean }[]>`
    select u.timezone, exists (select 1 from pg_timezone_names z where z.name = u.timezone) as known
    from users u where u.org_id = ${actor.orgId} and u.id = ${id} and u.deleted_at is null`;
  if (!tz) throw notFound(`User ${id}`);
  if (!tz.known && (p.quiet_hours || p.digest.frequency !== 'off')) {
    throw invalid(`timezone: the person's time zone "${tz.timezone}" is not one the database knows; change it (PATCH /v1/users/${id}) first`, [{ path: 'timezone', message: 'unknown to the database' }]);
  }
  return h.sql.begin(async (tx) => {
    const before = await view({ sql: tx }, actor.orgId, id);
    await writePreferences(tx, actor.orgId, id, p);
    const after = await view({ sql: tx }, actor.orgId, id);
    await recordAudit(tx, actor, 'preferences.updated', { kind: 'preferences', id, label: `preferences of user ${id}` }, { before, after });
    return after;
  });
}
