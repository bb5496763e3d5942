// Herald's processes and their readiness history (tables herald_processes, readiness_checks). Each process
// refreshes its row and records its /readyz checks every HERALD_WATCH_INTERVAL_S; the PWA's System page
// reads both (uptime, a history of checks, which processes are alive).
import { hostname } from 'node:os';
import type { Sql } from '../platform/sql';

export interface ProcessInfo { id: string; roles: string[]; host: string; pid: number }

export function thisProcess(roles: { api: boolean; worker: boolean }): ProcessInfo {
  const host = hostname();
  const r = [roles.api && 'api', roles.worker && 'worker'].filter(Boolean) as string[];
  return { id: `${host}:${process.pid}:${Date.now().toString(36)}`, roles: r, host, pid: process.pid };
}

export async function beatProcess(sql: Sql, p: ProcessInfo): Promise<void> {
  await sql`
    insert into herald_processes (id, roles, host, pid) values (${p.id}, ${p.roles}, ${p.host}, ${p.pid})
    on conflict (id) do update set seen_at = now(), stopped_at = null`;
}

/** A clean stop: the row stays (history) but never counts as a worker gone. */
export async function stopProcess(sql: Sql, p: ProcessInfo): Promise<void> {
  await sql`update herald_processes set stopped_at = now(), seen_at = now() where id = ${p.id}`;
}

export async function recordReadiness(sql: Sql, processId: string, ready: boolean, checks: unknown): Promise<void> {
  await sql`insert into readiness_checks (process_id, ready, checks) values (${processId}, ${ready}, ${sql.json(checks as never)})`;
}

export interface ProcessRow { id: string; roles: string[]; host: string; pid: number; started_at: Date; seen_at: Date; stopped_at: Date | null }

export async function listProcesses(sql: Sql, since: Date): Promise<ProcessRow[]> {
  return sql<ProcessRow[]>`
    select id, roles, host, pid, started_at, seen_at, stopped_at from herald_processes
    where stopped_at is null or stopped_at > ${since} order by started_at desc limit 100`;
}

/** Share of ready checks over a period (null when nothing was recorded). */
export async function uptimeSince(sql: Sql, since: Date): Promise<{ checks: number; ready: number; share: number | null }> {
  const [r] = await sql<{ checks: number; ready: number }[]>`
    select count(*)::int as checks, count(*) filter (where ready)::int as ready from readiness_checks where at >= ${since}`;
  return { ...r, share: r.checks ? r.ready / r.checks : null };
}

export interface CheckRow { id: number; process_id: string; at: Date; ready: boolean; checks: unknown }

export async function recentChecks(sql: Sql, limit: number, onlyFailures = false): Promise<CheckRow[]> {
  return onlyFailures
    ? sql<CheckRow[]>`select id, process_id, at, ready, checks from readiness_checks where not ready order by id desc limit ${limit}`
    : sql<CheckRow[]>`select id, process_id, at, ready, checks from readiness_checks order by id desc limit ${limit}`;
}

/** Readiness per hour over the last `hours` (for the System page's bar). */
export async function hourlyReadiness(sql: Sql, hours: number): Promise<Array<{ hour: Date; checks: number; ready: number }>> {
  return sql<Array<{ hour: Date; checks: number; ready: number }>>`
    select date_trunc('hour', at) as hour, count(*)::int as checks, count(*) filter (where ready)::int as ready
    from readiness_checks where at >= now() - make_interval(hours => ${hours}) group by 1 order by 1`;
}
