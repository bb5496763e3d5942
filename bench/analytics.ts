// `npm run bench:analytics`: GET /v1/analytics/alerts and GET /v1/alerts/export on a big history.
//
// Seeds N alerts (BENCH_ALERTS, default 1,000,000; BENCH_QUICK=1: 50,000) spread evenly over the last 365
// days, each with its timeline (created, notified, acknowledged/snoozed, escalated, resolved) and two messages,
// by multi-row SQL (generate_series, not through the API) into a fresh database of an embedded Postgres;
// then starts Herald (`api/main.ts --role=api`, its own process so its memory can be read from /proc) and
// measures, one request at a time after a warm-up:
//   - the analytics answer for 30 days by day (the design's target: p95 ≤ 200 ms), 7 days by hour,
//     30 days for one category, a year by week;
//   - a CSV export of 30 days (rows/s) and an XLSX export of up to 100,000 rows (seconds), with Herald's
//     peak resident memory during each (VmRSS sampled every 50 ms).
//   - report_pdf: a scheduled-report PDF (the `alerts` kind) of about 20 pages, and the largest one (a week:
//     the alert table capped at PDF_ALERT_ROWS), rendered by the worker's report__generate job: time from the
//     run request to the finished run, render time, pages, and Herald's peak resident memory (targets ≤ 10 s,
//     < 400 MiB for 20 pages).
// Env: BENCH_ALERTS, BENCH_QUICK=1, BENCH_REQUESTS (per query, default 40; quick 20), BENCH_KEEP=1 (seed, print the
// database URL and wait: for EXPLAIN ANALYZE by hand), BENCH_ONLY=analytics,export,report_pdf (rows to run),
// BENCH_VERBOSE=1 (every analytics request's time, in order: warm-up and garbage collection show as runs of slow ones),
// BENCH_DATABASE_URL=<the URL a BENCH_KEEP run printed> (no seeding: measure again on that kept database; Herald
// migrates it on start, and a new rollup is built by its worker before the analytics rows are timed).
import postgres from 'postgres';
import { ADMIN_KEY, freshDatabase, percentile, procStatus, sleep, spawnHerald, startPostgres } from './lib';
import { connect } from '../db/platform/sql';
import { rollupAnalyticsAll } from '../db/analytics/rollup';

const QUICK = process.env.BENCH_QUICK === '1';
const N = Number(process.env.BENCH_ALERTS ?? (QUICK ? 50_000 : 1_000_000));
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? (QUICK ? 20 : 40));
const USERS = 20;
const RULES = 10;
const ONLY = (process.env.BENCH_ONLY ?? '').split(',').map((x) => x.trim()).filter(Boolean);
const want = (row: 'analytics' | 'export' | 'report_pdf') => !ONLY.length || ONLY.includes(row);
const log = (...a: unknown[]) => console.log(`[bench:analytics ${new Date().toISOString().slice(11, 19)}]`, ...a);

