// The real Prometheus Alertmanager (Debian's `prometheus-alertmanager`) pages a real Herald through both paths:
// a receiver whose `pagerduty_configs` url is Herald's /v2/enqueue, and one whose `webhook_configs` url is
// /v1/integrations/alertmanager/:key. Alerts posted to Alertmanager open Herald alerts; ending them resolves
// them. Skipped with a message where the binary is missing (apt-get install prometheus-alertmanager), unless
// HERALD_REQUIRE_ALERTMANAGER=1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTestHerald, type TestHerald } from './harness';
import { freePort } from '../db/embedded';

const BINARY = (process.env.HERALD_ALERTMANAGER ? [process.env.HERALD_ALERTMANAGER] : ['/usr/bin/prometheus-alertmanager', '/usr/bin/alertmanager'])
  .find((p) => existsSync(p)) ?? null;
const REQUIRED = process.env.HERALD_REQUIRE_ALERTMANAGER === '1';
if (!BINARY && !REQUIRED) console.warn('[alertmanager.real] SKIPPED: Prometheus Alertmanager not found (apt-get install prometheus-alertmanager, or set HERALD_ALERTMANAGER)');
const suite = BINARY || REQUIRED ? describe : describe.skip;

let h: TestHerald;
let am: ChildProcess | null = null;
let amUrl = '';
let dir = '';
let pdId = 0;
let whId = 0;
const amLog: string[] = [];

async function postAlerts(alerts: unknown[]) {
  const r = await fetch(`${amUrl}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
  expect(r.status).toBe(200);
}

suite('the real Alertmanager pages Herald', () => {
  beforeAll(async () => {
    if (!BINARY) throw new Error('HERALD_REQUIRE_ALERTMANAGER=1 but Alertmanager was not found');
    h = await startTestHerald();
    expect((await h.api('POST', '/v1/rules', { name: 'Monitoring', match: { category: 'monitoring' }, targets: { roles: ['admin'] }, channels: ['in_app'] })).status).toBe(201);
    const pd = await h.api('POST', '/v1/integrations', { name: 'Alertmanager (PagerDuty)', kind: 'pagerduty', category: 'monitoring' });
    const wh = await h.api('POST', '/v1/integrations', { name: 'Alertmanager (webhook)', kind: 'alertmanager', category: 'monitoring' });
    pdId = pd.body.id;
    whId = wh.body.id;
    dir = mkdtempSync(path.join(tmpdir(), 'herald-am-'));
    const port = await freePort();
    amUrl = `http://127.0.0.1:${port}`;
    writeFileSync(path.join(dir, 'alertmanager.yml'), `
route:
  receiver: herald-webhook
  group_by: ['alertname', 'instance']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - matchers: ['path="pagerduty"']
      receiver: herald-pagerduty
receivers:
  - name: herald-webhook
    webhook_configs:
      - url: ${wh.body.url}
        send_resolved: true
  - name: herald-pagerduty
    pagerduty_configs:
      - routing_key: ${pd.body.routing_key}
        url: ${pd.body.url}
        send_resolved: true
`);
    am = spawn(BINARY, [`--config.file=${path.join(dir, 'alertmanager.yml')}`, `--storage.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=info'], { stdio: ['ignore', 'pipe', 'pipe'] });
    am.stdout!.on('data', (d) => amLog.push(String(d)));
    am.stderr!.on('data', (d) => amLog.push(String(d)));
    await h.eventually(async () => (await fetch(`${amUrl}/-/ready`).catch(() => null))?.ok, 20_000);
  }, 60_000);

  afterAll(async () => {
    if (am && am.exitCode === null) { am.kill('SIGTERM'); await new Promise((r) => am!.once('exit', r)); }
    await h?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const eventsOf = async (integrationId: number) => (await h.api('GET', `/v1/events?integration_id=${integrationId}`)).body.items as Array<{ status: string; alert_id: number | null; action: string; title: string }>;

  it('opens and resolves alerts through both the webhook and the PagerDuty path', async () => {
    const now = new Date().toISOString();
    const webhookAlert = { labels: { alertname: 'DiskFull', instance: 'db1:9100', severity: 'critical' }, annotations: { summary: 'Disk full on db1', description: '99% used' }, startsAt: now, generatorURL: 'http://prometheus:9090/graph' };
    const pdAlert = { labels: { alertname: 'BackupLate', instance: 'nas', path: 'pagerduty', severity: 'error' }, annotations: { summary: 'Backup late on nas' }, startsAt: now };
    await postAlerts([webhookAlert, pdAlert]);

    const viaWebhook = await h.eventually(async () => (await eventsOf(whId)).find((e) => e.status === 'routed'), 30_000).catch((e) => { throw new Error(`${e.message}\n${amLog.join('')}`); });
    expect(viaWebhook.title).toBe('Disk full on db1');
    const viaPd = await h.eventually(async () => (await eventsOf(pdId)).find((e) => e.status === 'routed'), 30_000).catch((e) => { throw new Error(`${e.message}\n${amLog.join('')}`); });
    expect(viaPd.title).toContain('BackupLate');
    expect((await h.api('GET', `/v1/alerts/${viaWebhook.alert_id}`)).body.status).toBe('triggered');
    expect((await h.api('GET', `/v1/alerts/${viaPd.alert_id}`)).body.status).toBe('triggered');

    // The alerts end: Alertmanager sends the resolved notifications (send_resolved), Herald resolves both.
    const ended = new Date(Date.now() - 1000).toISOString();
    await postAlerts([{ ...webhookAlert, endsAt: ended }, { ...pdAlert, endsAt: ended }]);
    await h.eventually(async () => (await h.api('GET', `/v1/alerts/${viaWebhook.alert_id}`)).body.status === 'resolved', 30_000);
    await h.eventually(async () => (await h.api('GET', `/v1/alerts/${viaPd.alert_id}`)).body.status === 'resolved', 30_000);
    expect((await eventsOf(whId)).some((e) => e.action === 'resolve' && e.status === 'resolved')).toBe(true);
    expect((await eventsOf(pdId)).some((e) => e.action === 'resolve' && e.status === 'resolved')).toBe(true);
  }, 90_000);
});
