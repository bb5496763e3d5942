// Reading accepted events in id order after a high-water mark, for batch consumers that keep their own mark
// (the scoring job, db/scoring/recompute.ts). Ids are drawn before their insert commits, so a consumer passes
// its mark only over a settled prefix (db/metrics/rollup.ts settledPrefix).
import type { Sql } from '../platform/sql';

export interface FeedEvent {
  id: number;
  org_id: number;
  category: string;
  type: string;
  title: string;
  severity: string;
  metadata: Record<string, unknown> | null;
  entity: Record<string, unknown> | null;
  /** occurred_at, else received_at */
  ts: Date;
  received_at: Date;
}

/** The next events after `after` (at most `limit`); those without an entity come back without their data. */
export function eventsAfter(sql: Sql, after: number, limit: number): Promise<FeedEvent[]> {
  return sql<FeedEvent[]>`
    select id, org_id, category, type,
      case when entity is not null then title end as title, severity,
      case when entity is not null then metadata end as metadata, entity,
      coalesce(occurred_at, received_at) as ts, received_at
    from events where id > ${after} order by id limit ${limit}`;
}
