// Integrations on real Postgres with a real worker: PagerDuty's Events API v2, Alertmanager and Grafana
// webhooks, heartbeats, the events list, and fuzzed bodies at every endpoint (never a 500).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { startTestHerald, type TestHerald } from './harness';
import { jobKey } from '../db/jobs/catalog';

let h: TestHerald;
let admin: number;

// Payloads copied from the tools' documentation, with where they came from.

/** PagerDuty Events API v2, "Send an alert event" example (developer.pagerduty.com/docs/events-api-v2/trigger-events/). */
const pagerDutyExample = (routing_key: string) => ({
  payload: {
    summary: 'DISK at 99% on machine prod-datapipe03.example.com',
    timestamp: '2015-07-17T08:42:58.315+0000',
    severity: 'critical',
    source: 'prod-datapipe03.example.com',
    component: 'mysql',
    group: 'prod-datapipe',
    class: 'deploy',
    custom_details: { 'free space': '1%', 'ping time': '1500ms', 'load avg': 0.75 },
  },
  routing_key,
  dedup_key: 'samplekeyhere',
  event_action: 'trigger',
  client: 'Sample Monitoring Service',
  client_url: 'https://monitoring.service.com',
  links: [{ href: 'http://pagerduty.example.com', text: 'An example link.' }],
  images: [{ src: 'https://chart.googleapis.com/chart?chs=600x400&chd=t:6,2,9,5,2,5,7,4,7,3,9,2,9,3,9,5&cht=lc', href: 'https://example.com/', alt: 'An example link with an image' }],
});

/**
 * Alertmanager webhook payload, version 4, as prometheus.io/docs/alerting/latest/configuration/#webhook_config
 * documents it (the values are what Alertmanager 0.2x sends for two alerts of one group: Go's nanosecond
 * timestamps, the zero `endsAt` while firing).
 */
const alertmanagerGroup = (status: 'firing' | 'resolved', second: 'firing' | 'resolved') => ({
  version: '4',
  groupKey: '{}/{severity="critical"}:{alertname="InstanceDown"}',
  truncatedAlerts: 0,
  status,
  receiver: 'herald',
  groupLabels: { alertname: 'InstanceDown' },
  commonLabels: { alertname: 'InstanceDown', job: 'node', severity: 'critical' },
  commonAnnotations: {},
  externalURL: 'http://alertmanager.example.com:9093',
  alerts: [
    {
      status: 'firing',
      labels: { alertname: 'InstanceDown', instance: 'db1:9100', job: 'node', severity: 'critical' },
      annotations: { summary: 'Instance db1:9100 down', description: 'db1:9100 of job node has been down for more than 5 minutes.' },
      startsAt: '2024-05-01T10:00:00.123456789Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.example.com:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1',
      fingerprint: 'a1b2c3d4e5f60718',
    },
    {
      status: second,
      labels: { alertname: 'InstanceDown', instance: 'db2:9100', job: 'node', severity: 'critical' },
      annotations: { summary: 'Instance db2:9100 down', description: 'db2:9100 of job node has been down for more than 5 minutes.' },
      startsAt: '2024-05-01T10:00:30.5Z',
      endsAt: second === 'resolved' ? '2024-05-01T10:07:30.5Z' : '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.example.com:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1',
      fingerprint: 'b2c3d4e5f6071829',
    },
  ],
});

/** Grafana contact point webhook, the example of grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/ */
const grafanaExample = {
  receiver: 'My Super Webhook',
  status: 'firing',
  orgId: 1,
  alerts: [
    {
      status: 'firing',
      labels: { alertname: 'High memory usage', team: 'blue', zone: 'us-1' },
      annotations: { description: 'The system has high memory usage', runbook_url: 'https://myrunbook.com/runbook/1234', summary: 'This alert was triggered for zone us-1' },
      startsAt: '2021-10-12T09:51:03.157076+02:00',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'https://play.grafana.org/alerting/1afz29v7z/edit',
      fingerprint: 'c6eadffa33fcdf37',
      silenceURL: 'https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT2%2Cteam%3Dblue%2Czone%3Dus-1',
      dashboardURL: '',
      panelURL: '',
      values: { B: 44.23943737541908, C: 1 },
    },
    {
      status: 'firing',
      labels: { alertname: 'High CPU usage', team: 'blue', zone: 'eu-1', severity: 'page' },
      annotations: { description: 'The system has high CPU usage', runbook_url: 'https://myrunbook.com/runbook/1234', summary: 'This alert was triggered for zone eu-1' },
      startsAt: '2021-10-12T09:56:03.157076+02:00',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'https://play.grafana.org/alerting/d1rdpdv7k/edit',
      fingerprint: 'bc97ff14869b13e3',
      silenceURL: 'https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT1%2Cteam%3Dblue%2Czone%3Deu-1',
      dashboardURL: '',
      panelURL: '',
      values: { B: 44.23943737541908, C: 1 },
    },
  ],
  groupLabels: {},
  commonLabels: { team: 'blue' },
  commonAnnotations: {},
  externalURL: 'https://play.grafana.org/',
  version: '1',
  groupKey: '{}:{}',
  truncatedAlerts: 0,
  title: '[FIRING:2]  (blue)',
  state: 'alerting',
  message: '**Firing**\n\nLabels:\n - alertname = T2\n - team = blue\n - zone = us-1\nAnnotations:\n - description = This is the alert rule checking the second system\n - runbook_url = https://myrunbook.com\n - summary = This is my summary\nSource: https://play.grafana.org/alerting/1afz29v7z/edit\nSilence: https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT2%2Cteam%3Dblue%2Czone%3Dus-1\n',
};

