// The one place that creates postgres.js clients. Domain modules take `Sql` (a pool or a transaction)
// as their first argument so the caller decides the transaction boundary.
import postgres from 'postgres';

export type Sql = postgres.Sql<Record<string, never>> | postgres.TransactionSql<Record<string, never>>;
export type Pool = postgres.Sql<Record<string, never>>;

export function connect(url: string, opts: { max?: number; application?: string } = {}): Pool {
  return postgres(url, {
    max: opts.max ?? 20,
    onnotice: () => {},
    idle_timeout: 30,
    connection: { application_name: opts.application ?? 'herald' },
    // bigint ids come back as JS numbers: ids stay far below 2^53.
    types: { bigint: { to: 20, from: [20], serialize: (x: number | bigint) => x.toString(), parse: (x: string) => Number(x) } },
    transform: { undefined: null },
  }) as unknown as Pool;
}
