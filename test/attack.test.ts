// Attack on the second wave's endpoints: every JSON field and query parameter they take gets a NUL, a lone
// surrogate, JSON nested 5,000 deep and numbers too large for a double, while good events are posted beside
// them. No answer may be a 5xx or hang, and every good event must be accepted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from './harness';

let h: TestHerald;
const ids: Record<string, number | string> = {};

beforeAll(async () => {
  h = await startTestHerald();
  const must = async (method: string, path: string, body: unknown) => {
    const r = await h.api(method, path, body);
    expect(r.status, `${method} ${path}: ${JSON.stringify(r.body)}`).toBeLessThan(300);
    return r.body;
  };
  ids.alert = await (async () => {
    await must('POST', '/v1/rules', { name: 'Attack rule', match: { category: 'attack' }, targets: { roles: ['admin'] }, channels: ['in_app'] });
    const ev = await must('POST', '/v1/events', { category: 'attack', type: 'x', title: 'Target' });
    return h.eventually(async () => (await h.api('GET', `/v1/events/${ev.event_id}`)).body.alert_id);
  })();
  const integ = await must('POST', '/v1/integrations', { name: 'AM', kind: 'alertmanager', category: 'attack' });
  ids.integration = integ.id; ids.amKey = integ.key;
  const pd = await must('POST', '/v1/integrations', { name: 'PD', kind: 'pagerduty', category: 'attack' });
  ids.pdKey = pd.key;
  const hb = await must('POST', '/v1/heartbeats', { name: 'Backup', interval_seconds: 3600, grace_seconds: 60 });
  ids.heartbeat = hb.id; ids.ping = new URL(hb.ping_url).pathname;
  const sched = await must('POST', '/v1/schedules', {
    name: 'Attack on-call', timezone: 'Europe/Berlin', rotations: [{ users: [1], shift: 'weekly', handoff: '09:00', starts_on: '2026-01-05' }], overrides: [],
  });
  ids.schedule = sched.id;
  await must('POST', '/v1/metrics', { key: 'attack_count', name: 'Attack count', source: { category: 'attack' }, aggregate: 'count', good: 'down' });
  ids.report = (await must('POST', '/v1/reports', { name: 'Attack report', kind: 'alerts', format: 'pdf' })).id;
  await must('POST', '/v1/scores', { key: 'attack_score', name: 'Attack score', entity_kind: 'account', factors: [{ field: 'metadata.x', weight: 1 }] });
});
afterAll(async () => { await h?.stop(); });

const DEEP = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
const DEEP_ARRAY = '['.repeat(5000) + ']'.repeat(5000);
/** Hostile JSON values, written as JSON text (1e400 and -0 cannot be built with JSON.stringify). */
const HOSTILE = ['"bad\\u0000value"', '"\\ud800"', '"\\udfff tail"', DEEP, DEEP_ARRAY, '1e400', '-1e400', '1e308', '-0', '123456789012345678901234567890'];

