// How much disk a million events cost, and whether retention keeps it flat (README "Retention").
// `npx tsx bench/disk.ts` (BENCH_DISK_EVENTS, default 1,000,000): a fresh embedded cluster, Herald's schema,
// events shaped like `npm run demo`'s (title, metadata with an amount and a customer, an entity, a dedup key),
// their size with indexes; then the retention job deletes them (timed) and the same number is written again:
// the table does not grow, because autovacuum hands the freed pages to the new rows.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../db/embedded';
import { connect } from '../db/platform/sql';
import { migrate } from '../db/migrate';
import { pruneOnce } from '../db/system/retention';
import { loadConfig } from '../db/platform/config';

const N = Number(process.env.BENCH_DISK_EVENTS ?? 1_000_000);
const dir = mkdtempSync(path.join(tmpdir(), 'herald-disk-'));
const pg = await startEmbeddedPostgres({ dataDir: dir, persistent: false });
const url = pg.url('postgres');
const sql = connect(url, { max: 4 });
const mb = (b: number) => `${(b / 1048576).toFixed(0)} MiB`;
try {
  await migrate(sql, url);
  const write = async () => {
    const t = Date.now();
    for (let done = 0; done < N; done += 50_000) {
      const n = Math.min(50_000, N - done);
      await sql`
        insert into events (org_id, category, type, title, severity, source, dedup_key, action, metadata, entity, occurred_at, received_at, status, routed_at)
        select 1, 'finance', 'invoice_overdue', 'Invoice ' || g || ' overdue 30 days (ACME Industrial Supplies GmbH)', 'error', 'erp',
          'finance/invoice_overdue/invoice:' || g, 'trigger',
          jsonb_build_object('amount', (g * 37) % 50000, 'currency', 'EUR', 'customer', 'ACME Industrial Supplies GmbH', 'days_overdue', 30 + g % 60, 'owner', 'accounting@example.com'),
          jsonb_build_object('kind', 'invoice', 'id', g::text), now() - interval '200 days', now() - interval '200 days', 'routed', now() - interval '200 days'
        from generate_series(${done + 1}::int, ${done + n}::int) g`;
    }
    await sql`update metric_rollup_state set hwm = (select max(id) from events)`;
    await sql`vacuum analyze events`;
    return Date.now() - t;
  };
  const size = async () => (await sql<{ total: number; heap: number; idx: number }[]>`
    select pg_total_relation_size('events')::float8 as total, pg_relation_size('events')::float8 as heap, pg_indexes_size('events')::float8 as idx`)[0];
  const w1 = await write();
  const s1 = await size();
  console.log(`${N.toLocaleString('en')} events written in ${(w1 / 1000).toFixed(1)} s: ${mb(s1.total)} on disk (table ${mb(s1.heap)}, indexes ${mb(s1.idx)}), ${Math.round(s1.total / N)} bytes per event`);
  const config = loadConfig({ ...process.env, HERALD_RETAIN_EVENTS_DAYS: '90', HERALD_RETAIN_BATCH: '1000' });
  const CYCLES = Number(process.env.BENCH_DISK_CYCLES ?? 3);
  for (let cycle = 2; cycle <= CYCLES; cycle++) {
    const t = Date.now();
    let deleted = 0;
    for (;;) {
      const d = await pruneOnce(sql, config, { budgetMs: 600_000, pauseMs: 0 });
      deleted += d.events ?? 0;
      if (!d.events) break;
    }
    const pruneMs = Date.now() - t;
    console.log(`retention deleted ${deleted.toLocaleString('en')} events in ${(pruneMs / 1000).toFixed(1)} s (${Math.round(deleted / (pruneMs / 1000)).toLocaleString('en')}/s, batches of 1,000)`);
    await sql`vacuum events`; // what autovacuum does after such a deletion
    const w = await write();
    const s = await size();
    console.log(`cycle ${cycle}: the same ${N.toLocaleString('en')} written again after pruning (${(w / 1000).toFixed(1)} s): ${mb(s.total)} on disk (table ${mb(s.heap)}, indexes ${mb(s.idx)}; first cycle ${mb(s1.total)})`);
  }
} finally {
  await sql.end({ timeout: 5 });
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}
