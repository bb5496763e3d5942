// Who is acting. Every verb receives an explicit actor and checks the one permission it needs itself.
import { forbidden } from './errors';
import { canonical, PERMISSIONS, SCOPES, type Permission, type Scope } from './model/permissions';

export { SCOPES, PERMISSIONS, type Scope, type Permission };

export type Actor = (
  /** `permissions`: the union of the user's roles' permission sets, read with the user (herald_permissions). */
  | { kind: 'user'; orgId: number; userId: number; name: string; roles: string[]; permissions: string[]; via?: string }
  | { kind: 'api_key'; orgId: number; keyId: number; name: string; scopes: Scope[] }
  | { kind: 'system'; orgId: number; reason: string }
  /** A tool posting through an integration's key: it may write events and act on its own category's alerts. */
  | { kind: 'integration'; orgId: number; name: string; integrationId: number; category: string }
) & {
  /** The client address the request came from (api/auth.ts), carried to the audit trail (db/audit/record.ts). */
  address?: string;
};

/** What a timeline row or `acknowledged_by` records about an actor. */
export function actorRef(a: Actor): Record<string, unknown> {
  switch (a.kind) {
    case 'user': return { kind: 'user', id: a.userId, name: a.name, ...(a.via ? { via: a.via } : {}) };
    case 'api_key': return { kind: 'api_key', id: a.keyId, name: a.name };
    case 'system': return { kind: 'system', name: 'Herald', reason: a.reason };
    case 'integration': return { kind: 'integration', id: a.integrationId, name: a.name };
  }
}

export function actorName(a: Actor): string {
  return a.kind === 'system' ? 'Herald' : a.name;
}

/**
 * Does the actor hold the permission? `admin` (the built-in role, or a key scoped `admin`) holds every one;
 * a check for `admin` itself passes only for those. Old names are read as their new ones (`alerts:write`).
 */
export function can(a: Actor, wanted: Scope): boolean {
  const p = canonical(wanted);
  switch (a.kind) {
    case 'system': return true;
    // alerts:act only on alerts of the integration's category: the verbs check it (db/alerts/act.ts).
    case 'integration': return p === 'events:write' || p === 'alerts:act';
    case 'api_key': return a.scopes.some((s) => canonical(s) === 'admin' || canonical(s) === p);
    case 'user':
      if (a.roles.includes('admin')) return true;
      return p !== 'admin' && a.permissions.includes(p);
  }
}

export function require(a: Actor, scope: Scope): void {
  if (!can(a, scope)) throw forbidden(`This action needs the ${canonical(scope)} permission`);
}

/** How Herald itself appears on the timeline when no person or key acted (routing, timers, deliveries). */
export const SYSTEM_REF: Record<string, unknown> = { kind: 'system', name: 'Herald' };

export const systemActor = (orgId: number, reason: string): Actor => ({ kind: 'system', orgId, reason });
