// Stories about time: snooze and resume, repeating escalation, and two people acknowledging at once.
import { escalationKey } from '../db/jobs/catalog';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, startTestHerald, type Receiver, type TestHerald } from './harness';

let h: TestHerald;
let hook: Receiver;

beforeAll(async () => {
  h = await startTestHerald();
  hook = await startReceiver();
  await h.api('POST', '/v1/webhooks', { url: hook.url, events: ['alert.snoozed', 'alert.reopened', 'alert.escalated'] });
  await h.api('POST', '/v1/users', { name: 'Wes Workshop', email: 'wes@example.com', roles: ['workshop'] });
  await h.api('POST', '/v1/users', { name: 'Sue Supervisor', email: 'sue@example.com', roles: ['shop_supervisor'] });
  await h.api('POST', '/v1/rules', {
    name: 'Machine down', match: { category: 'production', type: 'machine_down' }, targets: { roles: ['workshop'] },
    channels: ['in_app'], priority: 'critical',
    escalation: { steps: [{ after_minutes: 5, roles: ['shop_supervisor'] }], repeat: 2 },
  });
});
afterAll(async () => { await h?.stop(); await hook?.close(); });

async function newAlert(title: string): Promise<number> {
  const r = await h.api('POST', '/v1/events', { category: 'production', type: 'machine_down', title, severity: 'critical' });
  const e = await h.eventually(async () => { const x = await h.api('GET', `/v1/events/${r.body.event_id}`); return x.body.alert_id && x.body; });
  return e.alert_id;
}
const level = async (id: number) => (await h.api('GET', `/v1/alerts/${id}`)).body.escalation.level as number;

describe('machine down on the night shift', () => {
  it('repeats the escalation steps `repeat` more times, then stops', async () => {
    const id = await newAlert('Press 3 down');
    for (const expected of [1, 2, 3]) {
      await h.fastForward(id);
      await h.eventually(async () => (await level(id)) === expected);
    }
    const a = (await h.api('GET', `/v1/alerts/${id}`)).body;
    expect(a.escalation.next_at).toBeNull();
    expect(a.status).toBe('triggered');
    const notified = await h.sql`select level, count(*)::int as n from notifications where alert_id = ${id} group by level order by level`;
    expect(notified.map((r) => r.level)).toEqual([0, 1, 2, 3]);
    const jobs = await h.sql`select 1 from graphile_worker._private_jobs where key = ${escalationKey(id)}`;
    expect(jobs).toHaveLength(0);
  });

  it('snoozes: acknowledged until the time, then reopened and escalation resumes', async () => {
    const id = await newAlert('Lathe 2 down');
    const s = await h.api('POST', `/v1/alerts/${id}/snooze`, { minutes: 30 });
    expect(s.status).toBe(200);
    expect(s.body.status).toBe('acknowledged');
    expect(new Date(s.body.snoozed_until).getTime() - Date.now()).toBeGreaterThan(29 * 60_000);
    const [job] = await h.sql`select payload, run_at from graphile_worker._private_jobs where key = ${escalationKey(id)}`;
    expect(job.payload).toMatchObject({ wake: true });

    // Time passes: the snooze ends.
    await h.sql`update alerts set snoozed_until = now() - interval '1 second' where id = ${id}`;
    await h.sql`update graphile_worker._private_jobs set run_at = now() where key = ${escalationKey(id)}`;
    const reopened = await h.eventually(async () => { const a = (await h.api('GET', `/v1/alerts/${id}`)).body; return a.status === 'triggered' && a; });
    expect(reopened.timeline.map((t: { kind: string }) => t.kind)).toEqual(expect.arrayContaining(['snoozed', 'reopened']));
    expect(reopened.escalation.next_at).not.toBeNull();
    await h.eventually(async () => hook.hits.some((x) => JSON.parse(x.body).type === 'alert.reopened' && JSON.parse(x.body).data.alert.id === id));

    // Escalation resumes where it was.
    await h.fastForward(id);
    await h.eventually(async () => (await level(id)) === 1);
  });

  it('two people acknowledge at once: one wins, the other gets a 409 naming the winner', async () => {
    const id = await newAlert('Saw 1 down');
    const k1 = (await h.api('POST', '/v1/api-keys', { name: 'Ops console', scopes: ['alerts:write'] })).body.key;
    const k2 = (await h.api('POST', '/v1/api-keys', { name: 'Floor tablet', scopes: ['alerts:write'] })).body.key;
    const [a, b] = await Promise.all([
      h.api('POST', `/v1/alerts/${id}/acknowledge`, undefined, { key: k1 }),
      h.api('POST', `/v1/alerts/${id}/acknowledge`, undefined, { key: k2 }),
    ]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([200, 409]);
    const winner = a.status === 200 ? a : b;
    const loser = a.status === 200 ? b : a;
    expect(loser.body.detail).toContain(`already acknowledged by ${winner.body.acknowledged_by.name}`);
    const acks = await h.sql`select count(*)::int as n from alert_timeline where alert_id = ${id} and kind = 'acknowledged'`;
    expect(acks[0].n).toBe(1);
  });

  it('bulk acknowledges by category', async () => {
    const ids = [await newAlert('Drill 1 down'), await newAlert('Drill 2 down')];
    const r = await h.api('POST', '/v1/alerts/acknowledge', { category: 'production' });
    expect(r.status).toBe(200);
    expect(r.body.acknowledged).toEqual(expect.arrayContaining(ids));
    for (const id of ids) expect((await h.api('GET', `/v1/alerts/${id}`)).body.status).toBe('acknowledged');
  });

  it('the sweeper re-creates a lost escalation timer', async () => {
    const id = await newAlert('Mill 4 down');
    await h.sql`delete from graphile_worker._private_jobs where key = ${escalationKey(id)}`;
    await h.sql`update alerts set created_at = created_at - interval '6 minutes', escalation_next_at = now() - interval '1 minute' where id = ${id}`;
    const { sweepTimers } = await import('../db/escalation/escalate');
    expect(await sweepTimers(h.ctx)).toBeGreaterThanOrEqual(1);
    await h.eventually(async () => (await level(id)) === 1);
  });
});
