// Expectations and maintenance windows on real Postgres with a real worker: "a lead created and not contacted
// within 60 minutes" raises one alert for the lead nobody called and nothing for the one that was called in
// time; an event inside a maintenance window is kept `suppressed` and notifies nobody.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from './harness';
import { jobKey } from '../db/jobs/catalog';
import { isOpen } from '../db/maintenance/windows';

let h: TestHerald;
beforeAll(async () => {
  h = await startTestHerald();
  await h.api('POST', '/v1/users', { name: 'Sam Sales', email: 'sam@example.com', roles: ['sales'] });
  expect((await h.api('POST', '/v1/rules', { name: 'Leads nobody called', match: { category: 'sales', type: 'lead_not_contacted' },
    targets: { roles: ['sales'] }, channels: ['in_app'], priority: 'high' })).status).toBe(201);
});
afterAll(async () => { await h?.stop(); });

const settledEvent = (id: number) => h.eventually(async () => { const e = (await h.api('GET', `/v1/events/${id}`)).body; return e.status !== 'accepted' && e; });
const timer = async (expectationId: number, subject: string) =>
  (await h.sql`select run_at from graphile_worker._private_jobs where key = ${jobKey('expectation__due', { expectation_id: expectationId, subject, event_id: 1 })}`)[0];

describe('expectations', () => {
  it('a lead contacted in time raises nothing; one not contacted raises one alert about it', async () => {
    const x = await h.api('POST', '/v1/expectations', {
      name: 'Call new leads within the hour', after: { category: 'sales', type: 'lead_created' },
      expect: [{ category: 'sales', type: 'lead_contacted' }, { category: 'sales', type: 'lead_disqualified' }], within_minutes: 60, same: 'entity',
      then: { category: 'sales', type: 'lead_not_contacted', severity: 'error', title: 'Lead not contacted within 60 minutes' },
    });
    expect(x.status).toBe(201);
    const created = async (id: string) => (await h.api('POST', '/v1/events', { category: 'sales', type: 'lead_created', title: `Lead ${id}`, entity: { kind: 'lead', id } })).body.event_id;
    const e1 = await created('L-1');
    const e2 = await created('L-2');
    await settledEvent(e1); await settledEvent(e2);
    const t2 = await timer(x.body.id, 'lead:L-2');
    expect(Math.round((t2.run_at.getTime() - Date.now()) / 60_000)).toBe(60);
    expect(await timer(x.body.id, 'lead:L-1')).toBeTruthy();

    // L-1 is called in time: its timer is gone with the routing of that event.
    const c1 = (await h.api('POST', '/v1/events', { category: 'sales', type: 'lead_contacted', title: 'Called L-1', entity: { kind: 'lead', id: 'L-1' } })).body.event_id;
    await settledEvent(c1);
    expect(await timer(x.body.id, 'lead:L-1')).toBeUndefined();

    // An hour passes for L-2.
    await h.sql`update graphile_worker._private_jobs set run_at = now() where key = ${jobKey('expectation__due', { expectation_id: x.body.id, subject: 'lead:L-2', event_id: 1 })}`;
    const raised = await h.eventually(async () => {
      const r = (await h.api('GET', '/v1/events?source=expectation')).body.items;
      return r.length === 1 && r[0].status !== 'accepted' && r[0];
    });
    expect(raised).toMatchObject({ category: 'sales', type: 'lead_not_contacted', severity: 'error', status: 'routed', entity: { kind: 'lead', id: 'L-2' },
      metadata: { expectation_id: x.body.id, after_event_id: e2, about: 'lead:L-2' } });
    const alert = (await h.api('GET', `/v1/alerts/${raised.alert_id}`)).body;
    expect(alert.title).toBe('Lead not contacted within 60 minutes');
    // Nothing about L-1, ever.
    expect((await h.api('GET', '/v1/events?type=lead_not_contacted')).body.items).toHaveLength(1);
  });

  it('by dedup key, with fractional minutes; a deleted expectation posts nothing', async () => {
    const x = await h.api('POST', '/v1/expectations', {
      name: 'Invoices paid within 30 days', after: { category: 'finance', type: 'invoice_sent' }, expect: [{ category: 'finance', type: 'invoice_paid' }],
      within_minutes: 0.05, same: 'dedup_key', then: { category: 'finance', type: 'invoice_unpaid', title: 'Invoice not paid in time' },
    });
    expect(x.status).toBe(201);
    const sent = (await h.api('POST', '/v1/events', { category: 'finance', type: 'invoice_sent', title: 'Invoice 9 sent', dedup_key: 'inv-9' })).body.event_id;
    await settledEvent(sent);
    const raised = await h.eventually(async () => (await h.api('GET', '/v1/events?type=invoice_unpaid')).body.items[0]);
    expect(raised).toMatchObject({ dedup_key: 'finance/invoice_unpaid/inv-9', metadata: { about_dedup_key: 'inv-9' }, severity: 'warning' });

    expect((await h.api('DELETE', `/v1/expectations/${x.body.id}`)).status).toBe(204);
    const again = (await h.api('POST', '/v1/events', { category: 'finance', type: 'invoice_sent', title: 'Invoice 10 sent', dedup_key: 'inv-10' })).body.event_id;
    await settledEvent(again);
    await new Promise((r) => setTimeout(r, 500));
    expect((await h.api('GET', '/v1/events?type=invoice_unpaid')).body.items).toHaveLength(1);
  });

  it('refuses an expectation that expects its own trigger, and other bad input, in problem+json', async () => {
    const base = { name: 'x', after: { category: 'sales', type: 'a' }, expect: [{ category: 'sales', type: 'b' }], within_minutes: 5, same: 'entity',
      then: { category: 'sales', type: 'c', title: 't' } };
    for (const bad of [
      { ...base, expect: [{ category: 'sales', type: 'a' }] }, { ...base, within_minutes: 0 }, { ...base, expect: [] },
      { ...base, same: 'customer' }, { ...base, then: { category: 'sales', type: 'c' } }, { ...base, after: { category: 'Sales', type: 'a' } },
    ]) {
      const r = await h.api('POST', '/v1/expectations', bad);
      expect(r.status).toBe(400);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
    }
    const self = await h.api('POST', '/v1/expectations', { ...base, expect: [{ category: 'sales', type: 'a' }] });
    expect(self.body.detail).toContain('its own trigger');
    const ok = await h.api('POST', '/v1/expectations', base);
    const patched = await h.api('PATCH', `/v1/expectations/${ok.body.id}`, { expect: [{ category: 'sales', type: 'a' }] });
    expect(patched.status).toBe(400);
    expect((await h.api('PATCH', `/v1/expectations/${ok.body.id}`, { within_minutes: 90 })).body.within_minutes).toBe(90);
    expect((await h.api('GET', '/v1/expectations')).body.items.length).toBeGreaterThan(0);
  });
});