/** Each endpoint with a valid body; every top-level field is replaced by each hostile value in turn. */
function endpoints(): Array<{ method: string; path: string; body: Record<string, unknown>; auth?: false }> {
  return [
    { method: 'POST', path: '/v1/integrations', body: { name: 'n', kind: 'grafana', category: 'attack', defaults: { type: 't' } } },
    { method: 'PATCH', path: `/v1/integrations/${ids.integration}`, body: { name: 'n', defaults: { severity: 'error' } } },
    { method: 'POST', path: '/v2/enqueue', auth: false, body: { routing_key: ids.pdKey, event_action: 'trigger', payload: { summary: 's', source: 'x', severity: 'error' } } },
    { method: 'POST', path: `/v1/integrations/alertmanager/${ids.amKey}`, auth: false, body: { version: '4', status: 'firing', alerts: [{ status: 'firing', labels: { alertname: 'A' }, annotations: {}, fingerprint: 'f1' }] } },
    { method: 'POST', path: '/v1/heartbeats', body: { name: 'h', interval_seconds: 60, grace_seconds: 10, category: 'attack' } },
    { method: 'PATCH', path: `/v1/heartbeats/${ids.heartbeat}`, body: { interval_seconds: 120 } },
    { method: 'POST', path: String(ids.ping), auth: false, body: { note: 'ok' } },
    { method: 'POST', path: '/v1/expectations', body: { name: 'e', after: { category: 'sales', type: 'lead_created' }, expect: [{ category: 'sales', type: 'lead_contacted' }], within_minutes: 60, same: 'entity', then: { category: 'sales', type: 'lead_ignored', title: 't' } } },
    { method: 'POST', path: '/v1/maintenance', body: { name: 'm', starts_at: '2026-12-01T00:00:00Z', ends_at: '2026-12-01T02:00:00Z', match: { category: 'attack' }, pause_escalation: true } },
    { method: 'POST', path: '/v1/metrics', body: { key: 'k_attack', name: 'n', source: { category: 'attack' }, aggregate: 'sum', field: 'metadata.amount', good: 'up', thresholds: { warn: 2, crit: 1 } } },
    { method: 'PATCH', path: '/v1/metrics/attack_count', body: { name: 'n', thresholds: { warn: 5, crit: 9 } } },
    { method: 'POST', path: '/v1/dashboards', body: { key: 'd_attack', name: 'd', roles: ['admin'], widgets: [{ type: 'kpi', metric: 'attack_count', title: 't', options: {} }] } },
    { method: 'POST', path: '/v1/dashboards/preview', body: { key: 'p', name: 'p', roles: [], widgets: [{ type: 'line', metric: 'attack_count', title: 't', options: {} }] } },
    { method: 'POST', path: '/v1/schedules', body: { name: 's', timezone: 'UTC', rotations: [{ users: [1], shift: { hours: 8 }, handoff: '09:00', starts_on: '2026-01-05' }], overrides: [] } },
    { method: 'POST', path: `/v1/schedules/${ids.schedule}/overrides`, body: { user_id: 1, starts_at: '2026-12-01T00:00:00Z', ends_at: '2026-12-01T08:00:00Z' } },
    { method: 'PUT', path: '/v1/users/1/preferences', body: { channels: { critical: ['in_app'] }, quiet_hours: { start: '22:00', end: '07:00', except: ['critical'] }, digest: { frequency: 'daily', at: '08:00' } } },
    { method: 'POST', path: `/v1/alerts/${ids.alert}/notes`, body: { text: 'a note' } },
    { method: 'POST', path: `/v1/alerts/${ids.alert}/assign`, body: { user_id: 1 } },
    { method: 'PATCH', path: '/v1/roles/workshop', body: { name: 'Workshop', permissions: ['alerts:read'] } },
    { method: 'POST', path: '/v1/reports', body: { name: 'r', kind: 'alerts', format: 'pdf', params: { period: 'last_7d', category: 'attack', priority: ['high'], rule_id: 1 }, schedule: { cron: '0 8 * * 1', timezone: 'Europe/Berlin' }, recipients: { roles: [] } } },
    { method: 'PATCH', path: `/v1/reports/${ids.report}`, body: { name: 'r2', params: { from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z', bucket: 'day' }, schedule: null } },
    { method: 'POST', path: '/v1/reports', body: { name: 'r', kind: 'scores', format: 'csv', params: { score: 'attack_score', order: 'asc', top: 10, below: 50, above: 1, crossed: true, q: 'acme' } } },
  ];
}

/** New GET endpoints and their query parameters. */
function queries(): Array<{ path: string; params: Record<string, string> }> {
  return [
    { path: '/v1/analytics/alerts', params: { from: '2026-01-01', to: '2026-02-01', bucket: 'day', tz: 'Europe/Berlin', category: 'attack', priority: 'high', rule_id: '1', role: 'admin' } },
    { path: '/v1/alerts/export', params: { format: 'csv', from: '2026-01-01', category: 'attack', status: 'open' } },
    { path: '/v1/events', params: { source: 'x', dedup_key: 'k', status: 'unrouted', cursor: 'abc', limit: '10' } },
    { path: '/v1/metrics/attack_count/series', params: { from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z', bucket: 'hour', group_by: 'x' } },
    { path: '/v1/metrics/attack_count/value', params: { window: '30d' } },
    { path: '/v1/metrics/attack_count/forecast', params: { bucket: 'week', horizon: '8' } },
    { path: '/v1/metrics/attack_count/events', params: { from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z', group: 'x', limit: '10' } },
    { path: `/v1/schedules/${ids.schedule}/oncall`, params: { at: '2026-03-29T08:00:00Z' } },
    { path: `/v1/schedules/${ids.schedule}/shifts`, params: { from: '2026-03-01T00:00:00Z', to: '2026-03-08T00:00:00Z' } },
    { path: '/v1/audit', params: { actor: 'user:1', action: 'rule.*', entity: 'rule:1', from: '2026-01-01T00:00:00Z', to: '2027-01-01T00:00:00Z', cursor: '5', limit: '10' } },
    { path: '/v1/audit/export', params: { format: 'csv', actor: 'admin', action: 'auth.signed_in', entity: 'user' } },
    { path: '/v1/alerts', params: { q: 'invoice 100%_\\', assigned_to: 'me', from: '2026-01-01T00:00:00Z', status: 'open', limit: '10' } },
    { path: '/v1/reachability', params: {} },
  ];
}
const HOSTILE_QUERY = ['%00', '%ED%A0%80', '1e400', '-0', '9'.repeat(400), encodeURIComponent('[{"a":'.repeat(200))];

async function send(method: string, path: string, raw: string | undefined, auth = true): Promise<number> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (auth) headers.authorization = 'Bearer hk_test_admin_key_0123456789abcdef';
  const ctl = AbortSignal.timeout(15_000);
  const res = await fetch(h.url + path, { method, headers, body: raw, signal: ctl });
  await res.arrayBuffer();
  return res.status;
}

describe('hostile input on the second wave endpoints', () => {
  it('accepts each endpoint\'s valid body (so the hostile ones below reach the verbs, not a wall in front)', async () => {
    for (const e of endpoints()) {
      const s = await send(e.method, e.path, JSON.stringify(e.body), e.auth !== false);
      expect(s, `${e.method} ${e.path}`).toBeLessThan(300);
    }
    for (const q of queries()) {
      const s = await send('GET', `${q.path}?${new URLSearchParams(q.params)}`, undefined);
      expect([200, 400], q.path).toContain(s);
    }
  });

  it('never answers 5xx nor hangs, and the good events sent beside the malformed requests are all accepted', async () => {
    const bad: Array<{ what: string; run: () => Promise<number> }> = [];
    for (const e of endpoints()) {
      for (const field of Object.keys(e.body)) {
        for (const v of HOSTILE) {
          const text = JSON.stringify({ ...e.body, [field]: '__X__' }).replace('"__X__"', v);
          bad.push({ what: `${e.method} ${e.path} ${field}=${v.slice(0, 20)}`, run: () => send(e.method, e.path, text, e.auth !== false) });
        }
      }
      bad.push({ what: `${e.method} ${e.path} body deep`, run: () => send(e.method, e.path, DEEP, e.auth !== false) });
      bad.push({ what: `${e.method} ${e.path} body null`, run: () => send(e.method, e.path, 'null', e.auth !== false) });
    }
    for (const q of queries()) {
      for (const name of Object.keys(q.params)) {
        for (const v of HOSTILE_QUERY) {
          const qs = Object.entries({ ...q.params }).map(([k, x]) => `${k}=${k === name ? v : encodeURIComponent(x)}`).join('&');
          bad.push({ what: `GET ${q.path} ${name}=${v.slice(0, 12)}`, run: () => send('GET', `${q.path}?${qs}`, undefined) });
        }
      }
    }
    const failures: string[] = [];
    let good = 0;
    // In rounds: 12 malformed requests at once with 20 good events beside them.
    for (let i = 0; i < bad.length; i += 12) {
      const round = bad.slice(i, i + 12);
      const [statuses, goods] = await Promise.all([
        Promise.all(round.map((b) => b.run().then((s) => s, (e: Error) => -1 * (e.name === 'TimeoutError' ? 1 : 2)))),
        Promise.all(Array.from({ length: 20 }, (_, j) => h.api('POST', '/v1/events', { category: 'attack_good', type: 'ok', title: `good ${i}-${j}` }))),
      ]);
      statuses.forEach((s, j) => { if (s >= 500 || s < 0) failures.push(`${round[j].what} → ${s === -1 ? 'hang' : s}`); });
      for (const g of goods) if (g.status === 202) good++; else failures.push(`good event → ${g.status}`);
    }
    expect(failures).toEqual([]);
    expect(good).toBe(Math.ceil(bad.length / 12) * 20);
    expect(bad.length).toBeGreaterThan(700);
  }, 600_000);
});