async function seed(sql: postgres.Sql) {
  const t0 = Date.now();
  await sql`insert into users (org_id, name, email, roles)
    select 1, 'Person ' || g, 'person' || g || '@example.com', array[(array['sales','accounting','workshop','office'])[1 + g % 4]]
    from generate_series(1, ${USERS}) g`;
  await sql`insert into rules (org_id, name, match, targets, channels, priority, escalation)
    select 1, 'Rule ' || g, jsonb_build_object('category', 'c' || g), '{"roles": ["sales"], "users": []}', '{in_app,email}', 'normal', '{"steps": [], "repeat": 0}'
    from generate_series(1, ${RULES}) g`;
  const users = (await sql<{ id: number; name: string }[]>`select id::int, name from users order by id`);
  const rules = (await sql<{ id: number }[]>`select id::int from rules order by id`).map((r) => r.id);
  // Alert g: created evenly over a year; 90 % acknowledged (after 30 s … 1 h), 80 % resolved (after up to
  // 4 h more), one in seven escalated; acknowledgements spread over people and channels.
  await sql`
    insert into alerts (org_id, status, priority, severity, category, type, title, dedup_key, occurrences, rule_ids, route,
      escalation_level, created_at, updated_at, last_event_at, acknowledged_at, acknowledged_by, first_acknowledged_at, first_acknowledged_by, resolved_at, resolved_by)
    select 1,
      case when g % 5 <> 0 then 'resolved' when g % 10 <> 0 then 'acknowledged' else 'triggered' end,
      (array['low','normal','high','critical'])[1 + g % 4], (array['info','warning','error','critical'])[1 + g % 4],
      (array['sales','finance','production','system','support'])[1 + g % 5], 'type_' || (g % 13), 'Alert number ' || g,
      case when g % 5 <> 0 then 'key-' || (g % 5000) else 'open-' || g end, 1 + g % 3,
      array[(${rules}::bigint[])[1 + g % ${RULES}]],
      jsonb_build_object('rules', jsonb_build_array(jsonb_build_object('rule_id', 1, 'targets', jsonb_build_object('roles', jsonb_build_array((array['sales','accounting','workshop','office'])[1 + g % 4]), 'users', '[]'::jsonb))), 'escalation', jsonb_build_object('steps', '[]'::jsonb)),
      case when g % 7 = 0 then 1 else 0 end, c, c, c,
      case when g % 10 <> 0 then c + make_interval(secs => 30 + (g * 7919) % 3600) end, case when g % 10 <> 0 then ack end,
      case when g % 10 <> 0 then c + make_interval(secs => 30 + (g * 7919) % 3600) end, case when g % 10 <> 0 then ack end,
      case when g % 5 <> 0 then c + make_interval(secs => 60 + (g * 7919) % 3600 + (g * 104729) % 14400) end,
      case when g % 5 <> 0 then ack end
    from generate_series(1::bigint, ${N}::bigint) g,
      lateral (select now() - make_interval(secs => (g::float8 / ${N}) * 365 * 86400) as c) t,
      lateral (select jsonb_build_object('kind', 'user', 'id', (${users.map((u) => u.id)}::bigint[])[1 + g % ${USERS}], 'name', 'Person ' || (1 + g % ${USERS}),
        'via', (array['pwa','slack','email','sms','push'])[1 + g % 5]) as ack) a`;
  log(`alerts: ${N} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const t1 = Date.now();
  await sql`
    insert into alert_timeline (org_id, alert_id, at, kind, actor, detail)
    select 1, a.id, x.at, x.kind, x.actor, '{}'::jsonb from alerts a, lateral (values
      (a.created_at, 'created', '{"kind": "system", "name": "Herald"}'::jsonb),
      (a.created_at, 'notified', '{"kind": "system", "name": "Herald"}'::jsonb),
      (case when a.escalation_level > 0 then a.created_at + interval '10 minutes' end, 'escalated', '{"kind": "system", "name": "Herald"}'::jsonb),
      (a.first_acknowledged_at, case when a.id % 11 = 0 then 'snoozed' else 'acknowledged' end, a.first_acknowledged_by),
      (a.resolved_at, 'resolved', a.resolved_by)
    ) x(at, kind, actor) where x.at is not null`;
  log(`timeline rows in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
  const t2 = Date.now();
  await sql`
    insert into messages (org_id, alert_id, level, recipient, user_id, channel, status, attempts, created_at, updated_at)
    select 1, a.id, 0, 'user:' || u.id, u.id, x.channel, x.status, 1, a.created_at, a.created_at
    from alerts a, lateral (select (${users.map((u) => u.id)}::bigint[])[1 + a.id % ${USERS}] as id) u,
      lateral (values ('in_app', 'delivered'),
        ((array['email','sms','slack','push'])[1 + a.id % 4], case when a.id % 50 = 0 then 'failed' when a.id % 3 = 0 then 'sent' else 'delivered' end)) x(channel, status)`;
  log(`messages in ${((Date.now() - t2) / 1000).toFixed(1)} s`);
  const t3 = Date.now();
  await sql`vacuum analyze alerts`;
  await sql`vacuum analyze alert_timeline`;
  await sql`vacuum analyze messages`;
  log(`vacuum analyze in ${((Date.now() - t3) / 1000).toFixed(1)} s`);
  // As on an upgrade (the rollup migration starts its marks at the ids there are then): the history is older than the
  // marks, so its hours are computed once, as never computed, not again as changed (that doubled the build).
  await sql`update analytics_rollup_marks set mark = case source when 'timeline' then (select coalesce(max(id), 0) from alert_timeline)
    when 'messages' then (select coalesce(max(id), 0) from messages) else (select coalesce(max(id), 0) from events) end`;
  const [c] = await sql<{ alerts: number; timeline: number; messages: number }[]>`
    select (select count(*)::int from alerts) as alerts, (select count(*)::int from alert_timeline) as timeline, (select count(*)::int from messages) as messages`;
  return c;
}

/** Samples a process's resident memory every 50 ms until stopped; returns the peak in MiB. */
function rssSampler(pid: number) {
  let peak = 0;
  const start = procStatus(pid)?.rssKiB ?? 0;
  const t = setInterval(() => { peak = Math.max(peak, procStatus(pid)?.rssKiB ?? 0); }, 50);
  return { startMiB: start / 1024, stop: () => { clearInterval(t); peak = Math.max(peak, procStatus(pid)?.rssKiB ?? 0); return peak / 1024; } };
}

async function main() {
  const reuse = process.env.BENCH_DATABASE_URL;
  log(reuse ? `reusing ${reuse}` : `seeding ${N.toLocaleString('en')} alerts (${QUICK ? 'quick' : 'full'})`);
  const pg = reuse ? null : await startPostgres();
  const db = reuse ? { url: reuse, drop: async () => {} } : await freshDatabase(pg!);
  const sql = postgres(db.url, { max: 2, onnotice: () => {} });
  let herald: Awaited<ReturnType<typeof spawnHerald>> | null = null;
  try {
    const counts = reuse
      ? (await sql<{ alerts: number; timeline: number; messages: number }[]>`
        select (select count(*)::int from alerts) as alerts, (select count(*)::int from alert_timeline) as timeline, (select count(*)::int from messages) as messages`)[0]
      : await seed(sql);
    log(`seeded: ${counts.alerts} alerts, ${counts.timeline} timeline rows, ${counts.messages} messages`);
    if (process.env.BENCH_KEEP === '1') {
      log(`BENCH_KEEP=1: database ${db.url} stays up until you stop the bench`);
      await new Promise(() => {});
    }
    // The report row needs the worker (report__generate); the others measure the API alone.
    herald = await spawnHerald(db.url, { LOG_LEVEL: 'warn' }, want('report_pdf') ? [] : ['--role=api']);
    if (want('analytics')) {
      // The analytics rollups of the whole history (the worker's analytics__rollup job does the same, an hour
      // at a time, in production; the API-only Herald here has no worker).
      const pool = connect(db.url, { max: 1 });
      const t = performance.now();
      const hours = await rollupAnalyticsAll(pool);
      await pool.end();
      log(`analytics rollups: ${hours} hours computed in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    }
    if (want('report_pdf')) {
      // With the worker running (the report row needs it), wait until its start-up catch-up is done (no job running or
      // waiting for 3 s in a row, at most 120 s): the rows then measure a steady Herald, whose periodic jobs still run.
      const settleBy = Date.now() + 120_000;
      let quietSince = Date.now();
      while (Date.now() < settleBy && Date.now() - quietSince < 3000) {
        const [{ busy }] = await sql<{ busy: number }[]>`
          select count(*)::int as busy from graphile_worker._private_jobs where locked_at is not null or (run_at <= now() and attempts < max_attempts)`;
        if (busy) quietSince = Date.now();
        await sleep(250);
      }
      log(`worker settled in ${((Date.now() - (settleBy - 120_000)) / 1000).toFixed(1)} s`);
    }
    const get = async (path: string) => {
      const t = performance.now();
      const res = await fetch(herald!.url + path, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      const body = await res.arrayBuffer();
      if (res.status === 503) return { ms: NaN, bytes: body.byteLength, body, timedOut: true };
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${Buffer.from(body).toString().slice(0, 300)}`);
      return { ms: performance.now() - t, bytes: body.byteLength, body };
    };
    const day = 86400_000;
    const iso = (ms: number) => new Date(ms).toISOString();
    const now = Date.now();
    // The year is many times the work of a month: fewer requests for it.
    const queries: Array<[string, string, number?]> = [
      ['30 days by day (target p95 ≤ 200 ms)', `from=${iso(now - 30 * day)}&to=${iso(now)}&bucket=day&tz=Europe/Berlin`],
      ['7 days by hour', `from=${iso(now - 7 * day)}&to=${iso(now)}&bucket=hour&tz=Europe/Berlin`],
      ['30 days, category=finance', `from=${iso(now - 30 * day)}&to=${iso(now)}&category=finance&tz=Europe/Berlin`],
      ['365 days by week', `from=${iso(now - 365 * day)}&to=${iso(now)}&bucket=week&tz=Europe/Berlin`, QUICK ? REQUESTS : 5],
    ];
    const rows: string[] = [];
    for (const [name, q, count = REQUESTS] of want('analytics') ? queries : []) {
      const path = `/v1/analytics/alerts?${q}`;
      const r0 = await get(path);
      if ('timedOut' in r0) {
        const line = `${name.padEnd(40)} refused: over the 20 s statement timeout (503)`;
        log(line);
        rows.push(line);
        continue;
      }
      const first = JSON.parse(Buffer.from(r0.body).toString()) as { totals: { created: number } };
      for (let i = 0; i < Math.min(3, count); i++) await get(path);
      const ms: number[] = [];
      for (let i = 0; i < count; i++) ms.push((await get(path)).ms);
      if (process.env.BENCH_VERBOSE === '1') log(`each request, in order (ms): ${ms.map((x) => x.toFixed(0)).join(' ')}`);
      const timeouts = ms.filter((x) => Number.isNaN(x)).length;
      const line = `${timeouts ? `[${timeouts} timed out] ` : ''}${name.padEnd(40)} alerts in range ${String(first.totals.created).padStart(8)}  p50 ${percentile(ms.filter((x) => !Number.isNaN(x)), 50).toFixed(1).padStart(7)} ms  p95 ${percentile(ms.filter((x) => !Number.isNaN(x)), 95).toFixed(1).padStart(7)} ms  max ${Math.max(...ms.filter((x) => !Number.isNaN(x))).toFixed(1).padStart(7)} ms  (${count} requests)`;
      log(line);
      rows.push(line);
    }
    await sleep(500);
    // Every alert at the time of the export: Herald's own (a stuck queue after the pause, a security alert for a
    // burst of exports) are alerts too.
    const everything = want('export') ? (await sql<{ n: number }[]>`select count(*)::int as n from alerts`)[0].n : 0;
    // Warm-up, as for the analytics rows: a day in each format first (untimed), so the rows measure a running
    // Herald rather than the first export's module loading and compilation.
    if (want('export')) for (const format of ['csv', 'xlsx']) await get(`/v1/alerts/export?format=${format}&from=${iso(now - day)}&to=${iso(now)}`);
    for (const [name, q, expected] of [
      ['CSV export, 30 days', `format=csv&from=${iso(now - 30 * day)}&to=${iso(now)}`, 0],
      ['CSV export, everything', 'format=csv', everything],
      ['XLSX export, ≤ 100,000 rows', `format=xlsx&from=${iso(now - (Math.min(N, 100_000) / N) * 365 * day)}&to=${iso(now)}`, 0],
    ] as Array<[string, string, number]>) {
      if (!want('export')) break;
      const s = rssSampler(herald.pid);
      const r = await get(`/v1/alerts/export?${q}`);
      const peak = s.stop();
      const n = q.startsWith('format=csv') ? Buffer.from(r.body).toString().split('\r\n').length - 2 : null;
      if (expected && n !== expected) throw new Error(`${name}: ${n} rows, expected ${expected}`);
      const line = `${name.padEnd(40)} ${n !== null ? `${n} rows, ${Math.round(n / (r.ms / 1000)).toLocaleString('en')} rows/s, ` : ''}${(r.ms / 1000).toFixed(2)} s, ${(r.bytes / 1048576).toFixed(1)} MiB, Herald RSS ${s.startMiB.toFixed(0)} → peak ${peak.toFixed(0)} MiB`;
      log(line);
      rows.push(line);
    }
    if (want('report_pdf')) {
      const api = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(herald!.url + path, { method, headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
        const text = await res.text();
        if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
        return text ? JSON.parse(text) : null;
      };
      // Alerts are spread evenly over the year: about 520 in this window make the alert table ~17 pages,
      // after the title page and the charts: about 20 pages in all.
      const window = Math.max(3600_000, (520 / N) * 365 * day);
      for (const [name, params] of [
        ['Report PDF, first run (cold: loads pdfkit, Chart.js, canvas)', { period: 'last_24h', tz: 'Europe/Berlin', category: 'none' }],
        ['Report PDF, ~20 pages', { from: iso(now - window), to: iso(now), tz: 'Europe/Berlin' }],
        ['Report PDF, a week (table capped)', { period: 'last_7d', tz: 'Europe/Berlin' }],
      ] as Array<[string, Record<string, unknown>]>) {
        const report = await api('POST', '/v1/reports', { name, kind: 'alerts', format: 'pdf', params });
        await sleep(1000);
        const s = rssSampler(herald.pid);
        const t = performance.now();
        const { run_id } = await api('POST', `/v1/reports/${report.id}/run`);
        let run: { status: string; started_at: string; finished_at: string; rows: number; bytes: number; error: string | null };
        try {
          for (;;) {
            run = await api('GET', `/v1/report-runs/${run_id}`);
            if (run.status === 'succeeded' || run.status === 'failed') break;
            await sleep(50);
          }
        } catch (e) {
          log(`Herald's last output:\n${herald.output().slice(-4000)}`);
          throw e;
        }
        const total = (performance.now() - t) / 1000;
        const peak = s.stop();
        if (run.status !== 'succeeded') throw new Error(`${name}: ${run.error}`);
        const res = await fetch(`${herald.url}/v1/report-runs/${run_id}/file`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
        const pdf = Buffer.from(await res.arrayBuffer()).toString('latin1');
        const pages = (pdf.match(/\/Type \/Page\b/g) ?? []).length;
        const render = (Date.parse(run.finished_at) - Date.parse(run.started_at)) / 1000;
        const line = `${name.padEnd(58)} ${pages} pages, ${run.rows} alerts, ${(run.bytes / 1024).toFixed(0)} KiB, ${total.toFixed(2)} s from request to file (render ${render.toFixed(2)} s), Herald RSS ${s.startMiB.toFixed(0)} → peak ${peak.toFixed(0)} MiB`;
        log(line);
        rows.push(line);
      }
    }
    console.log(`\nAnalytics bench, ${counts.alerts.toLocaleString('en')} alerts over 365 days, ${counts.timeline.toLocaleString('en')} timeline rows, ${counts.messages.toLocaleString('en')} messages\n${rows.join('\n')}`);
  } finally {
    await herald?.stop();
    await sql.end();
    await db.drop();
    await pg?.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