async function post(path: string, body: unknown, raw?: string) {
  return h.api('POST', path, body, { key: null, raw });
}

async function eventsOf(query: string) {
  return (await h.api('GET', `/v1/events?${query}`)).body;
}

/** Waits until every event with this dedup key has been routed, and returns them oldest first. */
async function settled(dedupKey: string, n: number) {
  return h.eventually(async () => {
    const r = await eventsOf(`dedup_key=${encodeURIComponent(dedupKey)}`);
    return r.items.length === n && r.items.every((e: { status: string }) => e.status !== 'accepted') && [...r.items].reverse();
  });
}

beforeAll(async () => {
  h = await startTestHerald();
  admin = (await h.api('POST', '/v1/users', { name: 'Ops Olga', email: 'olga@example.com', roles: ['admin'] })).body.id;
  for (const category of ['monitoring', 'grafana', 'heartbeat', 'backups']) {
    const r = await h.api('POST', '/v1/rules', {
      name: `All ${category}`, position: 10, match: { category, type: null }, targets: { roles: ['admin'] }, channels: ['in_app'],
      priority: 'high', escalation: { steps: [{ after_minutes: 30, roles: ['ceo'] }], repeat: 0 },
    });
    expect(r.status).toBe(201);
  }
});
afterAll(async () => { await h?.stop(); });

describe('integrations CRUD', () => {
  it('creates, lists, updates, rotates and deletes; the key is shown once and stored hashed', async () => {
    const c = await h.api('POST', '/v1/integrations', { name: 'Nagios', kind: 'pagerduty', category: 'monitoring', defaults: { type: 'host_check' } });
    expect(c.status).toBe(201);
    expect(c.body.key).toMatch(/^[0-9a-f]{32}$/);
    expect(c.body.routing_key).toBe(c.body.key);
    expect(c.body.url).toBe(`${h.url}/v2/enqueue`);
    const [row] = await h.sql`select key_hash, key_prefix from integrations where id = ${c.body.id}`;
    expect(Buffer.from(row.key_hash).toString('hex')).not.toContain(c.body.key);
    expect(row.key_prefix).toBe(c.body.key.slice(0, 6));

    const one = await h.api('GET', `/v1/integrations/${c.body.id}`);
    expect(one.body).toMatchObject({ id: c.body.id, name: 'Nagios', kind: 'pagerduty', category: 'monitoring', defaults: { type: 'host_check' } });
    expect(one.body.key).toBeUndefined();
    expect((await h.api('GET', '/v1/integrations')).body.items.map((i: { id: number }) => i.id)).toContain(c.body.id);

    const p = await h.api('PATCH', `/v1/integrations/${c.body.id}`, { name: 'Nagios prod' });
    expect(p.body.name).toBe('Nagios prod');

    const rot = await h.api('POST', `/v1/integrations/${c.body.id}/rotate`);
    expect(rot.status).toBe(200);
    expect(rot.body.key).not.toBe(c.body.key);
    // The old key no longer pages; the new one does.
    const old = await post('/v2/enqueue', pagerDutyExample(c.body.key));
    expect(old.status).toBe(400);
    const fresh = await post('/v2/enqueue', { ...pagerDutyExample(rot.body.key), dedup_key: 'rotated-1' });
    expect(fresh.status).toBe(202);

    expect((await h.api('DELETE', `/v1/integrations/${c.body.id}`)).status).toBe(204);
    expect((await h.api('GET', `/v1/integrations/${c.body.id}`)).status).toBe(404);
    expect((await post('/v2/enqueue', pagerDutyExample(rot.body.key))).status).toBe(400);
  });

  it('needs admin, validates, and sends heartbeats to their own endpoint', async () => {
    const key = await h.api('POST', '/v1/api-keys', { name: 'sender', scopes: ['events:write'] });
    const denied = await h.api('POST', '/v1/integrations', { name: 'x', kind: 'grafana', category: 'monitoring' }, { key: key.body.key });
    expect(denied.status).toBe(403);
    const bad = await h.api('POST', '/v1/integrations', { name: '', kind: 'nagios', category: 'Not A Slug' });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['category', 'kind', 'name']);
    const hb = await h.api('POST', '/v1/integrations', { name: 'cron', kind: 'heartbeat', category: 'backups' });
    expect(hb.status).toBe(400);
    expect(hb.body.detail).toContain('/v1/heartbeats');
  });
});

