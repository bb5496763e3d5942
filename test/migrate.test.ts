// Start-up migrations: Herald's own, graphile-worker's, then the tuning of graphile-worker's add_jobs (a
// generic plan, db/migrate.ts). Running them again on a migrated database changes nothing and jobs still go in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from './harness';
import { migrate } from '../db/migrate';

let h: TestHerald;
beforeAll(async () => { h = await startTestHerald(); });
afterAll(async () => { await h?.stop(); });

const addJobsConfig = async () => (await h.sql<{ proconfig: string[] | null }[]>`
  select p.proconfig from pg_proc p join pg_namespace n on n.oid = p.pronamespace
  where n.nspname = 'graphile_worker' and p.proname = 'add_jobs'`)[0].proconfig;

describe('migrate', () => {
  it('plans add_jobs generically, again after graphile-worker recreates it, and events still route', async () => {
    expect(await addJobsConfig()).toEqual(['plan_cache_mode=force_generic_plan']);
    // What a graphile-worker upgrade that recreates the function would leave: no setting.
    await h.sql`alter function graphile_worker.add_jobs reset plan_cache_mode`;
    expect(await addJobsConfig()).toBeNull();
    await migrate(h.sql, h.config.DATABASE_URL!);
    await migrate(h.sql, h.config.DATABASE_URL!);
    expect(await addJobsConfig()).toEqual(['plan_cache_mode=force_generic_plan']);

    expect((await h.api('POST', '/v1/rules', { name: 'Migrated', match: { category: 'mig' }, targets: { roles: ['admin'] }, channels: ['in_app'] })).status).toBe(201);
    const posted = await h.api('POST', '/v1/events/batch', { events: Array.from({ length: 30 }, (_, i) => ({ category: 'mig', type: 't', title: `m${i}`, severity: 'error', dedup_key: `mig-${i}` })) });
    expect(posted.status).toBe(202);
    await h.eventually(async () => (await h.sql<{ n: number }[]>`select count(*)::int as n from alerts where category = 'mig'`)[0].n === 30);
  });
});
