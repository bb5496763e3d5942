// Suspicious activity becomes alerts (docs/design.md "Governance"): bursts of failed sign-ins per account or per
// address, sign-in or API-key use from a new address, bulk exports and permission changes post `security/*`
// events through the normal ingest path (db/events/ingest.ts `insertEvents`: the event row and its routing job),
// in the same transaction as the audit row that tells of them. The preset rule "Security events to admins"
// (migration `audit`) routes them to admins by email and in the app, like any other event.
//
// Once per window, not per failure: a subject (an account, an address, an exporter) claims its window in
// `security_windows` with one upsert that only succeeds after the previous window ended; concurrent claimers
// serialise on the row, so exactly one of them posts.
import type { Sql } from '../platform/sql';
import type { SecurityLimits } from '../platform/config';
import { DEFAULT_SECURITY_LIMITS } from '../platform/config';
import type { Actor } from '../actor';
import { EventInputSchema } from '../events/schema';
import { insertEvents } from '../events/ingest';
import { actorColumns, recordAudit, type AuditActor } from './record';

export type SecurityType = 'login_failures' | 'new_address' | 'bulk_export' | 'permission_changed';

interface SecurityEvent {
  type: SecurityType;
  title: string;
  severity?: 'info' | 'warning' | 'error' | 'critical';
  body?: string;
  entity: { kind: string; id: string; name?: string };
  metadata?: Record<string, unknown>;
  dedupKey: string;
}

/** Posts one `security/<type>` event in the caller's transaction (routed by the rules like any event). */
export async function postSecurityEvent(tx: Sql, orgId: number, e: SecurityEvent): Promise<number> {
  const input = EventInputSchema.parse({
    category: 'security', type: e.type, title: e.title.slice(0, 500), severity: e.severity ?? 'warning', body: e.body ?? null,
    source: 'herald', dedup_key: e.dedupKey.slice(0, 255), entity: { ...e.entity, id: e.entity.id.slice(0, 255), name: e.entity.name?.slice(0, 200) },
    metadata: e.metadata ?? {},
  });
  const [accepted] = await insertEvents(tx, orgId, [input]);
  return accepted.event_id;
}

/** Claims `subject`'s window: true for the first claimer after the previous window ended. */
async function claimWindow(tx: Sql, orgId: number, subject: string, minutes: number): Promise<boolean> {
  const rows = await tx`
    insert into security_windows (org_id, subject, until) values (${orgId}, ${subject}, now() + make_interval(mins => ${minutes}))
    on conflict (org_id, subject) do update set until = excluded.until where security_windows.until <= now()
    returning 1`;
  return rows.length > 0;
}

const describeActor = (a: AuditActor) => {
  const c = actorColumns(a);
  return `${c.name}${c.kind === 'user' || c.kind === 'api_key' ? ` (${c.kind.replace('_', ' ')} ${c.id})` : ''}`;
};

/**
 * A failed sign-in: its audit row, then the burst checks. `limits.failedPerAccount` failures for one account
 * (the email as typed) or `limits.failedPerAddress` from one address within the window post one
 * `security/login_failures` each, at most once per account or address per window.
 */
export async function signInFailed(tx: Sql, limits: SecurityLimits = DEFAULT_SECURITY_LIMITS, a: { orgId: number; email: string; address: string; reason: string }) {
  await recordAudit(tx, { kind: 'anonymous', orgId: a.orgId, name: a.email, address: a.address }, 'auth.sign_in_failed',
    { kind: 'account', id: a.email, label: a.email }, { after: { reason: a.reason } });
  const w = limits.windowMinutes;
  const [n] = await tx<{ account: number; address: number }[]>`
    select (select count(*)::int from audit where action = 'auth.sign_in_failed' and entity_id = ${a.email} and org_id = ${a.orgId}
              and at > now() - make_interval(mins => ${w})) as account,
           (select count(*)::int from audit where action = 'auth.sign_in_failed' and ip = ${a.address} and org_id = ${a.orgId}
              and at > now() - make_interval(mins => ${w})) as address`;
  if (n.account >= limits.failedPerAccount && (await claimWindow(tx, a.orgId, `login_failures:account:${a.email}`, w))) {
    await postSecurityEvent(tx, a.orgId, {
      type: 'login_failures', severity: 'error', title: `${n.account} failed sign-ins for ${a.email} within ${w} minutes`,
      body: `The last one came from ${a.address}. Sign-ins for this account are slowed down; check whether its owner is locked out or someone is guessing.`,
      entity: { kind: 'account', id: a.email, name: a.email }, dedupKey: `security/login_failures/account:${a.email}`,
      metadata: { account: a.email, failures: n.account, window_minutes: w, last_address: a.address },
    });
  }
  if (n.address >= limits.failedPerAddress && (await claimWindow(tx, a.orgId, `login_failures:address:${a.address}`, w))) {
    await postSecurityEvent(tx, a.orgId, {
      type: 'login_failures', severity: 'error', title: `${n.address} failed sign-ins from ${a.address} within ${w} minutes`,
      body: `The last one was for ${a.email}. Many accounts tried from one address usually means someone is guessing passwords.`,
      entity: { kind: 'address', id: a.address, name: a.address }, dedupKey: `security/login_failures/address:${a.address}`,
      metadata: { address: a.address, failures: n.address, window_minutes: w, last_account: a.email },
    });
  }
}