describe('PagerDuty Events API v2 at /v2/enqueue', () => {
  let key: string;
  let integrationId: number;
  beforeAll(async () => {
    const c = await h.api('POST', '/v1/integrations', { name: 'Datadog', kind: 'pagerduty', category: 'monitoring' });
    key = c.body.key;
    integrationId = c.body.id;
  });

  it('trigger, repeat, acknowledge and resolve leave one alert with the right timeline, each answered as PagerDuty does', async () => {
    const t = await post('/v2/enqueue', pagerDutyExample(key));
    expect(t.status).toBe(202);
    expect(t.body).toEqual({ status: 'success', message: 'Event processed', dedup_key: 'samplekeyhere' });
    const [first] = await settled('samplekeyhere', 1);
    expect(first).toMatchObject({ status: 'routed', category: 'monitoring', type: 'deploy', severity: 'critical', source: 'prod-datapipe03.example.com',
      title: 'DISK at 99% on machine prod-datapipe03.example.com', integration_id: integrationId });
    // PagerDuty's own timestamp form (`+0000`, no colon) is read, not refused.
    expect(first.occurred_at).toBe('2015-07-17T08:42:58.315Z');
    expect(first.metadata).toMatchObject({ component: 'mysql', group: 'prod-datapipe', class: 'deploy', custom_details: { 'free space': '1%' },
      links: [{ href: 'http://pagerduty.example.com', text: 'An example link.' }] });
    const alertId = first.alert_id;

    const repeat = await post('/v2/enqueue', pagerDutyExample(key));
    expect(repeat.status).toBe(202);
    await settled('samplekeyhere', 2);
    expect((await h.api('GET', `/v1/alerts/${alertId}`)).body.occurrences).toBe(2);

    const ack = await post('/v2/enqueue', { routing_key: key, event_action: 'acknowledge', dedup_key: 'samplekeyhere' });
    expect(ack.status).toBe(202);
    expect(ack.body).toEqual({ status: 'success', message: 'Event processed', dedup_key: 'samplekeyhere' });
    let alert = (await h.api('GET', `/v1/alerts/${alertId}`)).body;
    expect(alert.status).toBe('acknowledged');
    expect(alert.acknowledged_by).toMatchObject({ kind: 'integration', id: integrationId, name: 'Datadog' });
    // The escalation timer is cancelled with the acknowledgement.
    expect(await h.sql`select 1 from graphile_worker._private_jobs where key = ${jobKey('alert__escalate', { alert_id: alertId })}`).toHaveLength(0);

    const res = await post('/v2/enqueue', { routing_key: key, event_action: 'resolve', dedup_key: 'samplekeyhere' });
    expect(res.status).toBe(202);
    const evs = await settled('samplekeyhere', 3);
    expect(evs.map((e: { status: string }) => e.status)).toEqual(['routed', 'deduplicated', 'resolved']);
    alert = (await h.api('GET', `/v1/alerts/${alertId}`)).body;
    expect(alert.status).toBe('resolved');
    const kinds = alert.timeline.map((x: { kind: string }) => x.kind);
    // `created` and `notified` are written by one insert (either order); the rest follow in order.
    expect([...kinds.slice(0, 2)].sort()).toEqual(['created', 'notified']);
    expect(kinds.slice(2)).toEqual(['deduplicated', 'acknowledged', 'resolved']);
    expect(alert.timeline.find((x: { kind: string }) => x.kind === 'acknowledged').actor).toMatchObject({ kind: 'integration', name: 'Datadog' });
    expect(await h.sql`select 1 from alerts where dedup_key = 'samplekeyhere'`).toHaveLength(1);
  });

  it('acknowledges a trigger sent a moment before, and generates a dedup key when none is given', async () => {
    const t = await post('/v2/enqueue', { routing_key: key, event_action: 'trigger', payload: { summary: 'Backup late', source: 'nas', severity: 'warning' } });
    expect(t.status).toBe(202);
    expect(t.body.dedup_key).toMatch(/^[0-9a-f]{32}$/);
    const ack = await post('/v2/enqueue', { routing_key: key, event_action: 'acknowledge', dedup_key: t.body.dedup_key });
    expect(ack.status).toBe(202);
    const [e] = await settled(t.body.dedup_key, 1);
    expect((await h.api('GET', `/v1/alerts/${e.alert_id}`)).body.status).toBe('acknowledged');
    // Acknowledging again, or a key with no open alert, is still a success for the sender.
    expect((await post('/v2/enqueue', { routing_key: key, event_action: 'acknowledge', dedup_key: t.body.dedup_key })).status).toBe(202);
    expect((await post('/v2/enqueue', { routing_key: key, event_action: 'acknowledge', dedup_key: 'nothing-open' })).status).toBe(202);
  });

  it('maps the four severities', async () => {
    for (const severity of ['critical', 'error', 'warning', 'info']) {
      const r = await post('/v2/enqueue', { routing_key: key, event_action: 'trigger', dedup_key: `sev-${severity}`, payload: { summary: `sev ${severity}`, source: 's', severity } });
      expect(r.status).toBe(202);
      const [e] = await settled(`sev-${severity}`, 1);
      expect(e.severity).toBe(severity);
    }
  });

  it('answers invalid events and unknown keys with 400 "invalid event" and string errors', async () => {
    const noSummary = await post('/v2/enqueue', { routing_key: key, event_action: 'trigger', payload: { source: 'x', severity: 'critical' } });
    expect(noSummary.status).toBe(400);
    expect(noSummary.headers.get('content-type')).toContain('application/json');
    expect(noSummary.body).toEqual({ status: 'invalid event', message: 'Event object is invalid', errors: ["'payload.summary' is missing"] });

    const badSeverity = await post('/v2/enqueue', { routing_key: key, event_action: 'trigger', payload: { summary: 's', source: 'x', severity: 'fatal' } });
    expect(badSeverity.status).toBe(400);
    expect(badSeverity.body.errors[0]).toContain("'payload.severity'");

    const noSource = await post('/v2/enqueue', { routing_key: key, event_action: 'trigger', payload: { summary: 's', source: '  ', severity: 'info' } });
    expect(noSource.body.errors).toEqual(["'payload.source' is missing or blank"]);

    const badTime = await post('/v2/enqueue', { routing_key: key, event_action: 'trigger', payload: { summary: 's', source: 'x', severity: 'info', timestamp: 'yesterday' } });
    expect(badTime.body.errors).toEqual(["'payload.timestamp' is not a valid timestamp"]);

    const resolveWithoutKey = await post('/v2/enqueue', { routing_key: key, event_action: 'resolve' });
    expect(resolveWithoutKey.body.errors).toEqual(["'dedup_key' is required for resolve"]);

    const unknown = await post('/v2/enqueue', { ...pagerDutyExample('0123456789abcdef0123456789abcdef') });
    expect(unknown.status).toBe(400);
    expect(unknown.body.status).toBe('invalid event');
    expect(unknown.body.errors[0]).toContain('routing_key');

    const malformed = await post('/v2/enqueue', undefined, '{"routing_key":');
    expect(malformed.status).toBe(400);
    expect(malformed.body.status).toBe('invalid event');

    // Nothing was written for any of them.
    expect((await eventsOf(`integration_id=${integrationId}&limit=500`)).items.every((e: { title: string }) => e.title !== 's')).toBe(true);
  });

  it('lets the integration act only on its own category', async () => {
    const r = await h.api('POST', '/v1/events', { category: 'grafana', type: 'other', title: 'Not Datadog\'s', dedup_key: 'foreign-1' });
    expect(r.status).toBe(202);
    await settled('foreign-1', 1);
    const ack = await post('/v2/enqueue', { routing_key: key, event_action: 'acknowledge', dedup_key: 'foreign-1' });
    expect(ack.status).toBe(202);
    const [e] = await settled('foreign-1', 1);
    expect((await h.api('GET', `/v1/alerts/${e.alert_id}`)).body.status).toBe('triggered');
  });
});

