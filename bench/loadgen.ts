// Load generator for the benchmark: keep-alive node:http, closed loop (N requests in flight) or open loop
// (requests sent at their planned time whatever the replies; latency counted from the planned time, so a
// stall is not hidden by the generator waiting for it). Runs in a worker thread (see runInWorker) so the
// bench's main thread stays free for the webhook receiver and the samplers.
import http from 'node:http';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

export interface BodySpec {
  /** pagerduty: one PagerDuty Events API v2 trigger per request (path /v2/enqueue), with `routingKey` */
  kind: 'single' | 'batch' | 'pagerduty' | 'alertmanager';
  routingKey?: string;
  /** events per request for 'batch' and 'alertmanager' (default 1 for alertmanager: POST /api/v2/alerts) */
  size?: number;
  /** every event gets dedup_key = prefix + its sequence number (0, 1, 2 … across requests) */
  prefix: string;
  category: string;
  type: string;
  /** every event is about entity `customer` c<seq mod entities>, with attributes a score can read (BENCH_SCORE=1) */
  entities?: number;
}

export interface LoadSpec {
  url: string;
  path: string;
  apiKey: string;
  mode: 'closed' | 'open';
  /** closed: requests in flight */
  concurrency?: number;
  /** open: requests per second */
  rate?: number;
  /** open: stop after this many requests (default rate × duration) */
  maxRequests?: number;
  /** measured window, after the warm-up */
  durationMs: number;
  /** run this long first without counting (closed: completions; open: planned sends) */
  warmupMs?: number;
  body: BodySpec;
  /**
   * closed only: hold sending while (events sent − Int32Array(sab)[0]) ≥ window, where the main thread counts
   * deliveries into the shared array ("as fast as delivery keeps up").
   */
  gate?: { sab: SharedArrayBuffer; window: number };
}

export interface LoadResult {
  /** absolute ms (performance.timeOrigin + now) of the start of the measured window */
  startAbs: number;
  endAbs: number;
  /** first sequence number inside the measured window (open loop: request index = event index for single) */
  firstMeasured: number;
  requests: number;
  ok: number;
  /** events accepted (202) inside the measured window */
  events: number;
  /** all events accepted, warm-up included */
  eventsTotal: number;
  errors: Record<string, number>;
  /** per measured request: latency in ms (open loop: from planned send time), -1 when it failed */
  latencies: number[];
  /** open loop: planned absolute send time of request 0 and the interval, so planned(i) = t0 + i × interval */
  plannedT0: number;
  intervalMs: number;
  /** closed loop with a gate: ms spent waiting for deliveries */
  gatedMs: number;
}

export const nowAbs = () => performance.timeOrigin + performance.now();

function makeBody(spec: BodySpec, seq: number): { text: string; n: number } {
  const one = (i: number) => (spec.entities
    ? `{"category":"${spec.category}","type":"${spec.type}","title":"Bench event ${i}","severity":"warning","dedup_key":"${spec.prefix}${i}","entity":{"kind":"customer","id":"c${i % spec.entities}"},"metadata":{"n":${i},"revenue":${(i * 7919) % 100000},"days_since_contact":${i % 60}}}`
    : `{"category":"${spec.category}","type":"${spec.type}","title":"Bench event ${i}","severity":"warning","dedup_key":"${spec.prefix}${i}","metadata":{"n":${i}}}`);
  if (spec.kind === 'single') return { text: one(seq), n: 1 };
  if (spec.kind === 'alertmanager') {
    // The same event as labels and annotations; dedup_key is a label, so each is its own alert.
    const am = (i: number) => `{"labels":{"alertname":"${spec.type}","category":"${spec.category}","severity":"warning","dedup_key":"${spec.prefix}${i}"},"annotations":{"title":"Bench event ${i}","n":"${i}"}}`;
    const size = spec.size ?? 1;
    const parts: string[] = new Array(size);
    for (let k = 0; k < size; k++) parts[k] = am(seq + k);
    return { text: `[${parts.join(',')}]`, n: size };
  }
  if (spec.kind === 'pagerduty') {
    return { text: `{"routing_key":"${spec.routingKey}","event_action":"trigger","dedup_key":"${spec.prefix}${seq}","payload":{"summary":"Bench event ${seq}","source":"bench","severity":"warning","custom_details":{"n":${seq}}}}`, n: 1 };
  }
  const size = spec.size ?? 1000;
  const parts: string[] = new Array(size);
  for (let k = 0; k < size; k++) parts[k] = one(seq + k);
  return { text: `{"events":[${parts.join(',')}]}`, n: size };
}

