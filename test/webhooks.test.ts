// Outbound webhooks: the delivery log, retries under one webhook-id, manual retry, the test event,
// disabling on 410 Gone, and the SSRF guard.
import { jobKey } from '../db/jobs/catalog';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { startReceiver, startTestHerald, type Receiver, type TestHerald } from './harness';
import { checkWebhookUrl, guardedLookup, isPrivateAddress } from '../db/platform/outbound-guard';
import { deliverWebhook } from '../db/webhooks/deliver';

let h: TestHerald;
let rx: Receiver;
beforeAll(async () => {
  h = await startTestHerald();
  rx = await startReceiver();
  await h.api('POST', '/v1/rules', { name: 'All system', match: { category: 'system' }, channels: ['in_app'] });
});
afterAll(async () => { await h?.stop(); await rx?.close(); });

async function subscribe(url: string) {
  const w = await h.api('POST', '/v1/webhooks', { url, events: ['alert.triggered'] });
  expect(w.status).toBe(201);
  expect(w.body.secret).toMatch(/^whsec_/);
  return w.body;
}

describe('webhook deliveries', () => {
  it('a failing receiver is retried later under the same webhook-id, and a manual retry delivers it', async () => {
    rx.status = 500;
    const w = await subscribe(rx.url);
    await h.api('POST', '/v1/events', { category: 'system', type: 'job_failed', title: 'Nightly export failed' });
    const first = await h.eventually(async () => rx.hits.length > 0 && rx.hits[0]);
    const d = await h.eventually(async () => {
      const items = (await h.api('GET', `/v1/webhooks/${w.id}/deliveries`)).body.items;
      return items[0]?.status === 'failed_temp' && items[0];
    });
    expect(d).toMatchObject({ response_status: 500, attempts: 1 });
    expect(new Date(d.next_attempt_at).getTime()).toBeGreaterThan(Date.now());
    const [job] = await h.sql`select run_at from graphile_worker._private_jobs where key = ${jobKey('webhook__deliver', { delivery_id: Number(d.id) })}`;
    expect(job.run_at.getTime()).toBeGreaterThan(Date.now());

    rx.status = 200;
    const retry = await h.api('POST', `/v1/webhooks/${w.id}/deliveries/${d.id}/retry`);
    expect(retry.status).toBe(202);
    await h.eventually(async () => (await h.api('GET', `/v1/webhooks/${w.id}/deliveries`)).body.items[0].status === 'delivered');
    const ids = rx.hits.map((x) => x.headers['webhook-id']);
    expect(ids).toHaveLength(2);
    expect(ids[1]).toBe(first.headers['webhook-id']);
    // Each attempt is signed afresh and verifies.
    expect(() => new Webhook(w.secret).verify(rx.hits[1].body, rx.hits[1].headers)).not.toThrow();
    await h.api('DELETE', `/v1/webhooks/${w.id}`);
  });

  it('410 Gone disables the subscription', async () => {
    const gone = await startReceiver(410);
    const w = await subscribe(gone.url);
    await h.api('POST', '/v1/webhooks/' + w.id + '/test');
    await h.eventually(async () => (await h.api('GET', `/v1/webhooks/${w.id}`)).body.enabled === false);
    const hook = (await h.api('GET', `/v1/webhooks/${w.id}`)).body;
    expect(hook.disabled_reason).toContain('410');
    const [d] = (await h.api('GET', `/v1/webhooks/${w.id}/deliveries`)).body.items;
    expect(d).toMatchObject({ status: 'failed', response_status: 410, event_type: 'webhook.test' });
    await gone.close();
  });

  it('the test event reaches the receiver, signed', async () => {
    const rx2 = await startReceiver();
    const w = await subscribe(rx2.url);
    expect((await h.api('POST', `/v1/webhooks/${w.id}/test`)).status).toBe(202);
    const hit = await h.eventually(async () => rx2.hits[0]);
    const body = new Webhook(w.secret).verify(hit.body, hit.headers) as { type: string };
    expect(body.type).toBe('webhook.test');
    await rx2.close();
  });

  it('the secret is encrypted at rest', async () => {
    const w = await subscribe(rx.url);
    const [row] = await h.sql`select secret_enc from webhooks where id = ${w.id}`;
    expect(row.secret_enc).not.toContain(w.secret.slice(6));
  });
});

describe('SSRF guard', () => {
  it('classifies private and public addresses', () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '::1', 'fd00::1', '::ffff:127.0.0.1', '0.0.0.0'])
      expect(isPrivateAddress(a), a).toBe(true);
    for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111']) expect(isPrivateAddress(a), a).toBe(false);
  });

  it('refuses private URLs when saving unless allowed', () => {
    expect(checkWebhookUrl('http://127.0.0.1/x', false)).toMatch(/private/);
    expect(checkWebhookUrl('http://localhost:8080/x', false)).toMatch(/private/);
    expect(checkWebhookUrl('ftp://example.com/x', false)).toMatch(/http/);
    expect(checkWebhookUrl('https://user:pw@example.com/x', false)).toMatch(/credentials/);
    expect(checkWebhookUrl('https://example.com/x', false)).toBeNull();
    expect(checkWebhookUrl('http://127.0.0.1/x', true)).toBeNull();
  });

  it('refuses a hostname that resolves to a private address at connect time', async () => {
    const err = await new Promise<Error | null>((r) => guardedLookup(false)('localhost', {}, (e) => r(e)));
    expect(err?.message).toMatch(/private address/);
    const ok = await new Promise<Error | null>((r) => guardedLookup(true)('localhost', {}, (e) => r(e)));
    expect(ok).toBeNull();
  });

  it('a delivery to a private address fails permanently when not allowed', async () => {
    const w = await subscribe(rx.url);
    const t = await h.api('POST', `/v1/webhooks/${w.id}/test`);
    await h.eventually(async () => (await h.api('GET', `/v1/webhooks/${w.id}/deliveries`)).body.items[0]?.status === 'delivered');
    await h.sql`update webhook_deliveries set status = 'pending' where id = ${t.body.id}`;
    const strict = { ...h.ctx, config: { ...h.ctx.config, webhookAllowPrivate: false } };
    expect(await deliverWebhook(strict, t.body.id)).toBe('failed');
    const [d] = await h.sql`select status, last_error from webhook_deliveries where id = ${t.body.id}`;
    expect(d.last_error).toMatch(/private address/);
  });
});