describe('an acknowledgement while the trigger is being routed', () => {
  it('waits for the routing to commit instead of giving up after a second (it once lost the acknowledgement on a loaded machine)', async () => {
    // Herald without a worker; this test stands in for the worker, holding the trigger's row lock for 1.5 s.
    const api = await startTestHerald({}, { roles: { api: true, worker: false } });
    try {
      expect((await api.api('POST', '/v1/rules', {
        name: 'Backups', position: 10, match: { category: 'backups', type: null }, targets: { roles: ['admin'] }, channels: ['in_app'],
      })).status).toBe(201);
      const integ = await api.api('POST', '/v1/integrations', { name: 'NAS', kind: 'pagerduty', category: 'backups' });
      const send = (body: Record<string, unknown>) => api.api('POST', '/v2/enqueue', { routing_key: integ.body.key, ...body }, { key: null });
      const t = await send({ event_action: 'trigger', dedup_key: 'nas-late', payload: { summary: 'Backup late', source: 'nas', severity: 'warning' } });
      expect(t.status).toBe(202);
      const [ev] = await api.sql<{ id: number }[]>`select id::int from events where dedup_key = 'nas-late'`;
      let locked!: () => void;
      const isLocked = new Promise<void>((r) => { locked = r; });
      const routing = api.sql.begin(async (tx) => {
        await tx`select 1 from events where id = ${ev.id} for update`;
        locked();
        await new Promise((r) => setTimeout(r, 1500));
      });
      await isLocked;
      const started = Date.now();
      const ack = await send({ event_action: 'acknowledge', dedup_key: 'nas-late' });
      expect(ack.status).toBe(202);
      await routing;
      // It answered once the lock was let go (and routed the trigger itself, there being no worker), not before.
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      const [alert] = await api.sql<{ status: string }[]>`select status from alerts where dedup_key = 'nas-late'`;
      expect(alert?.status).toBe('acknowledged');
    } finally {
      await api.stop();
    }
  }, 60_000);
});

