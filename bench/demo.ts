// `npm run demo`: fills a running Herald, through its public API only, with a realistic quarter of business
// events (occurred_at spread over the last 90 days) and the rules they need, so every preset dashboard,
// forecast and alert has something true to show.
//
//   HERALD_URL      default http://127.0.0.1:8080
//   HERALD_API_KEY  an admin API key (printed on first start, or HERALD_ADMIN_API_KEY)
//   DEMO_SEED       default 42 (the same seed sends the same quarter, relative to now)
//
// What it sends: ~300 customers; leads (contacted within minutes to a day, some never); deals created,
// won or lost weeks later with amounts; invoices issued and paid on time, late or not yet (AR aging and DSO);
// 12 machines failing and being repaired (a few down right now); hourly HTTP stats with a weekly rhythm and
// an error-rate incident; failing system jobs with a bad week. Batches carry Idempotency-Keys, so running it
// twice within 24 hours sends nothing twice.
const URL_BASE = (process.env.HERALD_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
const KEY = process.env.HERALD_API_KEY ?? process.env.HERALD_ADMIN_API_KEY ?? '';
const SEED = Number(process.env.DEMO_SEED ?? 42);
const DAYS = 90;
const BATCH = 500;
const CONCURRENCY = 4;

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

// A small seeded PRNG (mulberry32): the same seed gives the same quarter.
let state = SEED >>> 0;
function rand(): number {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const between = (a: number, b: number) => a + rand() * (b - a);
const int = (a: number, b: number) => Math.floor(between(a, b + 1));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
/** Log-normal with the given median (a long right tail: most answers quick, a few very slow). */
const lognormal = (median: number, sigma: number) => median * Math.exp(sigma * Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand()));
/** Poisson-ish count for a day with this mean. */
const count = (mean: number) => { let n = 0; let p = Math.exp(-mean); let s = p; const u = rand(); while (u > s && n < 1000) { n++; p *= mean / n; s += p; } return n; };

interface Ev { category: string; type: string; title: string; severity?: string; entity?: { kind: string; id: string; name?: string }; metadata?: Record<string, unknown>; occurred_at: string }

const now = Date.now();
const start = now - DAYS * DAY;
const events: Ev[] = [];
const at = (ms: number) => new Date(Math.round(ms)).toISOString();
const push = (ms: number, e: Omit<Ev, 'occurred_at'>) => { if (ms <= now - 1000) events.push({ ...e, occurred_at: at(ms) }); };
/** Business hours on weekdays for people-made events. */
const workTime = (day: number) => { const d = start + day * DAY; const wd = new Date(d).getUTCDay(); return wd === 0 || wd === 6 ? null : Math.floor(d / DAY) * DAY + between(8 * HOUR, 18 * HOUR); };

const FIRST = ['Acme', 'Borealis', 'Cobalt', 'Delta', 'Evergreen', 'Fjord', 'Granite', 'Harbor', 'Iris', 'Juniper', 'Keystone', 'Lumen', 'Meridian', 'Nordic', 'Orion', 'Pioneer', 'Quarry', 'Riverside', 'Summit', 'Tidal'];
const LAST = ['Builders', 'Logistics', 'Foods', 'Clinic', 'Motors', 'Studios', 'Farms', 'Labs', 'Retail', 'Works', 'Partners', 'Energy', 'Textiles', 'Print'];
const customers = Array.from({ length: 300 }, (_, i) => ({ id: `c${1000 + i}`, name: `${pick(FIRST)} ${pick(LAST)}`, late: rand() < 0.25 }));
const SOURCES = ['web', 'referral', 'trade_show', 'cold_call'] as const;
const OWNERS = ['Mia', 'Noah', 'Lena', 'Omar'] as const;

// ---- sales: leads and deals (more leads in the last month: a growing trend) ----
let leadNo = 0;
let dealNo = 0;
for (let d = 0; d < DAYS; d++) {
  const growth = 1 + d / DAYS;
  for (let i = 0; i < count(5 * growth); i++) {
    const t = workTime(d);
    if (t === null) continue;
    const c = pick(customers);
    const id = `L${++leadNo}`;
    const source = pick(SOURCES);
    push(t, { category: 'sales', type: 'lead_created', title: `New lead from ${c.name}`, severity: 'info', entity: { kind: 'lead', id, name: c.name }, metadata: { source, customer: c.id } });
    if (rand() < 0.9) push(t + Math.min(3 * DAY, lognormal(2 * HOUR, 1.1)), { category: 'sales', type: 'lead_contacted', title: `Lead ${id} contacted`, severity: 'info', entity: { kind: 'lead', id, name: c.name }, metadata: { by: pick(OWNERS) } });
  }
  for (let i = 0; i < count(2.5 * growth); i++) {
    const t = workTime(d);
    if (t === null) continue;
    const c = pick(customers);
    const id = `D${++dealNo}`;
    const amount = Math.round(lognormal(12_000, 0.7) / 100) * 100;
    const owner = pick(OWNERS);
    push(t, { category: 'sales', type: 'deal_created', title: `Deal ${id} with ${c.name}`, severity: 'info', entity: { kind: 'deal', id, name: `${c.name} (${id})` }, metadata: { amount, owner, customer: c.id } });
    const r = rand();
    const closeAt = t + between(5, 45) * DAY;
    if (r < 0.42) push(closeAt, { category: 'sales', type: 'deal_won', title: `Deal ${id} won: €${amount}`, severity: 'info', entity: { kind: 'deal', id, name: `${c.name} (${id})` }, metadata: { amount, owner, customer: c.id } });
    else if (r < 0.8) push(closeAt, { category: 'sales', type: 'deal_lost', title: `Deal ${id} lost`, severity: 'info', entity: { kind: 'deal', id, name: `${c.name} (${id})` }, metadata: { amount, owner, reason: pick(['price', 'timing', 'competitor']) } });
  }
}

// ---- finance: invoices issued and paid on time, late, or not yet ----
let invNo = 0;
for (let d = 0; d < DAYS; d++) {
  for (let i = 0; i < count(6); i++) {
    const t = workTime(d);
    if (t === null) continue;
    const c = pick(customers);
    const id = `INV-${2026_000 + ++invNo}`;
    const amount = Math.round(lognormal(2_400, 0.8));
    push(t, { category: 'finance', type: 'invoice_issued', title: `Invoice ${id} to ${c.name}`, severity: 'info', entity: { kind: 'invoice', id, name: `${id} ${c.name}` }, metadata: { amount, customer: c.id, due_days: 30 } });
    const r = rand();
    const days = c.late ? (r < 0.15 ? null : between(35, 95)) : r < 0.03 ? null : between(8, 34);
    if (days !== null) push(t + days * DAY, { category: 'finance', type: 'invoice_paid', title: `Invoice ${id} paid`, severity: 'info', entity: { kind: 'invoice', id, name: `${id} ${c.name}` }, metadata: { amount, customer: c.id } });
  }
}

// ---- workshop: machines failing and being repaired ----
const MACHINES = ['press-1', 'press-2', 'lathe-1', 'lathe-2', 'mill-1', 'mill-2', 'cnc-1', 'cnc-2', 'welder-1', 'saw-1', 'paint-1', 'compressor'];
const REASONS = ['hydraulics', 'electrical', 'tooling', 'sensor', 'overheating'] as const;
for (const m of MACHINES) {
  let t = start + between(0, 5) * DAY;
  const mtbf = between(5, 14) * DAY;
  while (t < now) {
    const reason = pick(REASONS);
    const repair = Math.max(20 * MIN, lognormal(3 * HOUR, 0.9));
    // A failure whose repair ends after now would leave a third machine down (and send its repair from the
    // future): the machines down right now are the two below. Where that falls depends on the time of day
    // (earlier sections skip weekend days by the calendar, so how many draws come before this depends on the
    // date and hour), so without this the count varied from run to run.
    if (t + repair >= now) break;
    push(t, { category: 'workshop', type: 'machine_down', title: `${m} is down (${reason})`, severity: 'error', entity: { kind: 'machine', id: m, name: m }, metadata: { reason } });
    push(t + repair, { category: 'workshop', type: 'machine_up', title: `${m} is running again`, severity: 'info', entity: { kind: 'machine', id: m, name: m }, metadata: { reason } });
    t += repair + lognormal(mtbf, 0.6);
  }
}
// Two machines down right now.
for (const m of ['cnc-2', 'paint-1']) push(now - between(20, 150) * MIN, { category: 'workshop', type: 'machine_down', title: `${m} is down`, severity: 'error', entity: { kind: 'machine', id: m, name: m }, metadata: { reason: pick(REASONS) } });

// ---- system: hourly HTTP stats with a weekly rhythm, and failing jobs ----
const incident = start + 61 * DAY;
for (let t = Math.ceil(start / HOUR) * HOUR; t < now; t += HOUR) {
  const hourOfDay = new Date(t).getUTCHours();
  const busy = hourOfDay >= 8 && hourOfDay <= 18 ? 1 : 0.3;
  const inIncident = t >= incident && t < incident + 5 * HOUR;
  const requests = Math.round(busy * between(2000, 2600));
  push(t + 59 * MIN, {
    category: 'system', type: 'http_stats', title: 'HTTP stats', severity: 'info', entity: { kind: 'service', id: 'api', name: 'API' },
    metadata: { requests, error_rate_pct: Math.round((inIncident ? between(6, 9) : between(0.2, 1.4)) * 100) / 100, p95_ms: Math.round((inIncident ? 900 : 160 + 90 * busy) + between(-25, 25)) },
  });
}
const JOBS = ['invoice_sync', 'payroll_export', 'backup', 'crm_import'] as const;
for (let d = 0; d < DAYS; d++) {
  const bad = d >= 70 && d < 74;
  for (let i = 0; i < count(bad ? 18 : 3); i++) {
    const job = bad && rand() < 0.7 ? 'crm_import' : pick(JOBS);
    push(start + d * DAY + between(0, DAY), { category: 'system', type: 'job_failed', title: `Job ${job} failed`, severity: 'warning', entity: { kind: 'job', id: job, name: job }, metadata: { job, attempt: int(1, 3) } });
  }
}

events.sort((a, b) => a.occurred_at.localeCompare(b.occurred_at));

// ---- the rules they need (merged by name: running the demo again changes nothing) ----
const RULES = {
  version: 1,
  rules: [
    { name: 'Demo: KPI thresholds to accounting, then the CEO', position: 5, match: { category: 'kpi', type: 'threshold_crossed', min_severity: 'info' },
      targets: { roles: ['accounting', 'admin'] }, channels: ['in_app'], priority: 'high',
      escalation: { steps: [{ after_minutes: 60, roles: ['ceo'] }], repeat: 0 } },
    { name: 'Demo: KPI anomalies to admins', position: 6, match: { category: 'kpi', type: 'anomaly', min_severity: 'info' }, targets: { roles: ['admin'] }, channels: ['in_app'], priority: 'normal' },
    { name: 'Demo: machine down to the workshop', position: 10, match: { category: 'workshop', type: 'machine_down', min_severity: 'warning' },
      targets: { roles: ['workshop', 'shop_supervisor'] }, channels: ['in_app'], priority: 'high',
      escalation: { steps: [{ after_minutes: 30, roles: ['shop_supervisor'] }], repeat: 0 } },
    { name: 'Demo: failed jobs to admins', position: 20, match: { category: 'system', type: 'job_failed', min_severity: 'warning' }, targets: { roles: ['admin'] }, channels: ['in_app'], priority: 'normal' },
    { name: 'Demo: won deals to sales', position: 30, match: { category: 'sales', type: 'deal_won', min_severity: 'info', conditions: [{ field: 'metadata.amount', op: 'gte', value: 20000 }] },
      targets: { roles: ['sales'] }, channels: ['in_app'], priority: 'low' },
  ],
};
const USERS = [
  { name: 'Ana Accountant', email: 'ana@demo.herald', roles: ['accounting'] },
  { name: 'Sam Sales', email: 'sam@demo.herald', roles: ['sales'] },
  { name: 'Wes Workshop', email: 'wes@demo.herald', roles: ['workshop'] },
  { name: 'Sue Supervisor', email: 'sue@demo.herald', roles: ['shop_supervisor'] },
  { name: 'Cleo CEO', email: 'cleo@demo.herald', roles: ['ceo'] },
];

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(URL_BASE + path, {
    method, headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: res.status, json, text };
}

function bar(done: number, total: number, t0: number) {
  const width = 30;
  const f = total ? done / total : 1;
  const rate = done / Math.max(0.001, (Date.now() - t0) / 1000);
  process.stderr.write(`\r  [${'#'.repeat(Math.round(f * width)).padEnd(width, '.')}] ${String(Math.round(f * 100)).padStart(3)}%  ${done}/${total} events  ${Math.round(rate)}/s `);
}

async function main() {
  if (!KEY) {
    console.error('Set HERALD_API_KEY to an admin API key (Herald prints one on its first start, or set HERALD_ADMIN_API_KEY when starting it).');
    process.exit(2);
  }
  const ping = await call('GET', '/v1/rules').catch((e: Error) => ({ status: 0, text: e.message, json: null }));
  if (ping.status !== 200) {
    console.error(`Cannot use Herald at ${URL_BASE}: ${ping.status || ''} ${ping.text.slice(0, 200)}`);
    process.exit(2);
  }
  console.log(`Herald at ${URL_BASE}: sending a quarter of business events (seed ${SEED}).`);
  const imp = await call('POST', '/v1/rules/import?mode=merge', RULES);
  if (imp.status !== 200) throw new Error(`rules import: ${imp.status} ${imp.text.slice(0, 300)}`);
  console.log(`  rules: ${imp.json.added} added, ${imp.json.changed} changed, ${imp.json.unchanged} unchanged`);
  let made = 0;
  for (const u of USERS) { const r = await call('POST', '/v1/users', u); if (r.status === 201) made++; }
  console.log(`  people: ${made} added (${USERS.length - made} already there)`);

  const t0 = Date.now();
  const batches: Ev[][] = [];
  for (let i = 0; i < events.length; i += BATCH) batches.push(events.slice(i, i + BATCH));
  let done = 0;
  let failed = 0;
  let next = 0;
  // The idempotency key names the day and the batch: a re-run the same day replays instead of adding.
  const day = new Date().toISOString().slice(0, 10);
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < batches.length) {
      const i = next++;
      const r = await call('POST', '/v1/events/batch', { events: batches[i] }, { 'idempotency-key': `demo-${SEED}-${day}-${i}` });
      if (r.status !== 202) throw new Error(`batch ${i}: ${r.status} ${r.text.slice(0, 300)}`);
      for (const x of (r.json?.results ?? r.json?.items ?? []) as Array<{ error?: unknown }>) if (x.error) failed++;
      done += batches[i].length;
      bar(done, events.length, t0);
    }
  }));
  process.stderr.write('\n');
  const counts = new Map<string, number>();
  for (const e of events) counts.set(e.category, (counts.get(e.category) ?? 0) + 1);
  console.log(`  sent ${events.length} events in ${((Date.now() - t0) / 1000).toFixed(1)} s (${[...counts].map(([c, n]) => `${c} ${n}`).join(', ')})${failed ? `; ${failed} refused` : ''}`);

  // Wait until the rollups have caught up (the metrics list says when each is ready).
  process.stderr.write('  rollups: ');
  for (let i = 0; i < 120; i++) {
    const m = await call('GET', '/v1/metrics');
    const items = (m.json?.items ?? []) as Array<{ rollup: { state: string } }>;
    const v = await call('GET', '/v1/metrics/system_error_rate/value?window=1d');
    if (items.length && items.every((x) => x.rollup.state === 'ready') && v.json?.value !== null) break;
    process.stderr.write('.');
    await new Promise((r) => setTimeout(r, 1000));
  }
  process.stderr.write(' ready\n');
  for (const key of ['sales', 'accounting', 'workshop', 'system']) {
    const d = await call('GET', `/v1/dashboards/${key}`);
    if (d.status !== 200) { console.log(`  ${key}: ${d.status}`); continue; }
    const tiles = (d.json.widgets as Array<{ type: string; title: string; data: { value: number | null; status: string | null } }>)
      .filter((w) => w.type === 'kpi').map((w) => `${w.title} ${w.data.value === null ? '—' : Math.round(w.data.value * 100) / 100}${w.data.status && w.data.status !== 'ok' ? ` (${w.data.status})` : ''}`);
    console.log(`  ${key}: ${tiles.join(' · ')}`);
  }
  console.log(`Open ${URL_BASE}/dashboards in the app.`);
}

main().catch((e) => { console.error(`\n${(e as Error).message}`); process.exit(1); });