/**
 * Remembers that `subject` (`user:<id>`, `api_key:<id>`) came from `address`. True when the address is new
 * for a subject already seen from another one (the very first address of a subject is not news).
 */
async function noteAddress(tx: Sql, orgId: number, subject: string, address: string): Promise<boolean> {
  const [r] = await tx<{ inserted: boolean; others: boolean }[]>`
    with up as (
      insert into audit_known_addresses (org_id, subject, address) values (${orgId}, ${subject}, ${address})
      on conflict (subject, address) do update set last_at = now()
      returning (xmax = 0) as inserted
    )
    select up.inserted, exists (select 1 from audit_known_addresses k where k.subject = ${subject} and k.address <> ${address}) as others from up`;
  return r.inserted && r.others;
}

/** A successful sign-in: its audit row; from an address new for this user, also a `security/new_address` event. */
export async function signedIn(tx: Sql, actor: Actor & { kind: 'user' }, email: string) {
  await recordAudit(tx, actor, 'auth.signed_in', { kind: 'user', id: actor.userId, label: email });
  if (!actor.address) return;
  if (await noteAddress(tx, actor.orgId, `user:${actor.userId}`, actor.address)) {
    await recordAudit(tx, actor, 'auth.new_address', { kind: 'user', id: actor.userId, label: email }, { after: { address: actor.address } });
    await postSecurityEvent(tx, actor.orgId, {
      type: 'new_address', severity: 'warning', title: `${actor.name} signed in from a new address (${actor.address})`,
      entity: { kind: 'user', id: String(actor.userId), name: actor.name }, dedupKey: `security/new_address/user:${actor.userId}:${actor.address}`,
      metadata: { user_id: actor.userId, email, address: actor.address },
    });
  }
}

/**
 * An API key used from an address it was never used from before (not its first): an audit row and a
 * `security/new_address` event. Returns whether it was new.
 */
export async function apiKeyUsedFrom(tx: Sql, actor: Actor & { kind: 'api_key' }): Promise<boolean> {
  if (!actor.address) return false;
  if (!(await noteAddress(tx, actor.orgId, `api_key:${actor.keyId}`, actor.address))) return false;
  await recordAudit(tx, actor, 'api_key.used_from_new_address', { kind: 'api_key', id: actor.keyId, label: actor.name }, { after: { address: actor.address } });
  await postSecurityEvent(tx, actor.orgId, {
    type: 'new_address', severity: 'warning', title: `API key ${actor.name} used from a new address (${actor.address})`,
    entity: { kind: 'api_key', id: String(actor.keyId), name: actor.name }, dedupKey: `security/new_address/api_key:${actor.keyId}:${actor.address}`,
    metadata: { api_key_id: actor.keyId, address: actor.address },
  });
  return true;
}

/**
 * An export (alerts, analytics, audit, users): its audit row (`<kind>.exported`, the filters in `after`); the
 * `limits.exportsPerWindow`-th export by one actor within the window posts one `security/bulk_export`.
 */
export async function exported(tx: Sql, limits: SecurityLimits = DEFAULT_SECURITY_LIMITS, actor: Actor, kind: string, details: Record<string, unknown>) {
  await recordAudit(tx, actor, `${kind}.exported`, { kind, label: `${kind} export` }, { after: details });
  const who = actorColumns(actor);
  const subject = `${who.kind}:${who.id ?? who.name}`;
  const w = limits.windowMinutes;
  const [n] = await tx<{ n: number }[]>`
    select count(*)::int as n from audit where org_id = ${actor.orgId} and action like '%.exported' and actor_kind = ${who.kind}
      and actor_id is not distinct from ${who.id} and at > now() - make_interval(mins => ${w})`;
  if (n.n >= limits.exportsPerWindow && (await claimWindow(tx, actor.orgId, `export:${subject}`, w))) {
    await postSecurityEvent(tx, actor.orgId, {
      type: 'bulk_export', severity: 'warning', title: `${describeActor(actor)} exported ${kind}${n.n > 1 ? ` (${n.n} exports within ${w} minutes)` : ''}`,
      entity: { kind: who.kind, id: who.id ?? who.name, name: who.name }, dedupKey: `security/bulk_export/${subject}`,
      metadata: { exports: n.n, window_minutes: w, last: { kind, ...details }, address: actor.address ?? null },
    });
  }
}

/** A change of who may do what (a role's permissions, a person's roles, a key's scopes): one `security/permission_changed`. */
export async function permissionsChanged(tx: Sql, actor: Actor, target: { kind: string; id: string | number; label: string }, before: unknown, after: unknown) {
  await postSecurityEvent(tx, actor.orgId, {
    type: 'permission_changed', severity: 'warning', title: `${describeActor(actor)} changed the permissions of ${target.kind.replace('_', ' ')} ${target.label}`,
    entity: { kind: target.kind, id: String(target.id), name: target.label }, dedupKey: `security/permission_changed/${target.kind}:${target.id}`,
    metadata: { before: before ?? null, after: after ?? null, address: actor.address ?? null },
  });
}