describe('Alertmanager webhook (version 4)', () => {
  it('gives one alert per firing alert, resolves the one that resolved, and a repeat notifies no one again', async () => {
    const c = await h.api('POST', '/v1/integrations', { name: 'Prometheus', kind: 'alertmanager', category: 'monitoring', defaults: { entity_kind: 'host' } });
    expect(c.body.url).toBe(`${h.url}/v1/integrations/alertmanager/${c.body.key}`);
    const path = `/v1/integrations/alertmanager/${c.body.key}`;

    const fire = await post(path, alertmanagerGroup('firing', 'firing'));
    expect(fire.status).toBe(202);
    expect(fire.body.accepted).toBe(2);
    const [a1] = await settled('a1b2c3d4e5f60718', 1);
    const [a2] = await settled('b2c3d4e5f6071829', 1);
    expect(a1).toMatchObject({ status: 'routed', category: 'monitoring', type: 'instancedown', severity: 'critical', title: 'Instance db1:9100 down',
      body: 'db1:9100 of job node has been down for more than 5 minutes.', source: 'alertmanager', entity: { kind: 'host', id: 'db1:9100' } });
    expect(a1.occurred_at).toBe('2024-05-01T10:00:00.123Z');
    expect(a1.metadata.labels).toEqual({ alertname: 'InstanceDown', instance: 'db1:9100', job: 'node', severity: 'critical' });
    expect(a1.metadata.generator_url).toContain('prometheus.example.com');
    expect(a1.metadata.links[0]).toEqual({ href: a1.metadata.generator_url, text: 'Source' });
    expect(a2.alert_id).not.toBe(a1.alert_id);
    const notes = async (alertId: number) => (await h.sql`select 1 from notifications where alert_id = ${alertId} and user_id = ${admin}`).length;
    expect(await notes(a1.alert_id)).toBe(1);

    // repeat_interval: the same group again; nobody is notified twice.
    expect((await post(path, alertmanagerGroup('firing', 'firing'))).status).toBe(202);
    await settled('a1b2c3d4e5f60718', 2);

    const res = await post(path, alertmanagerGroup('firing', 'resolved'));
    expect(res.status).toBe(202);
    const second = await settled('b2c3d4e5f6071829', 3);
    expect(second[2]).toMatchObject({ status: 'resolved', action: 'resolve', occurred_at: '2024-05-01T10:07:30.500Z' });
    expect((await h.api('GET', `/v1/alerts/${a2.alert_id}`)).body.status).toBe('resolved');
    const first = (await h.api('GET', `/v1/alerts/${a1.alert_id}`)).body;
    expect(first.status).toBe('triggered');
    expect(first.occurrences).toBe(3);
    expect(await notes(a1.alert_id)).toBe(1);

    // The PWA's "last events received", newest first.
    const recent = (await h.api('GET', `/v1/integrations/${c.body.id}/events`)).body.items;
    expect(recent).toHaveLength(6);
    expect(recent[0].status).toBe('resolved');
    expect((await h.api('GET', `/v1/integrations/${c.body.id}`)).body.last_event_at).not.toBeNull();
  });

  it('refuses bad groups in problem+json, writing nothing', async () => {
    const c = await h.api('POST', '/v1/integrations', { name: 'AM2', kind: 'alertmanager', category: 'monitoring' });
    const path = `/v1/integrations/alertmanager/${c.body.key}`;
    const before = (await eventsOf('source=alertmanager&limit=500')).items.length;
    const empty = await post(path, { ...alertmanagerGroup('firing', 'firing'), alerts: [] });
    expect(empty.status).toBe(400);
    expect(empty.headers.get('content-type')).toContain('application/problem+json');
    // 10,000 alerts: refused by count when the body fits in 1 MiB, by size (413) when it does not.
    const many = await post(path, { ...alertmanagerGroup('firing', 'firing'), alerts: Array.from({ length: 10_000 }, (_, i) => ({ status: 'firing', labels: { n: String(i) } })) });
    expect(many.status).toBe(400);
    expect(many.body.detail).toContain('more than 1000');
    const huge = await post(path, { ...alertmanagerGroup('firing', 'firing'), alerts: Array.from({ length: 10_000 }, () => alertmanagerGroup('firing', 'firing').alerts[0]) });
    expect(huge.status).toBe(413);
    expect(huge.headers.get('content-type')).toContain('application/problem+json');
    const g = alertmanagerGroup('firing', 'firing');
    (g.alerts[1].labels as Record<string, unknown>).severity = 3;
    const notString = await post(path, g);
    expect(notString.status).toBe(400);
    expect(notString.body.errors[0].path).toBe('alerts.1.labels.severity');
    expect((await post(path, { ...alertmanagerGroup('firing', 'firing'), version: '3' })).status).toBe(400);
    expect((await post('/v1/integrations/alertmanager/not-a-key-at-all', alertmanagerGroup('firing', 'firing'))).status).toBe(404);
    // A Grafana URL does not take an Alertmanager integration's key.
    expect((await post(`/v1/integrations/grafana/${c.body.key}`, grafanaExample)).status).toBe(404);
    expect((await eventsOf('source=alertmanager&limit=500')).items.length).toBe(before);
  });
});

