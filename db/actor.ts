// Who is acting. Every verb receives an explicit actor and checks permission itself.
import { forbidden } from './errors';

export type Scope = 'events:write' | 'alerts:read' | 'alerts:write' | 'admin';
export const SCOPES: Scope[] = ['events:write', 'alerts:read', 'alerts:write', 'admin'];

export type Actor =
  | { kind: 'user'; orgId: number; userId: number; name: string; roles: string[]; via?: string }
  | { kind: 'api_key'; orgId: number; keyId: number; name: string; scopes: Scope[] }
  | { kind: 'system'; orgId: number; reason: string }
  /** A tool posting through an integration's key: it may write events and act on its own category's alerts. */
  | { kind: 'integration'; orgId: number; name: string; integrationId: number; category: string };

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

/** Users act on alerts and read them; admin rights come from the admin role. Keys carry scopes. */
export function can(a: Actor, scope: Scope): boolean {
  switch (a.kind) {
    case 'system': return true;
    // alerts:write only on alerts of the integration's category: the verbs check it (db/alerts/act.ts).
    case 'integration': return scope === 'events:write' || scope === 'alerts:write';
    case 'api_key': return a.scopes.includes('admin') || a.scopes.includes(scope);
    case 'user':
      if (a.roles.includes('admin')) return true;
      return scope === 'alerts:read' || scope === 'alerts:write';
  }
}

export function require(a: Actor, scope: Scope): void {
  if (!can(a, scope)) throw forbidden(`This action needs the ${scope} permission`);
}

/** How Herald itself appears on the timeline when no person or key acted (routing, timers, deliveries). */
export const SYSTEM_REF: Record<string, unknown> = { kind: 'system', name: 'Herald' };

export const systemActor = (orgId: number, reason: string): Actor => ({ kind: 'system', orgId, reason });
