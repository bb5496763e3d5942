// The deployment files (issue 15, item 6): every metric the Prometheus rules and the Grafana dashboard use is
// one Herald exports; promtool checks the config, the rules and their unit tests when it is installed (Debian
// `prometheus`; skipped with a note otherwise); the Dockerfile and compose file have the promised shape.
// No container runtime test: this machine has a Docker client but no daemon, and no image registry is
// reachable to pull the base images (docs/operations.md "Containers").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { startTestHerald, type TestHerald } from './harness';

const ROOT = path.join(import.meta.dirname, '..');
const D = (...p: string[]) => path.join(ROOT, 'deploy', ...p);
const read = (...p: string[]) => readFileSync(D(...p), 'utf8');

let h: TestHerald;
let worker: TestHerald;
beforeAll(async () => {
  h = await startTestHerald();
  // A worker-only process serves its own metrics on HERALD_METRICS_PORT (its counters live in its memory).
  worker = await startTestHerald({ HERALD_METRICS_PORT: '0' }, { roles: { api: false, worker: true } });
});
afterAll(async () => { await worker?.stop(); await h?.stop(); });

/** Metric names a scrape may hold: each family, and a histogram's _bucket, _sum and _count series. */
async function exported(): Promise<Set<string>> {
  const text = await (await fetch(`${h.url}/metrics`)).text();
  const names = new Set<string>(['up']);
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(m[1]);
    if (m[2] === 'histogram' || m[2] === 'summary') for (const s of ['_bucket', '_sum', '_count']) names.add(m[1] + s);
  }
  return names;
}

/** The metric names in a PromQL expression (identifiers not followed by `(`, minus keywords and labels). */
function metricsIn(expr: string): string[] {
  const noStrings = expr.replace(/"[^"]*"/g, '""').replace(/\{[^}]*\}/g, '{}').replace(/\[[^\]]*\]/g, '[]');
  const words = [...noStrings.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)].map((m) => m[1]);
  const keywords = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'le', 'channel', 'outcome', 'to', 'instance', 'job',
    'sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile']);
  return words.filter((w) => !keywords.has(w) && !/^\d/.test(w));
}

const ruleExprs = () => (parse(read('prometheus', 'herald-rules.yml')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> }).groups.flatMap((g) => g.rules);
const dashboard = () => JSON.parse(read('grafana', 'herald-dashboard.json'));

describe('metric names', () => {
  it('every expression of the alerting rules references an exported metric family', async () => {
    const names = await exported();
    for (const r of ruleExprs()) {
      const used = metricsIn(r.expr);
      expect(used.length, r.alert).toBeGreaterThan(0);
      for (const m of used) expect(names, `${r.alert}: ${m}`).toContain(m);
    }
  });

  it('every expression of the Grafana dashboard references an exported metric family', async () => {
    const names = await exported();
    const exprs = dashboard().panels.flatMap((p: { targets: Array<{ expr: string }> }) => p.targets.map((t) => t.expr));
    expect(exprs.length).toBeGreaterThan(8);
    for (const e of exprs) for (const m of metricsIn(e)) expect(names, `${e}: ${m}`).toContain(m);
  });

  it('the dashboard covers ingest rate, queue depth and age, deliveries by channel and outcome, and the MTTA histogram', () => {
    const all = JSON.stringify(dashboard().panels.map((p: { targets: unknown }) => p.targets));
    for (const m of ['herald_events_ingested_total', 'herald_job_queue_depth', 'herald_job_oldest_runnable_age_seconds', 'herald_messages_total', 'herald_acknowledge_latency_seconds_bucket']) expect(all).toContain(m);
    expect(all).toContain('sum by (channel, outcome)');
    expect(dashboard().panels.some((p: { type: string }) => p.type === 'heatmap')).toBe(true);
  });

  it('the dashboard has the shape Grafana imports (uid, schemaVersion, panels with grid positions and targets)', () => {
    const d = dashboard();
    expect(d).toMatchObject({ uid: expect.stringMatching(/^[a-z0-9-]{1,40}$/), title: 'Herald', schemaVersion: expect.any(Number) });
    const ids = new Set<number>();
    for (const p of d.panels) {
      expect(p).toMatchObject({ id: expect.any(Number), type: expect.any(String), title: expect.any(String), gridPos: { x: expect.any(Number), y: expect.any(Number), w: expect.any(Number), h: expect.any(Number) } });
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      expect(ids.has(p.id)).toBe(false);
      ids.add(p.id);
      for (const t of p.targets) expect(t).toMatchObject({ refId: expect.any(String), expr: expect.any(String), datasource: { type: 'prometheus' } });
    }
    expect(d.templating.list[0]).toMatchObject({ name: 'datasource', type: 'datasource', query: 'prometheus' });
  });

  it('a worker-only process serves /metrics and /healthz on HERALD_METRICS_PORT', async () => {
    const port = worker.metricsPort;
    expect(worker.server).toBeNull();
    expect(port).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toContain('herald_messages_total');
  });
});

