// The audit trail (docs/design.md "Governance"): every configuration change and every security event writes one
// row, IN THE SAME TRANSACTION as the change (the caller passes its transaction). Without that, a change could
// commit without its row (a crash between the two) or a row could describe a change that rolled back.
//
// `before` / `after` are the entity's views as the API shows them, with secrets redacted here as a second line
// of defence (views never carry secrets, but a password in an input or a key in a result must never land in a
// table that every `audit:read` holder can export).
import type { Sql } from '../platform/sql';
import type { Actor } from '../actor';

/** Someone who is not (yet) anyone: a failed sign-in. `name` is the email as typed. */
export interface AnonymousActor { kind: 'anonymous'; orgId: number; name: string; address?: string }
export type AuditActor = Actor | AnonymousActor;

/** What was acted on: `{kind: 'rule', id: 12, label: 'Database down'}`. */
export interface AuditTarget { kind: string; id?: string | number | null; label?: string | null }

export interface AuditChange { before?: unknown; after?: unknown }

// `key` is not here: a role's key is its name. Callers pass views, never a created key's secret.
const SECRET_KEY = /^(password|new_password|current_password|secret|token|csrf_token|totp_secret)$|_(hash|enc|secret|token)$|^secret_|^private_/i;
export const REDACTED = '[redacted]';
const MAX_DEPTH = 12;

/** A copy of a JSON-ish value with every secret-looking field replaced by `[redacted]`. */
export function redact(v: unknown, depth = 0): unknown {
  if (v === undefined) return null;
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof Date) return v.toISOString();
  if (depth > MAX_DEPTH) return '[too deep]';
  if (Array.isArray(v)) return v.map((x) => redact(x, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (x === undefined) continue;
    out[k] = SECRET_KEY.test(k) && x !== null ? REDACTED : redact(x, depth + 1);
  }
  return out;
}

export function actorColumns(a: AuditActor): { kind: string; id: string | null; name: string } {
  switch (a.kind) {
    case 'user': return { kind: 'user', id: String(a.userId), name: a.name };
    case 'api_key': return { kind: 'api_key', id: String(a.keyId), name: a.name };
    case 'integration': return { kind: 'integration', id: String(a.integrationId), name: a.name };
    case 'system': return { kind: 'system', id: null, name: `Herald (${a.reason})` };
    case 'anonymous': return { kind: 'anonymous', id: null, name: a.name };
  }
}

/**
 * Writes one audit row in the caller's transaction: who (`actor`, with the address it came from), what
 * (`action`, `<kind>.<verb>`), on what (`target`) and the change (`before` / `after`, redacted).
 * Returns the row's id.
 */
export async function recordAudit(tx: Sql, actor: AuditActor, action: string, target: AuditTarget, change: AuditChange = {}): Promise<number> {
  const who = actorColumns(actor);
  const before = change.before === undefined ? null : redact(change.before);
  const after = change.after === undefined ? null : redact(change.after);
  const [row] = await tx<{ id: number }[]>`
    insert into audit (org_id, actor_kind, actor_id, actor_name, action, entity_kind, entity_id, entity_label, before, after, ip)
    values (${actor.orgId}, ${who.kind}, ${who.id}, ${who.name.slice(0, 320)}, ${action}, ${target.kind},
      ${target.id === undefined || target.id === null ? null : String(target.id)}, ${target.label?.slice(0, 500) ?? null},
      ${before === null ? null : JSON.stringify(before)}::text::jsonb, ${after === null ? null : JSON.stringify(after)}::text::jsonb,
      ${actor.address ?? null})
    returning id`;
  return Number(row.id);
}