describe('Grafana webhook', () => {
  it('maps the documented payload: one event per alert, summary as title, URLs and values kept', async () => {
    const c = await h.api('POST', '/v1/integrations', { name: 'Grafana', kind: 'grafana', category: 'grafana', defaults: { severity_map: { page: 'critical' } } });
    const r = await post(`/v1/integrations/grafana/${c.body.key}`, grafanaExample);
    expect(r.status).toBe(202);
    const [mem] = await settled('c6eadffa33fcdf37', 1);
    const [cpu] = await settled('bc97ff14869b13e3', 1);
    expect(mem).toMatchObject({ status: 'routed', category: 'grafana', type: 'high_memory_usage', title: 'This alert was triggered for zone us-1',
      body: 'The system has high memory usage', severity: 'warning', source: 'grafana', occurred_at: '2021-10-12T07:51:03.157Z' });
    expect(mem.metadata).toMatchObject({ values: { B: 44.23943737541908, C: 1 }, silence_url: grafanaExample.alerts[0].silenceURL,
      generator_url: 'https://play.grafana.org/alerting/1afz29v7z/edit', labels: { team: 'blue', zone: 'us-1' } });
    expect(mem.metadata.dashboard_url).toBeUndefined();
    expect(cpu.severity).toBe('critical');

    const resolved = structuredClone(grafanaExample);
    resolved.status = 'resolved';
    resolved.alerts[0].status = 'resolved';
    resolved.alerts[0].endsAt = '2021-10-12T10:01:03.157076+02:00';
    expect((await post(`/v1/integrations/grafana/${c.body.key}`, resolved)).status).toBe(202);
    await settled('c6eadffa33fcdf37', 2);
    expect((await h.api('GET', `/v1/alerts/${mem.alert_id}`)).body.status).toBe('resolved');
    expect((await h.api('GET', `/v1/alerts/${cpu.alert_id}`)).body.status).toBe('triggered');
  });
});

describe('GET /v1/events', () => {
  it('filters by status (unrouted), source and dedup key, and pages with a cursor', async () => {
    for (let i = 0; i < 5; i++) await h.api('POST', '/v1/events', { category: 'nobody', type: 'cares', title: `Lonely ${i}`, source: 'list-test', dedup_key: `lonely-${i}` });
    // Routing jobs run concurrently: wait for every one of them, not only the last posted.
    for (let i = 0; i < 5; i++) await settled(`lonely-${i}`, 1);
    const page1 = await eventsOf('status=unrouted&source=list-test&limit=3');
    expect(page1.items).toHaveLength(3);
    expect(page1.items.map((e: { title: string }) => e.title)).toEqual(['Lonely 4', 'Lonely 3', 'Lonely 2']);
    expect(page1.items.every((e: { status: string }) => e.status === 'unrouted')).toBe(true);
    const page2 = await eventsOf(`status=unrouted&source=list-test&limit=3&cursor=${page1.next_cursor}`);
    expect(page2.items.map((e: { title: string }) => e.title)).toEqual(['Lonely 1', 'Lonely 0']);
    expect(page2.next_cursor).toBeNull();
    expect((await eventsOf('dedup_key=lonely-2')).items).toHaveLength(1);
    expect((await h.api('GET', '/v1/events?status=bogus')).status).toBe(400);
    expect((await h.api('GET', '/v1/events?cursor=%%%')).status).toBe(400);
  });
});

describe('text Postgres cannot store', () => {
  it('POST /v1/events refuses U+0000 and lone surrogates with a 400 (they used to fail the grouped commit with a 500)', async () => {
    const nul = await h.api('POST', '/v1/events', { category: 'a', type: 'b', title: 'x', metadata: { k: 'a\u0000b' } });
    expect(nul.status).toBe(400);
    expect(nul.body.errors[0].path).toBe('metadata.k');
    expect((await h.api('POST', '/v1/events', undefined, { raw: '{"category":"a","type":"b","title":"x\\ud800y"}' })).status).toBe(400);
    const batch = await h.api('POST', '/v1/events/batch', { events: [{ category: 'a', type: 'b', title: 'ok' }, { category: 'a', type: 'b', title: 'x\u0000' }] });
    expect(batch.status).toBe(202);
    expect(batch.body.results[0].event_id).toBeGreaterThan(0);
    expect(batch.body.results[1].error.status).toBe(400);
    // Integrations clean such text instead (the other tool cannot be told to fix it).
    const c = await h.api('POST', '/v1/integrations', { name: 'NUL PD', kind: 'pagerduty', category: 'monitoring' });
    const r = await post('/v2/enqueue', { routing_key: c.body.key, event_action: 'trigger', dedup_key: 'nul-1', payload: { summary: 'a\u0000b', source: 's', severity: 'info' } });
    expect(r.status).toBe(202);
    const [e] = await settled('nul-1', 1);
    expect(e.title).toBe('ab');
  });
});

