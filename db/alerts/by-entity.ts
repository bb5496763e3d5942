// The open alerts about one entity (the entity page, db/scoring/entities.ts).
import type { Sql } from '../platform/sql';

export interface EntityAlert { id: number; status: string; priority: string; severity: string; category: string; type: string; title: string; created_at: Date }

export function openAlertsOfEntity(sql: Sql, orgId: number, kind: string, id: string, limit = 20): Promise<EntityAlert[]> {
  return sql<EntityAlert[]>`
    select id, status, priority, severity, category, type, title, created_at from alerts
    where org_id = ${orgId} and status <> 'resolved' and entity->>'kind' = ${kind} and entity->>'id' = ${id}
    order by id desc limit ${limit}`;
}
