// db/limits/limiter.ts on real Postgres: two limiters (two processes' worth of state) on one database count
// every request into rate-limiter-flexible's Postgres store, refuse beyond the limit once synced, and start
// afresh each calendar minute.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { freshDatabase } from './harness';
import { MinuteLimiter } from '../db/limits/limiter';

let url: string;
let sql: postgres.Sql;
const T = Date.UTC(2026, 0, 1, 12, 0, 5);

beforeAll(async () => {
  url = await freshDatabase();
  sql = postgres(url, { max: 1, onnotice: () => {} });
});
afterAll(async () => { await sql?.end(); });

const decide = async (l: MinuteLimiter, key: string, limit: number) => { const d = l.check(key, limit); return d instanceof Promise ? d : d; };

describe('MinuteLimiter', () => {
  it('pushes every local count to Postgres, exactly', async () => {
    const a = new MinuteLimiter(url, 60_000);
    a.now = () => T;
    try {
      await decide(a, 'exact', 1e7);
      for (let i = 0; i < 9_999; i++) expect((await decide(a, 'exact', 1e7)).allowed).toBe(true);
      await a.sync();
      const [row] = await sql`select points from rate_limits where key like '%exact%'`;
      expect(row.points).toBe(10_000);
      for (let i = 0; i < 5_000; i++) await decide(a, 'exact', 1e7);
      await a.sync();
      expect((await sql`select points from rate_limits where key like '%exact%'`)[0].points).toBe(15_000);
    } finally { await a.stop(); }
  });

  it('two limiters share one count; beyond the limit both refuse; a new minute starts afresh', async () => {
    const a = new MinuteLimiter(url, 60_000);
    const b = new MinuteLimiter(url, 60_000);
    a.now = b.now = () => T;
    try {
      for (let i = 0; i < 6; i++) expect((await decide(a, 'shared', 10)).allowed).toBe(true);
      await a.sync();
      const results = [];
      for (let i = 0; i < 6; i++) results.push((await decide(b, 'shared', 10)).allowed);
      expect(results).toEqual([true, true, true, true, false, false]);
      await b.sync();
      await a.sync();
      const refused = await decide(a, 'shared', 10);
      expect(refused).toMatchObject({ allowed: false, limit: 10, remaining: 0, reset: 55 });
      a.now = () => T + 60_000;
      expect(await decide(a, 'shared', 10)).toMatchObject({ allowed: true, remaining: 9, reset: 55 });
    } finally { await a.stop(); await b.stop(); }
  });
});