describe('heartbeats', () => {
  it('a missed ping opens one alert; the next ping resolves it', async () => {
    const c = await h.api('POST', '/v1/heartbeats', { name: 'Nightly backup', interval_seconds: 3600, grace_seconds: 300 });
    expect(c.status).toBe(201);
    expect(c.body.ping_url).toMatch(new RegExp(`^${h.url}/v1/ping/[0-9a-f]{32}$`));
    expect(c.body).toMatchObject({ name: 'Nightly backup', category: 'heartbeat', state: 'new', interval_seconds: 3600, grace_seconds: 300 });
    const pingPath = new URL(c.body.ping_url).pathname;
    const timerKey = jobKey('heartbeat__check', { heartbeat_id: c.body.id });
    const timer = async () => (await h.sql`select run_at from graphile_worker._private_jobs where key = ${timerKey}`)[0];
    expect(Math.round(((await timer()).run_at.getTime() - Date.now()) / 1000)).toBeGreaterThan(3800);

    // A ping (GET, from cron) moves the one timer.
    const p1 = await h.api('GET', pingPath, undefined, { key: null });
    expect(p1.status).toBe(200);
    expect(p1.body.state).toBe('up');
    expect(await h.sql`select 1 from graphile_worker._private_jobs where key = ${timerKey}`).toHaveLength(1);

    // The interval and the grace pass with no ping.
    await h.sql`update heartbeats set due_at = now() - interval '1 second' where id = ${c.body.id}`;
    await h.sql`update graphile_worker._private_jobs set run_at = now() where key = ${timerKey}`;
    const key = `heartbeat:${c.body.id}:missed`;
    const [missed] = await settled(key, 1);
    expect(missed).toMatchObject({ status: 'routed', category: 'heartbeat', type: 'missed', severity: 'error', action: 'trigger',
      entity: { kind: 'heartbeat', id: String(c.body.id), name: 'Nightly backup' }, integration_id: c.body.id });
    expect(missed.title).toContain('Nightly backup');
    expect((await h.api('GET', `/v1/heartbeats/${c.body.id}`)).body.state).toBe('down');
    expect((await h.api('GET', `/v1/alerts/${missed.alert_id}`)).body.status).toBe('triggered');

    // The next ping (POST this time) resolves it, and the timer runs again.
    const p2 = await h.api('POST', pingPath, undefined, { key: null });
    expect(p2.body).toMatchObject({ state: 'up', was: 'down' });
    const evs = await settled(key, 2);
    expect(evs[1]).toMatchObject({ status: 'resolved', action: 'resolve', alert_id: missed.alert_id });
    expect((await h.api('GET', `/v1/alerts/${missed.alert_id}`)).body.status).toBe('resolved');
    expect(await timer()).toBeTruthy();
    expect(await h.sql`select 1 from alerts where dedup_key = ${key}`).toHaveLength(1);
  });

  it('a monitor whose timer job was lost gets it back from the sweep, and the missed ping still raises', async () => {
    const c = await h.api('POST', '/v1/heartbeats', { name: 'Payroll sync', interval_seconds: 60, category: 'backups' });
    const timerKey = jobKey('heartbeat__check', { heartbeat_id: c.body.id });
    // An operator deletes the job; the monitor falls due with no timer.
    await h.sql`select graphile_worker.remove_job(${timerKey})`;
    await h.sql`update heartbeats set due_at = now() - interval '1 minute' where id = ${c.body.id}`;
    await h.sql`select graphile_worker.add_job('alert__sweep', '{}'::json)`;
    const [missed] = await settled(`heartbeat:${c.body.id}:missed`, 1);
    expect(missed).toMatchObject({ type: 'missed', status: 'routed', entity: { kind: 'heartbeat', id: String(c.body.id) } });
    expect((await h.api('GET', `/v1/heartbeats/${c.body.id}`)).body.state).toBe('down');
  });

  it('a stale timer (a ping came in between) does nothing; CRUD, rotation and bad input', async () => {
    const c = await h.api('POST', '/v1/heartbeats', { name: 'Invoices export', interval_seconds: 60, grace_seconds: 0, category: 'backups' });
    const timerKey = jobKey('heartbeat__check', { heartbeat_id: c.body.id });
    // The job runs now but the monitor is not due: stale.
    await h.sql`update graphile_worker._private_jobs set run_at = now() where key = ${timerKey}`;
    await h.eventually(async () => (await h.sql`select 1 from graphile_worker._private_jobs where key = ${timerKey}`).length === 0);
    expect((await eventsOf(`dedup_key=heartbeat:${c.body.id}:missed`)).items).toHaveLength(0);

    const p = await h.api('PATCH', `/v1/heartbeats/${c.body.id}`, { interval_seconds: 7200, name: 'Invoice export' });
    expect(p.body).toMatchObject({ interval_seconds: 7200, name: 'Invoice export' });
    expect(await h.sql`select 1 from graphile_worker._private_jobs where key = ${timerKey}`).toHaveLength(1);
    expect((await h.api('GET', '/v1/heartbeats')).body.items.map((x: { id: number }) => x.id)).toContain(c.body.id);
    expect((await h.api('GET', '/v1/integrations')).body.items.find((x: { id: number }) => x.id === c.body.id).kind).toBe('heartbeat');

    const rot = await h.api('POST', `/v1/heartbeats/${c.body.id}/rotate`);
    expect(rot.body.ping_url).not.toBe(c.body.ping_url);
    expect((await h.api('GET', new URL(c.body.ping_url).pathname, undefined, { key: null })).status).toBe(404);
    expect((await h.api('GET', new URL(rot.body.ping_url).pathname, undefined, { key: null })).status).toBe(200);

    for (const bad of [{ name: 'x', interval_seconds: 0 }, { name: 'x', interval_seconds: 1.5 }, { name: 'x', interval_seconds: 60, grace_seconds: -1 },
      { interval_seconds: 60 }, { name: 'x', interval_seconds: 60, category: 'Bad Slug' }]) {
      const r = await h.api('POST', '/v1/heartbeats', bad);
      expect(r.status).toBe(400);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
    }
    expect((await h.api('DELETE', `/v1/heartbeats/${c.body.id}`)).status).toBe(204);
    expect(await h.sql`select 1 from graphile_worker._private_jobs where key = ${timerKey}`).toHaveLength(0);
    expect((await h.api('GET', new URL(rot.body.ping_url).pathname, undefined, { key: null })).status).toBe(404);
  });
});