function post(agent: http.Agent, u: URL, path: string, apiKey: string, body: string): Promise<{ status: number; text: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = http.request({
      host: u.hostname, port: u.port, path, method: 'POST', agent,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}`, 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
    });
    req.on('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
    req.end(body);
  });
}

/** Events accepted by a 202: 1 for a single event, the results without an error for a batch. */
function acceptedCount(spec: BodySpec, text: string): number {
  if (spec.kind === 'single' || spec.kind === 'pagerduty') return 1;
  if (spec.kind === 'alertmanager') return spec.size ?? 1;
  try {
    const r = JSON.parse(text) as { results: Array<{ event_id?: number }> };
    let n = 0;
    for (const x of r.results) if (x && x.event_id !== undefined) n++;
    return n;
  } catch { return 0; }
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const u = new URL(spec.url);
  const warm = spec.warmupMs ?? 0;
  const errors: Record<string, number> = {};
  const latencies: number[] = [];
  const res: LoadResult = { startAbs: 0, endAbs: 0, firstMeasured: 0, requests: 0, ok: 0, events: 0, eventsTotal: 0, errors, latencies, plannedT0: 0, intervalMs: 0, gatedMs: 0 };
  const bad = (k: string) => { errors[k] = (errors[k] ?? 0) + 1; };

  if (spec.mode === 'closed') {
    const conc = spec.concurrency ?? 64;
    const agent = new http.Agent({ keepAlive: true, maxSockets: conc, scheduling: 'fifo' });
    const begin = nowAbs();
    res.startAbs = begin + warm;
    const end = res.startAbs + spec.durationMs;
    res.endAbs = end;
    let seq = 0;
    let firstMeasuredSet = false;
    const gateView = spec.gate ? new Int32Array(spec.gate.sab) : null;
    const loop = async () => {
      while (nowAbs() < end) {
        if (gateView && spec.gate) {
          const g0 = nowAbs();
          while (seq - Atomics.load(gateView, 0) >= spec.gate.window && nowAbs() < end) await new Promise((r) => setTimeout(r, 2));
          res.gatedMs += nowAbs() - g0;
          if (nowAbs() >= end) break;
        }
        const b = makeBody(spec.body, seq);
        if (!firstMeasuredSet && nowAbs() >= res.startAbs) { res.firstMeasured = seq; firstMeasuredSet = true; }
        seq += b.n;
        const t0 = nowAbs();
        const r = await post(agent, u, spec.path, spec.apiKey, b.text);
        const t1 = nowAbs();
        const counted = t1 >= res.startAbs && t1 <= end;
        if ('error' in r) { if (t1 >= res.startAbs) bad(r.error); continue; }
        if (r.status !== 202 && r.status !== 200) { if (t1 >= res.startAbs) bad(`HTTP ${r.status}`); continue; }
        const n = acceptedCount(spec.body, r.text);
        res.eventsTotal += n;
        if (counted) { res.requests++; res.ok++; res.events += n; latencies.push(t1 - t0); }
      }
    };
    await Promise.all(Array.from({ length: conc }, loop));
    agent.destroy();
    return res;
  }

  // Open loop.
  const rate = spec.rate ?? 1000;
  const interval = 1000 / rate;
  const warmCount = Math.round((warm / 1000) * rate);
  const total = spec.maxRequests ?? warmCount + Math.round((spec.durationMs / 1000) * rate);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256, scheduling: 'fifo' });
  const t0 = nowAbs() + 20;
  res.plannedT0 = t0;
  res.intervalMs = interval;
  res.startAbs = t0 + warmCount * interval;
  res.firstMeasured = warmCount * (spec.body.kind === 'batch' ? spec.body.size ?? 1000 : 1);
  const perReq = spec.body.kind === 'batch' ? spec.body.size ?? 1000 : spec.body.kind === 'alertmanager' ? spec.body.size ?? 1 : 1;
  const measured = Math.max(0, total - warmCount);
  for (let i = 0; i < measured; i++) latencies.push(-1);
  const pending: Promise<void>[] = [];
  let next = 0;
  await new Promise<void>((done) => {
    const fire = (i: number) => {
      const planned = t0 + i * interval;
      const b = makeBody(spec.body, i * perReq);
      pending.push(post(agent, u, spec.path, spec.apiKey, b.text).then((r) => {
        const t1 = nowAbs();
        const m = i >= warmCount;
        if ('error' in r) { if (m) bad(r.error); return; }
        if (r.status !== 202 && r.status !== 200) { if (m) bad(`HTTP ${r.status}`); return; }
        const n = acceptedCount(spec.body, r.text);
        res.eventsTotal += n;
        if (m) { res.requests++; res.ok++; res.events += n; latencies[i - warmCount] = t1 - planned; }
      }));
    };
    const tick = () => {
      const now = nowAbs();
      while (next < total && t0 + next * interval <= now) fire(next++);
      if (next >= total) return done();
      setTimeout(tick, Math.max(0, Math.min(1, t0 + next * interval - nowAbs())));
    };
    tick();
  });
  await Promise.all(pending);
  res.endAbs = nowAbs();
  for (const l of latencies) if (l < 0) res.requests++;
  agent.destroy();
  return res;
}

/** Runs runLoad in a worker thread. */
export function runInWorker(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    // Node 20 workers do not inherit tsx's --import loader: register it, then load this module.
    const boot = `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))}; register(); await import(${JSON.stringify(import.meta.url)});`;
    const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`), { workerData: spec });
    let got = false;
    w.once('message', (m: LoadResult) => { got = true; resolve(m); });
    w.once('error', reject);
    w.once('exit', (code) => { if (!got) reject(new Error(`load generator exited with code ${code}`)); });
  });
}

if (!isMainThread && parentPort && (workerData as LoadSpec | undefined)?.path) {
  runLoad(workerData as LoadSpec).then((r) => parentPort!.postMessage(r), (e) => { throw e; });
}
