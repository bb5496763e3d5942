// What the KPI tests share: posting business events in batches and waiting until the rollup has applied them.
import { expect } from 'vitest';
import type { TestHerald } from './harness';

/** Posts events through POST /v1/events/batch, 1,000 a request; each is accepted (no per-event error). */
export async function sendEvents(h: TestHerald, events: Array<Record<string, unknown>>) {
  for (let i = 0; i < events.length; i += 1000) {
    const r = await h.api('POST', '/v1/events/batch', { events: events.slice(i, i + 1000).map((e) => ({ title: `${e.category}/${e.type}`, severity: 'info', ...e })) });
    expect(r.status).toBe(202);
    for (const x of r.body.results ?? r.body.items ?? []) expect(x.error).toBeUndefined();
  }
}

/** Every event so far applied to every metric, and no metric still being rebuilt (the rollup job runs about once a second). */
export async function rolledUp(h: TestHerald, ms: number) {
  await h.eventually(async () => {
    const [{ max }] = await h.sql<{ max: number }[]>`select coalesce(max(id), 0)::bigint as max from events`;
    const [{ hwm }] = await h.sql<{ hwm: number }[]>`select hwm from metric_rollup_state`;
    const [{ behind }] = await h.sql<{ behind: number }[]>`select count(*)::int as behind from metric_definitions where not caught_up`;
    return Number(hwm) >= Number(max) && behind === 0;
  }, ms);
}
