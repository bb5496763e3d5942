// Permissions (docs/design.md "Governance"): what a role lets its people do, and what an API key's scopes
// allow. Every verb checks exactly one (db/actor.ts `require`), and a 403 names it.
export const PERMISSIONS = [
  'events:write', 'alerts:read', 'alerts:act', 'rules:read', 'rules:write', 'users:read', 'users:write',
  'reports:read', 'reports:write', 'dashboards:read', 'dashboards:write', 'scores:write', 'integrations:write',
  'audit:read', 'settings:write', 'api_keys:write',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/**
 * Names of the first version that keys may still carry and verbs not yet narrowed may still ask for:
 * `alerts:write` is `alerts:act`; `admin` is everything (a key scope, and the built-in admin role).
 */
export const LEGACY_SCOPES = ['alerts:write', 'admin'] as const;
export type LegacyScope = (typeof LEGACY_SCOPES)[number];
export type Scope = Permission | LegacyScope;
export const SCOPES: readonly Scope[] = [...PERMISSIONS, ...LEGACY_SCOPES];

export const PERMISSION_LABELS: Record<Permission, string> = {
  'events:write': 'Send events', 'alerts:read': 'See alerts', 'alerts:act': 'Acknowledge, resolve, snooze',
  'rules:read': 'See rules', 'rules:write': 'Edit rules', 'users:read': 'See people', 'users:write': 'Manage people and roles',
  'reports:read': 'See reports', 'reports:write': 'Edit reports', 'dashboards:read': 'See dashboards',
  'dashboards:write': 'Edit dashboards and metrics', 'scores:write': 'Edit scores', 'integrations:write': 'Manage integrations and webhooks',
  'audit:read': 'Read the audit trail', 'settings:write': 'Change settings', 'api_keys:write': 'Manage API keys',
};

const READ_ALL: Permission[] = ['alerts:read', 'rules:read', 'users:read', 'reports:read', 'dashboards:read'];
const TEAM: Permission[] = [...READ_ALL, 'alerts:act'];

/** Defaults of the built-in roles (the core migration's roles); `admin` always has every permission. */
export const BUILT_IN_PERMISSIONS: Record<string, readonly Permission[]> = {
  admin: PERMISSIONS,
  ceo: [...TEAM, 'reports:write', 'dashboards:write', 'audit:read'],
  sales: TEAM,
  accounting: TEAM,
  office: TEAM,
  workshop: TEAM,
};

/** A new custom role starts with this, then chooses; a person with no role at all holds it too (migration 00007). */
export const CUSTOM_ROLE_DEFAULT: readonly Permission[] = ['alerts:read', 'alerts:act'];

/** The permission a scope or check name stands for (`alerts:write` → `alerts:act`); `admin` stays. */
export function canonical(s: Scope): Permission | 'admin' {
  return s === 'alerts:write' ? 'alerts:act' : s;
}