const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));
if (!promtool) console.warn('deploy.test: promtool not installed (apt-get install prometheus): the promtool checks are skipped');

describe.skipIf(!promtool)('promtool', () => {
  const run = (...args: string[]) => execFileSync(promtool!, args, { cwd: D('prometheus'), stdio: 'pipe' }).toString();
  it('checks the scrape config, the rules and their unit tests', () => {
    expect(run('check', 'config', 'prometheus.yml')).toMatch(/SUCCESS/);
    expect(run('check', 'rules', 'herald-rules.yml')).toMatch(/SUCCESS: 7 rules found/);
    expect(run('test', 'rules', 'herald-rules.test.yml')).toMatch(/SUCCESS/);
  });
});

describe('Dockerfile and compose file', () => {
  it('the Dockerfile is multi-stage, runs as a non-root user and has a health check', () => {
    const f = read('Dockerfile');
    expect(f.match(/^FROM /gm)!.length).toBeGreaterThanOrEqual(2);
    expect(f).toMatch(/^USER node$/m);
    expect(f).toMatch(/^HEALTHCHECK .*\n.*\/healthz/m);
    expect(f).toMatch(/^ENTRYPOINT \["node",.*"--import", "tsx", "api\/main.ts"\]$/m);
    // Everything the runtime stage copies from the repository exists.
    for (const m of f.matchAll(/^COPY (?!--from)(?:--\S+ )*(\S+) /gm)) expect(existsSync(path.join(ROOT, m[1])), m[1]).toBe(true);
  });

  it('compose runs PostgreSQL, the API twice and the worker twice with roles main.ts accepts', () => {
    const c = parse(read('compose.yaml'), { merge: true }) as { services: Record<string, { command?: string[]; deploy?: { replicas?: number }; environment?: Record<string, string>; image?: string; depends_on?: unknown }> };
    expect(c.services.postgres.image).toMatch(/^postgres:/);
    expect(c.services.api).toMatchObject({ command: ['--role=api'], deploy: { replicas: 2 } });
    expect(c.services.worker).toMatchObject({ command: ['--role=worker'], deploy: { replicas: 2 } });
    expect(c.services.worker.environment).toMatchObject({ HERALD_METRICS_PORT: '9464', DATABASE_URL: expect.stringContaining('@postgres:5432/herald') });
    expect(c.services.api.environment?.DATABASE_URL).toContain('@postgres:5432/herald');
    const main = readFileSync(path.join(ROOT, 'api', 'main.ts'), 'utf8');
    expect(main).toContain("arg === 'api'");
    expect(main).toContain("arg === 'worker'");
    // The scrape config finds both services on the ports they serve metrics on.
    const prom = parse(read('prometheus', 'prometheus.yml')) as { scrape_configs: Array<{ dns_sd_configs: Array<{ names: string[]; port: number }> }> };
    expect(prom.scrape_configs[0].dns_sd_configs).toEqual([{ names: ['api'], type: 'A', port: 8080 }, { names: ['worker'], type: 'A', port: 9464 }]);
  });
});