describe('fuzzing the integration endpoints', () => {
  it('answers hundreds of odd bodies without a 500, each in its protocol', async () => {
    const pd = await h.api('POST', '/v1/integrations', { name: 'Fuzz PD', kind: 'pagerduty', category: 'fuzz' });
    const am = await h.api('POST', '/v1/integrations', { name: 'Fuzz AM', kind: 'alertmanager', category: 'fuzz' });
    const gf = await h.api('POST', '/v1/integrations', { name: 'Fuzz GF', kind: 'grafana', category: 'fuzz' });
    const hb = await h.api('POST', '/v1/heartbeats', { name: 'Fuzz HB', interval_seconds: 60, category: 'fuzz' });
    const odd = fc.oneof(
      fc.anything(),
      fc.string(),
      fc.constantFrom('2015-07-17T08:42:58.315+0000', '0000-01-01T00:00:00Z', '2015-13-40T99:99:99Z', '9999-12-31T23:59:59.999999999-2359', '', '\u0000'),
      fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
      fc.dictionary(fc.string(), fc.string()),
    );
    // Valid documents with one field replaced by something odd, and whole odd documents.
    const pdBody = fc.tuple(fc.constantFrom('routing_key', 'event_action', 'dedup_key', 'payload', 'payload.summary', 'payload.source', 'payload.severity',
      'payload.timestamp', 'payload.custom_details', 'links', 'images'), odd, fc.constantFrom('trigger', 'acknowledge', 'resolve')).map(([field, value, action]) => {
      const b: any = { ...pagerDutyExample(pd.body.key), event_action: action, dedup_key: `fuzz-${action}` };
      if (field.startsWith('payload.')) b.payload = { ...b.payload, [field.slice(8)]: value };
      else b[field] = value;
      return b;
    });
    const amBody = fc.tuple(fc.constantFrom('version', 'status', 'alerts', 'alerts.0', 'alerts.0.labels', 'alerts.0.status', 'alerts.0.startsAt',
      'alerts.0.fingerprint', 'alerts.0.annotations', 'groupLabels', 'alerts.0.labels.severity', 'alerts.0.labels.alertname', 'alerts.0.values'), odd)
      .map(([field, value]) => {
        const b: any = structuredClone(alertmanagerGroup('firing', 'resolved'));
        const parts = field.split('.');
        let o = b;
        for (const p of parts.slice(0, -1)) o = o[p];
        o[parts[parts.length - 1]] = value;
        return b;
      });
    const cases: Array<[string, fc.Arbitrary<unknown>]> = [
      ['/v2/enqueue', fc.oneof(pdBody, odd)],
      [`/v1/integrations/alertmanager/${am.body.key}`, fc.oneof(amBody, odd)],
      [`/v1/integrations/grafana/${gf.body.key}`, fc.oneof(amBody, odd)],
      [new URL(hb.body.ping_url).pathname, odd],
      ['/v1/integrations/alertmanager/%00', odd],
    ];
    let n = 0;
    for (const [path, arb] of cases) {
      const samples = fc.sample(arb, { numRuns: 150, seed: 42 });
      for (let i = 0; i < samples.length; i += 10) {
        const results = await Promise.all(samples.slice(i, i + 10).map(async (body) => {
          const raw = body === undefined ? 'undefined' : JSON.stringify(body);
          return { body, r: await post(path, undefined, raw) };
        }));
        for (const { body, r } of results) {
          n++;
          if (r.status >= 500) throw new Error(`${path} answered ${r.status} to ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
          if (path === '/v2/enqueue') {
            if (r.status === 202) expect(r.body).toMatchObject({ status: 'success', message: 'Event processed' });
            else {
              expect(r.status).toBe(400);
              expect(r.body.status).toBe('invalid event');
              expect(r.body.errors.every((e: unknown) => typeof e === 'string')).toBe(true);
            }
          } else if (r.status >= 400) {
            expect(r.headers.get('content-type')).toContain('application/problem+json');
          }
        }
      }
    }
    expect(n).toBe(750);
  }, 120_000);
});