describe('maintenance windows', () => {
  it('an event inside a window is suppressed, names the window and notifies nobody; others route as usual', async () => {
    const ops = (await h.api('POST', '/v1/users', { name: 'Wes Workshop', email: 'wes@example.com', roles: ['workshop'] })).body.id;
    expect((await h.api('POST', '/v1/rules', { name: 'Production', match: { category: 'production' }, targets: { roles: ['workshop'] }, channels: ['in_app'] })).status).toBe(201);
    const w = await h.api('POST', '/v1/maintenance', { name: 'Line 2 service', starts_at: new Date(Date.now() - 60_000).toISOString(),
      ends_at: new Date(Date.now() + 3_600_000).toISOString(), match: { category: 'production', type: 'machine_down', conditions: [{ field: 'metadata.line', op: 'eq', value: 2 }] } });
    expect(w.status).toBe(201);
    expect(w.body.active).toBe(true);

    const inside = (await h.api('POST', '/v1/events', { category: 'production', type: 'machine_down', title: 'Press 4 down', metadata: { line: 2 } })).body.event_id;
    const outside = (await h.api('POST', '/v1/events', { category: 'production', type: 'machine_down', title: 'Lathe 1 down', metadata: { line: 1 } })).body.event_id;
    const e1 = await settledEvent(inside);
    const e2 = await settledEvent(outside);
    expect(e1).toMatchObject({ status: 'suppressed', maintenance_id: w.body.id, alert_id: null });
    expect(e2).toMatchObject({ status: 'routed', maintenance_id: null });
    const notes = await h.sql`select alert_id from notifications where user_id = ${ops}`;
    expect(notes.map((n) => Number(n.alert_id))).toEqual([e2.alert_id]);
    expect((await h.api('GET', '/v1/events?status=suppressed')).body.items.map((e: { id: number }) => e.id)).toContain(inside);

    // The window is deleted: the same event routes again.
    expect((await h.api('DELETE', `/v1/maintenance/${w.body.id}`)).status).toBe(204);
    const after = (await h.api('POST', '/v1/events', { category: 'production', type: 'machine_down', title: 'Press 5 down', metadata: { line: 2 } })).body.event_id;
    expect((await settledEvent(after)).status).toBe('routed');
  });

  it('a window that pauses escalation holds an open alert\'s next level until it closes, then escalates with the spacing kept', async () => {
    expect((await h.api('POST', '/v1/users', { name: 'Mia Manager', email: 'mia@example.com', roles: ['office'] })).status).toBe(201);
    expect((await h.api('POST', '/v1/rules', { name: 'Boilers', match: { category: 'boiler' }, targets: { roles: ['workshop'] }, channels: ['in_app'],
      escalation: { steps: [{ after_minutes: 1, roles: ['office'] }, { after_minutes: 2, roles: ['ceo'] }], repeat: 0 } })).status).toBe(201);
    const ev = (await h.api('POST', '/v1/events', { category: 'boiler', type: 'pressure_low', title: 'Boiler 1 pressure low' })).body.event_id;
    const alertId = (await settledEvent(ev)).alert_id;
    // Without pause_escalation a window leaves open alerts alone; with it, the due level waits.
    expect((await h.api('POST', '/v1/maintenance', { name: 'Boiler service (no pause)', starts_at: new Date(Date.now() - 60_000).toISOString(),
      ends_at: new Date(Date.now() + 3_600_000).toISOString(), match: { category: 'production' }, pause_escalation: true })).status).toBe(201);
    const until = new Date(Date.now() + 3_600_000);
    const w = await h.api('POST', '/v1/maintenance', { name: 'Boiler service', starts_at: new Date(Date.now() - 60_000).toISOString(),
      ends_at: until.toISOString(), match: { category: 'boiler' }, pause_escalation: true });
    expect(w.status).toBe(201);
    expect(w.body.pause_escalation).toBe(true);
    const timerKey = `alert:${alertId}:escalation`;
    const fire = () => h.sql`update graphile_worker._private_jobs set run_at = now() where key = ${timerKey}`;
    // Level 1 falls due inside the window (the alert is backdated two minutes: level 1 at +1 min is overdue).
    await h.sql`update alerts set created_at = created_at - interval '90 seconds' where id = ${alertId}`;
    await fire();
    const paused = await h.eventually(async () => {
      const t = (await h.api('GET', `/v1/alerts/${alertId}`)).body.timeline as Array<{ kind: string; detail: any }>;
      return t.find((x) => x.kind === 'escalation_paused');
    });
    expect(paused.detail).toMatchObject({ level: 1, window_id: w.body.id, window: 'Boiler service', until: until.toISOString() });
    const a = (await h.api('GET', `/v1/alerts/${alertId}`)).body;
    expect(a.escalation).toMatchObject({ level: 0, next_at: until.toISOString() });
    const [job] = await h.sql`select run_at, payload from graphile_worker._private_jobs where key = ${timerKey}`;
    expect(job.run_at.toISOString()).toBe(until.toISOString());
    expect(job.payload).toMatchObject({ level: 1, resumed: true });

    // The window is taken down early: its pause ends at once; the next level keeps its one-minute spacing.
    expect((await h.api('DELETE', `/v1/maintenance/${w.body.id}`)).status).toBe(204);
    const escalated = await h.eventually(async () => { const x = (await h.api("GET", `/v1/alerts/${alertId}`)).body; return x.escalation.level === 1 && x; });
    const [next] = await h.sql`select run_at, payload from graphile_worker._private_jobs where key = ${timerKey}`;
    expect(next.payload).toMatchObject({ level: 2, resumed: true });
    const spacing = next.run_at.getTime() - Date.now();
    expect(spacing).toBeGreaterThan(45_000);
    expect(spacing).toBeLessThanOrEqual(60_000);
    expect(escalated.timeline.filter((x: { kind: string }) => x.kind === 'escalation_paused')).toHaveLength(1);
  });

  it('recurring windows open for duration_minutes after each cron tick (UTC); bad windows are refused', async () => {
    const nightly = { starts_at: null, ends_at: null, cron: '0 2 * * *', duration_minutes: 60 };
    expect(isOpen(nightly, new Date('2026-03-04T02:30:00Z'))).toBe(true);
    expect(isOpen(nightly, new Date('2026-03-04T02:00:00Z'))).toBe(true);
    expect(isOpen(nightly, new Date('2026-03-04T03:00:00Z'))).toBe(false);
    expect(isOpen(nightly, new Date('2026-03-04T01:59:59Z'))).toBe(false);
    expect(isOpen({ ...nightly, starts_at: new Date('2026-03-05T00:00:00Z') }, new Date('2026-03-04T02:30:00Z'))).toBe(false);
    const r = await h.api('POST', '/v1/maintenance', { name: 'New Year', cron: '0 0 1 1 *', duration_minutes: 60, match: { category: 'production' } });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ cron: '0 0 1 1 *', duration_minutes: 60 });
    for (const bad of [
      { name: 'x', starts_at: '2026-01-02T00:00:00Z', ends_at: '2026-01-01T00:00:00Z' },
      { name: 'x', cron: 'every night', duration_minutes: 60 }, { name: 'x', cron: '0 2 * * *' }, { name: 'x', cron: '61 2 * * *', duration_minutes: 5 },
      { name: 'x' }, { name: 'x', starts_at: '2026-01-01T00:00:00Z', ends_at: '2026-01-02T00:00:00Z', match: { category: 'Bad' } },
    ]) {
      const res = await h.api('POST', '/v1/maintenance', bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
  });
});
