// People, not just roles (issue 13): on-call schedules, rule targets and escalation steps that name a
// schedule, personal channel preferences, quiet hours and digests. Stories on real Postgres and a real worker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from './harness';
import { startFakeSmtp, type FakeSmtp } from './fakes/smtp';
import { oncall } from '../bot/chat/core';
import fc from 'fast-check';

let h: TestHerald;
let smtp: FakeSmtp;
const users: Record<string, number> = {};

beforeAll(async () => {
  smtp = await startFakeSmtp();
  h = await startTestHerald({ SMTP_URL: smtp.url, EMAIL_FROM: 'Herald <alerts@herald.example>' });
  for (const [key, name, roles] of [['ana', 'Ana Accounts', ['accounting']], ['ben', 'Ben Books', ['accounting']], ['cy', 'Cy Cash', ['accounting']], ['dee', 'Dee Director', ['ceo']]] as const) {
    const r = await h.api('POST', '/v1/users', { name, email: `${key}@example.com`, roles });
    expect(r.status).toBe(201);
    users[key] = r.body.id;
  }
});
afterAll(async () => { await h?.stop(); await smtp?.close(); });

/** Posts an event and waits for its alert. */
async function raise(category: string, title: string, severity = 'warning'): Promise<number> {
  const r = await h.api('POST', '/v1/events', { category, type: 'thing', title, severity });
  expect(r.status).toBe(202);
  const e = await h.eventually(async () => { const x = await h.api('GET', `/v1/events/${r.body.event_id}`); return x.body.alert_id && x.body; });
  return e.alert_id;
}
const hhmm = (d: Date) => d.toISOString().slice(11, 16);
const messagesOf = (alertId: number) => h.sql<{ id: number; user_id: number; channel: string; status: string; held_until: Date | null; level: number }[]>`
  select id, user_id, channel, status, held_until, level from messages where alert_id = ${alertId} order by id`;
const timelineOf = async (alertId: number) => (await h.api('GET', `/v1/alerts/${alertId}`)).body.timeline as Array<{ kind: string; detail: any }>;
const runNow = (messageId: number) => h.sql`update graphile_worker._private_jobs set run_at = now() where key = ${`message:${messageId}:send`}`;

const oncallAt = async (id: number, at: string) => {
  const r = await h.api('GET', `/v1/schedules/${id}/oncall?at=${encodeURIComponent(at)}`);
  expect(r.status).toBe(200);
  return (r.body.users as Array<{ name: string }>).map((u) => u.name.split(' ')[0]);
};

describe('schedules: who is on call, across a rotation and daylight-saving changes', () => {
  let weekly: number;

  it('a weekly Berlin rotation of three people and an override give the right person at twelve instants', async () => {
    const r = await h.api('POST', '/v1/schedules', {
      name: 'Finance on-call', timezone: 'Europe/Berlin',
      rotations: [{ users: [users.ana, users.ben, users.cy], shift: 'weekly', handoff: '09:00', starts_on: '2026-03-23' }],
      overrides: [{ user_id: users.cy, starts_at: '2026-04-01T18:00:00Z', ends_at: '2026-04-02T06:00:00Z' }],
    });
    expect(r.status).toBe(201);
    weekly = r.body.id;
    expect(r.body).toMatchObject({ name: 'Finance on-call', timezone: 'Europe/Berlin', rotations: [{ shift: 'weekly', handoff: '09:00', starts_on: '2026-03-23' }] });
    const cases: Array<[string, string[]]> = [
      ['2026-03-23T07:59:00Z', []], // before the first hand-off (09:00 CET = 08:00Z)
      ['2026-03-23T08:00:00Z', ['Ana']],
      ['2026-03-29T12:00:00Z', ['Ana']], // summer time began that night
      ['2026-03-30T06:59:00Z', ['Ana']], // 08:59 CEST
      ['2026-03-30T07:00:00Z', ['Ben']], // 09:00 CEST: the hand-off stayed 09:00 local (07:00Z, not 08:00Z)
      ['2026-04-01T17:59:00Z', ['Ben']],
      ['2026-04-01T20:00:00Z', ['Cy']], // the override wins
      ['2026-04-02T06:00:00Z', ['Ben']], // override over
      ['2026-04-06T07:00:00Z', ['Cy']],
      ['2026-04-13T07:00:00Z', ['Ana']], // round again
      ['2026-10-26T07:30:00Z', ['Ana']], // winter time since 25 Oct: 08:30 CET is still Ana's week (31 weeks in)
      ['2026-10-26T08:00:00Z', ['Ben']], // 09:00 CET = 08:00Z
    ];
    const got = [];
    for (const [at] of cases) got.push(await oncallAt(weekly, at));
    expect(got).toEqual(cases.map((c) => c[1]));
    const at = await h.api('GET', `/v1/schedules/${weekly}/oncall?at=2026-03-30T07:00:00Z`);
    expect(at.body).toEqual({ at: '2026-03-30T07:00:00.000Z', users: [{ id: users.ben, name: 'Ben Books' }] });
  });

  it('lists shifts with the override carved out of the rotation', async () => {
    const r = await h.api('GET', `/v1/schedules/${weekly}/shifts?from=2026-04-01T00:00:00Z&to=2026-04-03T00:00:00Z`);
    expect(r.status).toBe(200);
    expect(r.body.items.map((s: any) => [s.name.split(' ')[0], s.starts_at, s.ends_at])).toEqual([
      ['Ben', '2026-03-30T07:00:00.000Z', '2026-04-01T18:00:00.000Z'],
      ['Cy', '2026-04-01T18:00:00.000Z', '2026-04-02T06:00:00.000Z'],
      ['Ben', '2026-04-02T06:00:00.000Z', '2026-04-06T07:00:00.000Z'],
    ]);
    expect(r.body.items[0]).toMatchObject({ user_id: users.ben, name: 'Ben Books' });
  });

  it('a daily 09:00 hand-off stays 09:00 local across the March and October changes (23- and 25-hour shifts)', async () => {
    const r = await h.api('POST', '/v1/schedules', {
      name: 'Night desk', timezone: 'Europe/Berlin',
      rotations: [{ users: [users.ana, users.ben], shift: 'daily', handoff: '09:00', starts_on: '2026-03-28' }],
    });
    expect(r.status).toBe(201);
    const spring = await h.api('GET', `/v1/schedules/${r.body.id}/shifts?from=2026-03-28T08:00:00Z&to=2026-03-31T00:00:00Z`);
    expect(spring.body.items.map((s: any) => [s.name.split(' ')[0], s.starts_at, s.ends_at])).toEqual([
      ['Ana', '2026-03-28T08:00:00.000Z', '2026-03-29T07:00:00.000Z'], // 23 hours: the clocks went forward
      ['Ben', '2026-03-29T07:00:00.000Z', '2026-03-30T07:00:00.000Z'],
      ['Ana', '2026-03-30T07:00:00.000Z', '2026-03-31T07:00:00.000Z'],
    ]);
    const autumn = await h.api('GET', `/v1/schedules/${r.body.id}/shifts?from=2026-10-24T12:00:00Z&to=2026-10-26T12:00:00Z`);
    expect(autumn.body.items.map((s: any) => [s.starts_at, s.ends_at])).toEqual([
      ['2026-10-24T07:00:00.000Z', '2026-10-25T08:00:00.000Z'], // 25 hours: the clocks went back
      ['2026-10-25T08:00:00.000Z', '2026-10-26T08:00:00.000Z'],
      ['2026-10-26T08:00:00.000Z', '2026-10-27T08:00:00.000Z'],
    ]);
    expect(await oncallAt(r.body.id, '2026-10-25T07:30:00Z')).toEqual(['Ana']); // 08:30 CET on the 25th
  });

  it('N-hour shifts and an override added later (POST /overrides)', async () => {
    const r = await h.api('POST', '/v1/schedules', {
      name: 'Plant', timezone: 'America/New_York',
      rotations: [{ users: [users.ana, users.ben, users.cy], shift: { hours: 8 }, handoff: '06:00', starts_on: '2026-06-01' }],
    });
    expect(r.status).toBe(201);
    expect(await oncallAt(r.body.id, '2026-06-01T10:00:00Z')).toEqual(['Ana']); // 06:00 EDT
    expect(await oncallAt(r.body.id, '2026-06-01T18:00:00Z')).toEqual(['Ben']); // 14:00
    expect(await oncallAt(r.body.id, '2026-06-02T02:00:00Z')).toEqual(['Cy']); // 22:00
    const o = await h.api('POST', `/v1/schedules/${r.body.id}/overrides`, { user_id: users.dee, starts_at: '2026-06-01T17:00:00Z', ends_at: '2026-06-01T19:00:00Z' });
    expect(o.status).toBe(201);
    expect(o.body.overrides).toHaveLength(1);
    expect(await oncallAt(r.body.id, '2026-06-01T18:00:00Z')).toEqual(['Dee']);
  });

  it('refuses bad input by field, saving nothing', async () => {
    const before = (await h.api('GET', '/v1/schedules')).body.items.length;
    const base = { name: 'Bad', timezone: 'Europe/Berlin', rotations: [{ users: [users.ana], shift: 'daily', handoff: '09:00', starts_on: '2026-03-01' }] };
    const bad: Array<[unknown, string]> = [
      [{ ...base, rotations: [{ ...base.rotations[0], users: [] }] }, 'rotations.0.users'],
      [{ ...base, timezone: 'Mars/Olympus' }, 'timezone'],
      [{ ...base, rotations: [{ ...base.rotations[0], handoff: '25:00' }] }, 'rotations.0.handoff'],
      [{ ...base, rotations: [{ ...base.rotations[0], shift: 'monthly' }] }, 'rotations.0.shift'],
      [{ ...base, overrides: [{ user_id: users.ana, starts_at: '2026-03-02T10:00:00Z', ends_at: '2026-03-02T09:00:00Z' }] }, 'overrides.0.ends_at'],
      [{ ...base, rotations: [{ ...base.rotations[0], users: [999999] }] }, 'rotations.0.users.0'],
      [{ ...base, rotations: [{ ...base.rotations[0], users: [1e20] }] }, 'rotations.0.users.0'],
      [{ ...base, name: 'Night\u0000desk' }, 'name'],
      [{ ...base, timezone: 'Europe/Berlin\u0000' }, 'timezone'],
      [{ ...base, rotations: [{ ...base.rotations[0], starts_on: '2026-02-30' }] }, 'rotations.0.starts_on'],
      [{ ...base, extra: 1 }, '(root)'],
    ];
    for (const [body, path] of bad) {
      const r = await h.api('POST', '/v1/schedules', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
      expect(r.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    }
    expect((await h.api('GET', '/v1/schedules')).body.items.length).toBe(before);
    expect((await h.api('GET', `/v1/schedules/${weekly}/oncall?at=yesterday`)).status).toBe(400);
    expect((await h.api('GET', `/v1/schedules/${weekly}/shifts?from=2026-01-01T00:00:00Z&to=2026-12-01T00:00:00Z`)).status).toBe(400);
    expect((await h.api('GET', '/v1/schedules/999999/oncall')).status).toBe(404);
  });

  it('a schedule still used by a rule cannot be deleted (409 naming the rule); unused ones can', async () => {
    const rule = await h.api('POST', '/v1/rules', { name: 'Ledger', match: { category: 'ledger' }, targets: { schedules: [weekly] }, channels: ['in_app'] });
    expect(rule.status).toBe(201);
    const d = await h.api('DELETE', `/v1/schedules/${weekly}`);
    expect(d.status).toBe(409);
    expect(d.body.detail).toContain('"Ledger"');
    expect((await h.api('DELETE', `/v1/rules/${rule.body.id}`)).status).toBe(204);
    expect((await h.api('DELETE', `/v1/schedules/${weekly}`)).status).toBe(204);
    expect((await h.api('GET', `/v1/schedules/${weekly}`)).status).toBe(404);
  });
});

describe('rules and escalation steps that target a schedule', () => {
  let sched: number;
  beforeAll(async () => {
    // Ana and Ben rotate daily; Ben covers right now, so exactly one person is on call whatever the hour.
    const now = Date.now();
    const r = await h.api('POST', '/v1/schedules', {
      name: 'Finance on-call', timezone: 'Europe/Berlin',
      rotations: [{ users: [users.ana, users.ben], shift: 'daily', handoff: '09:00', starts_on: '2026-01-05' }],
      overrides: [{ user_id: users.ben, starts_at: new Date(now - 3600_000).toISOString(), ends_at: new Date(now + 3 * 3600_000).toISOString() }],
    });
    sched = r.body.id;
  });

  it('an alert to a schedule reaches only the person on call; the preview and the dry run say so', async () => {
    const rule = await h.api('POST', '/v1/rules', {
      name: 'Payments', match: { category: 'payments' }, targets: { schedules: [sched] }, channels: ['in_app'], priority: 'high',
      escalation: { steps: [{ after_minutes: 10, roles: ['ceo'] }] },
    });
    expect(rule.status).toBe(201);
    expect(rule.body.targets).toEqual({ roles: [], users: [], schedules: [sched] });
    expect(rule.body.preview).toBe('All Payments alerts go to whoever is on call in Finance on-call via In-app, escalating to CEO after 10 min.');
    const dry = await h.api('POST', '/v1/rules/test', { event: { category: 'payments', type: 'x', title: 'Dry' } });
    expect(dry.body.recipients.map((r: { name: string }) => r.name)).toEqual(['Ben Books']);

    const id = await raise('payments', 'Card processor down');
    const notified = await h.sql`select user_id from notifications where alert_id = ${id}`;
    expect(notified.map((n) => Number(n.user_id))).toEqual([users.ben]);
    expect(await h.api('PATCH', `/v1/rules/${rule.body.id}`, { enabled: false })).toMatchObject({ status: 200 });
  });

  it('an escalation step to a schedule reaches whoever is on call when it fires', async () => {
    await h.api('POST', '/v1/rules', {
      name: 'Refunds', match: { category: 'refunds' }, targets: { roles: ['ceo'] }, channels: ['in_app'],
      escalation: { steps: [{ after_minutes: 5, schedules: [sched] }] },
    });
    const id = await raise('refunds', 'Refund stuck');
    expect((await h.sql`select user_id from notifications where alert_id = ${id} and level = 0`).map((n) => Number(n.user_id))).toEqual([users.dee]);
    expect((await h.api('GET', `/v1/alerts/${id}`)).body.escalation.next_to).toBe('whoever is on call');
    await h.fastForward(id);
    const l1 = await h.eventually(async () => { const r = await h.sql`select user_id from notifications where alert_id = ${id} and level = 1`; return r.length ? r : null; });
    expect(l1.map((n) => Number(n.user_id))).toEqual([users.ben]);
  });

  it('the dry run names who will be on call when each step fires, not who is on call now', async () => {
    const now = Date.now();
    const night = await h.api('POST', '/v1/schedules', {
      name: 'Night cover', timezone: 'UTC', rotations: [{ users: [users.ana], shift: 'daily', handoff: '00:00', starts_on: '2026-01-01' }],
      overrides: [{ user_id: users.cy, starts_at: new Date(now + 4 * 3600_000).toISOString(), ends_at: new Date(now + 6 * 3600_000).toISOString() }],
    });
    expect(night.status).toBe(201);
    expect((await h.api('POST', '/v1/rules', {
      name: 'Vault', match: { category: 'vault' }, targets: { roles: ['ceo'] }, channels: ['in_app'],
      escalation: { steps: [{ after_minutes: 10, schedules: [night.body.id] }, { after_minutes: 300, schedules: [night.body.id], roles: ['ceo'] }] },
    })).status).toBe(201);
    const dry = await h.api('POST', '/v1/rules/test', { event: { category: 'vault', type: 'x', title: 'Dry' } });
    expect(dry.status).toBe(200);
    const steps = dry.body.escalation as Array<{ level: number; after_minutes: number; users: Array<{ name: string }> }>;
    expect(steps.map((x) => [x.level, x.after_minutes, x.users.map((u) => u.name)])).toEqual([
      [1, 10, ['Ana Accounts']],
      [2, 300, ['Cy Cash', 'Dee Director']], // Cy covers the night in five hours; Dee by role
    ]);
  });

  it('/herald oncall answers from schedules too', async () => {
    const o = await oncall(h.ctx, { kind: 'user', orgId: 1, userId: users.dee, name: 'Dee', roles: ['ceo'], permissions: ['alerts:read', 'alerts:act', 'users:read'] }, null);
    expect(o.kind).toBe('oncall');
    if (o.kind !== 'oncall') return;
    expect(o.schedules.find((s) => s.name === 'Finance on-call')?.people.map((p) => p.name)).toEqual(['Ben Books']);
    const one = await oncall(h.ctx, { kind: 'user', orgId: 1, userId: users.dee, name: 'Dee', roles: ['ceo'], permissions: ['alerts:read', 'alerts:act', 'users:read'] }, 'finance on-call');
    expect(one.kind === 'oncall' && one.schedules.length === 1 && one.roles.length === 0).toBe(true);
  });

  it('a rule naming an unknown schedule is refused by field', async () => {
    const r = await h.api('POST', '/v1/rules', { name: 'Ghost', match: { category: 'ghost' }, targets: { schedules: [987654] } });
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual([{ path: 'targets.schedules.0', message: 'unknown schedule 987654' }]);
  });
});

describe('preferences, quiet hours and digests', () => {
  let pat: number; let quinn: number; let dora: number;
  beforeAll(async () => {
    for (const [key, name] of [['pat', 'Pat Prefers'], ['quinn', 'Quinn Quiet'], ['dora', 'Dora Digest']] as const) {
      const r = await h.api('POST', '/v1/users', { name, email: `${key}@example.com`, roles: [], timezone: 'UTC' });
      users[key] = r.body.id;
    }
    pat = users.pat; quinn = users.quinn; dora = users.dora;
  });

  it('preferences choose among the rule\'s channels and never narrow to none', async () => {
    const put = await h.api('PUT', `/v1/users/${pat}/preferences`, { channels: { normal: ['in_app'], high: ['sms'] } });
    expect(put.status).toBe(200);
    expect(put.body.channels).toEqual({ normal: ['in_app'], high: ['sms'] });
    expect(put.body.preview).toBe('Critical and low alerts reach you by every channel the rule names at any hour; high ones reach you by SMS at any hour; normal ones reach you by In-app at any hour.');
    const none = await h.api('PUT', `/v1/users/${pat}/preferences`, { channels: { normal: [] } });
    expect(none.status).toBe(400);
    expect(none.body.errors[0].path).toBe('channels.normal');
    expect((await h.api('GET', `/v1/users/${pat}/preferences`)).body.channels).toEqual({ normal: ['in_app'], high: ['sms'] }); // nothing half-saved
    expect((await h.api('GET', '/v1/me/preferences')).status).toBe(400); // an API key is nobody

    await h.api('POST', '/v1/rules', { name: 'Pat normal', match: { category: 'patnormal' }, targets: { users: [pat] }, channels: ['in_app', 'email'], priority: 'normal' });
    await h.api('POST', '/v1/rules', { name: 'Pat high', match: { category: 'pathigh' }, targets: { users: [pat] }, channels: ['in_app', 'email'], priority: 'high' });
    const a = await raise('patnormal', 'Narrowed');
    expect((await messagesOf(a)).map((m) => m.channel)).toEqual(['in_app']);
    // SMS is not among the rule's channels: the intersection is empty, so the rule's channels stay.
    const b = await raise('pathigh', 'Not narrowed to nothing');
    expect((await messagesOf(b)).map((m) => m.channel).sort()).toEqual(['email', 'in_app']);
    await h.eventually(async () => (await messagesOf(b)).find((m) => m.channel === 'email')!.status === 'sent');
  });

  it('a notification in quiet hours is held (timeline `held` with the time) and sent when they end', async () => {
    const now = new Date();
    const start = hhmm(new Date(now.getTime() - 3600_000)).slice(0, 3) + '00';
    const end = hhmm(new Date(now.getTime() + 2 * 3600_000)).slice(0, 3) + '00';
    const put = await h.api('PUT', `/v1/users/${quinn}/preferences`, { quiet_hours: { start, end, except: ['critical'] } });
    expect(put.status).toBe(200);
    await h.api('POST', '/v1/rules', { name: 'Quinn normal', match: { category: 'quinn' }, targets: { users: [quinn] }, channels: ['in_app', 'email'], priority: 'normal' });
    await h.api('POST', '/v1/rules', { name: 'Quinn critical', match: { category: 'quinncrit' }, targets: { users: [quinn] }, channels: ['in_app', 'email'], priority: 'critical' });

    const before = smtp.messages.length;
    const id = await raise('quinn', 'Nightly export late');
    const msgs = await messagesOf(id);
    expect(msgs.find((m) => m.channel === 'in_app')!.status).toBe('delivered'); // silent, never held
    const email = msgs.find((m) => m.channel === 'email')!;
    expect(email.status).toBe('held_quiet');
    const endsAt = email.held_until!;
    expect(endsAt.toISOString().slice(11, 16)).toBe(end);
    expect(endsAt.getTime()).toBeGreaterThan(now.getTime());
    const held = (await timelineOf(id)).find((t) => t.kind === 'held')!;
    expect(held.detail).toMatchObject({ channel: 'email', to: 'Quinn Quiet', reason: 'quiet hours', until: endsAt.toISOString() });
    const [job] = await h.sql`select run_at from graphile_worker._private_jobs where key = ${`message:${email.id}:send`}`;
    expect(new Date(job.run_at).getTime()).toBe(endsAt.getTime());
    await new Promise((r) => setTimeout(r, 300));
    expect(smtp.messages.length).toBe(before);

    // Quiet hours end.
    await runNow(email.id);
    const mails = await smtp.waitFor(before + 1);
    expect(mails[before].subject).toContain('Nightly export late');
    await h.eventually(async () => (await messagesOf(id)).find((m) => m.channel === 'email')!.status === 'sent');
  });

  it('quiet hours across midnight: at 23:xx local with quiet hours 22:00–07:00, a normal alert waits until 07:00 local', async () => {
    // A zone where it is 23:xx now (Etc/GMT-N is UTC+N).
    let off = (23 - new Date().getUTCHours() + 24) % 24;
    if (off > 14) off -= 24;
    const zone = off === 0 ? 'Etc/GMT' : off > 0 ? `Etc/GMT-${off}` : `Etc/GMT+${-off}`;
    const u = await h.api('POST', '/v1/users', { name: 'Nina Night', email: 'nina@example.com', timezone: zone });
    expect(u.status).toBe(201);
    expect((await h.api('PUT', `/v1/users/${u.body.id}/preferences`, { quiet_hours: { start: '22:00', end: '07:00' } })).status).toBe(200);
    await h.api('POST', '/v1/rules', { name: 'Nina', match: { category: 'nina' }, targets: { users: [u.body.id] }, channels: ['email'], priority: 'normal' });
    const id = await raise('nina', 'Backup slow');
    const [m] = await messagesOf(id);
    expect(m.status).toBe('held_quiet');
    const day = new Intl.DateTimeFormat('en-GB', { timeZone: zone, day: '2-digit' });
    const hm = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    expect(hm.format(m.held_until!)).toBe('07:00');
    expect(day.format(m.held_until!)).toBe(day.format(new Date(Date.now() + 12 * 3600_000))); // tomorrow, local
    const wait = m.held_until!.getTime() - Date.now();
    expect(wait).toBeGreaterThan(7 * 3600_000 - 60_000);
    expect(wait).toBeLessThanOrEqual(8 * 3600_000);
  });

  it('is not sent at all when the alert is acknowledged before quiet hours end', async () => {
    const id = await raise('quinn', 'Report queue slow');
    const email = (await messagesOf(id)).find((m) => m.channel === 'email')!;
    expect(email.status).toBe('held_quiet');
    expect((await h.api('POST', `/v1/alerts/${id}/acknowledge`)).status).toBe(200);
    const before = smtp.messages.length;
    await runNow(email.id);
    await h.eventually(async () => (await messagesOf(id)).find((m) => m.channel === 'email')!.status === 'dropped');
    const dropped = (await timelineOf(id)).find((t) => t.kind === 'dropped')!;
    expect(dropped.detail.reason).toContain('acknowledged');
    await new Promise((r) => setTimeout(r, 300));
    expect(smtp.messages.length).toBe(before);
  });

  it('a held message whose send job was lost is sent by the sweeper once quiet hours are over', async () => {
    const id = await raise('quinn', 'Lost job');
    const email = (await messagesOf(id)).find((m) => m.channel === 'email')!;
    expect(email.status).toBe('held_quiet');
    await h.sql`delete from graphile_worker._private_jobs where key = ${`message:${email.id}:send`}`;
    await h.sql`update messages set held_until = now() - interval '2 minutes' where id = ${email.id}`;
    const before = smtp.messages.length;
    const { sweepTimers } = await import('../db/escalation/escalate');
    expect(await sweepTimers(h.ctx)).toBeGreaterThanOrEqual(1);
    const mails = await smtp.waitFor(before + 1);
    expect(mails[before].subject).toContain('Lost job');
  });

  it('critical breaks quiet hours', async () => {
    const before = smtp.messages.length;
    const id = await raise('quinncrit', 'Ledger corrupted', 'critical');
    expect((await messagesOf(id)).find((m) => m.channel === 'email')!.status).not.toBe('held_quiet');
    const mails = await smtp.waitFor(before + 1);
    expect(mails[before].subject).toContain('Ledger corrupted');
    expect((await timelineOf(id)).some((t) => t.kind === 'held')).toBe(false);
  });

  it('a day of low alerts becomes one digest email with the right alerts in it; an empty period sends nothing', async () => {
    const put = await h.api('PUT', `/v1/users/${dora}/preferences`, { digest: { frequency: 'daily', at: '08:00' } });
    expect(put.status).toBe(200);
    expect(put.body.preview).toContain('low ones wait for your 08:00 digest');
    const next = new Date(put.body.digest_next_at);
    expect(next.toISOString().slice(11, 16)).toBe('08:00'); // UTC person
    expect(next.getTime() - Date.now()).toBeGreaterThan(0);
    expect(next.getTime() - Date.now()).toBeLessThanOrEqual(86_400_000);
    await h.api('POST', '/v1/rules', { name: 'Dora low', match: { category: 'doralow' }, targets: { users: [dora] }, channels: ['in_app', 'email'], priority: 'low' });
    const ids = [await raise('doralow', 'Stock count drift'), await raise('doralow', 'Minor VAT rounding'), await raise('doralow', 'Old quote expiring')];
    for (const id of ids) {
      const msgs = await messagesOf(id);
      expect(msgs.find((m) => m.channel === 'in_app')!.status).toBe('delivered');
      expect(msgs.find((m) => m.channel === 'email')!.status).toBe('held_digest');
      expect((await timelineOf(id)).find((t) => t.kind === 'held')!.detail).toMatchObject({ reason: 'digest', until: next.toISOString() });
    }
    expect((await h.api('POST', `/v1/alerts/${ids[2]}/resolve`)).status).toBe(200);
    const before = smtp.messages.length;
    // The period closes; the crontab's run finds Dora.
    await h.sql`update user_preferences set digest_next_at = now() - interval '1 second' where user_id = ${dora}`;
    await h.sql`select graphile_worker.add_job('digest__send', '{}'::json)`;
    const mails = await smtp.waitFor(before + 1);
    const mail = mails[before];
    expect(mail.subject).toBe('[Herald] Your daily digest: 3 low-priority alerts, 2 still open');
    for (const id of ids) expect(mail.text).toContain(`#${id} `);
    expect(mail.text).toContain('Stock count drift');
    expect(mail.text).toContain('resolved');
    expect((mail.text!.match(/Acknowledge: /g) ?? []).length).toBe(2);
    const digests = await h.sql`select channel, alert_ids, status from digests where user_id = ${dora}`;
    expect(digests).toHaveLength(1);
    expect(digests[0].alert_ids.map(Number)).toEqual(ids);
    await h.eventually(async () => (await h.sql`select status from digests where user_id = ${dora}`)[0].status === 'sent');
    for (const id of ids) expect((await messagesOf(id)).find((m) => m.channel === 'email')!.status).toBe('digested');
    expect((await timelineOf(ids[0])).some((t) => t.kind === 'digested')).toBe(true);
    const moved = (await h.sql`select digest_next_at from user_preferences where user_id = ${dora}`)[0].digest_next_at as Date;
    expect(moved.getTime()).toBeGreaterThan(Date.now());

    // An empty period: nothing is sent.
    await h.sql`update user_preferences set digest_next_at = now() - interval '1 second' where user_id = ${dora}`;
    await h.sql`select graphile_worker.add_job('digest__send', '{}'::json)`;
    await h.eventually(async () => ((await h.sql`select digest_next_at from user_preferences where user_id = ${dora}`)[0].digest_next_at as Date).getTime() > Date.now());
    await new Promise((r) => setTimeout(r, 300));
    expect(smtp.messages.length).toBe(before + 1);
    expect(await h.sql`select 1 from digests where user_id = ${dora}`).toHaveLength(1);
  });
});

describe('turning the digest off', () => {
  it('sends one last digest for what was waiting, then none', async () => {
    const u = await h.api('POST', '/v1/users', { name: 'Olga Off', email: 'olga@example.com', timezone: 'UTC' });
    await h.api('PUT', `/v1/users/${u.body.id}/preferences`, { digest: { frequency: 'weekly', at: '08:00' } });
    await h.api('POST', '/v1/rules', { name: 'Olga low', match: { category: 'olgalow' }, targets: { users: [u.body.id] }, channels: ['email'], priority: 'low' });
    const id = await raise('olgalow', 'Printer toner low');
    expect((await messagesOf(id))[0].status).toBe('held_digest');
    const before = smtp.messages.length;
    const off = await h.api('PUT', `/v1/users/${u.body.id}/preferences`, { digest: { frequency: 'off' } });
    expect(off.status).toBe(200);
    expect(Date.parse(off.body.digest_next_at)).toBeLessThanOrEqual(Date.now());
    await h.sql`select graphile_worker.add_job('digest__send', '{}'::json)`;
    const mails = await smtp.waitFor(before + 1);
    expect(mails[before].subject).toBe('[Herald] Your daily digest: 1 low-priority alert, 1 still open');
    expect((await messagesOf(id))[0].status).toBe('digested');
    await h.eventually(async () => (await h.sql`select digest_next_at from user_preferences where user_id = ${u.body.id}`)[0].digest_next_at === null);
    const later = await raise('olgalow', 'Printer paper low');
    expect((await messagesOf(later))[0].status).not.toBe('held_digest');
  });
});

describe('property: no input to the people endpoints yields a 500', () => {
  const anyJson = fc.jsonValue({ maxDepth: 3 });
  const timeish = fc.oneof(fc.constantFrom('09:00', '24:00', '9:00', '', '23:59', '00:00'), fc.string({ maxLength: 8 }));
  const schedule = fc.record({
    name: fc.oneof(fc.string({ maxLength: 30 }), anyJson),
    timezone: fc.oneof(fc.constantFrom('Europe/Berlin', 'UTC', 'Mars/Base', 'europe/berlin', 'Etc/GMT+14', ''), fc.string({ maxLength: 20 })),
    rotations: fc.array(fc.record({
      users: fc.array(fc.oneof(fc.integer({ min: -2, max: 20 }), fc.double(), anyJson), { maxLength: 3 }),
      shift: fc.oneof(fc.constantFrom('daily', 'weekly'), fc.record({ hours: fc.oneof(fc.integer({ min: -5, max: 1000 }), fc.double()) }), anyJson),
      handoff: timeish,
      starts_on: fc.oneof(fc.constantFrom('2026-03-29', '0001-01-01', '9999-12-31', '2026-02-30'), fc.string({ maxLength: 12 })),
    }, { requiredKeys: [] }), { maxLength: 3 }),
    overrides: fc.array(fc.record({ user_id: fc.integer({ min: -1, max: 20 }), starts_at: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string()), ends_at: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string()) }, { requiredKeys: [] }), { maxLength: 2 }),
  }, { requiredKeys: [] });
  const prefs = fc.record({
    channels: fc.oneof(fc.dictionary(fc.constantFrom('critical', 'high', 'normal', 'low', 'other'), fc.array(fc.constantFrom('sms', 'email', 'in_app', 'fax'), { maxLength: 3 })), anyJson),
    quiet_hours: fc.oneof(fc.constant(null), fc.record({ start: timeish, end: timeish, except: fc.array(fc.constantFrom('critical', 'low', 'x')) }, { requiredKeys: [] }), anyJson),
    digest: fc.oneof(fc.record({ frequency: fc.constantFrom('off', 'daily', 'weekly', 'hourly'), at: timeish }, { requiredKeys: [] }), anyJson),
  }, { requiredKeys: [] });

  it('POST /v1/schedules, PUT preferences, /oncall and /shifts answer 2xx or a problem, never 500', async () => {
    await fc.assert(fc.asyncProperty(schedule, async (body) => {
      const r = await h.api('POST', '/v1/schedules', body);
      if (r.status >= 500) throw new Error(`${r.status} for ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
      if (r.status === 201) {
        for (const q of ['oncall?at=0001-01-01T00:00:00Z', 'oncall?at=9999-12-31T23:59:59Z', 'shifts?from=9999-10-01T00:00:00Z&to=9999-12-31T00:00:00Z', 'shifts']) {
          const x = await h.api('GET', `/v1/schedules/${r.body.id}/${q}`);
          if (x.status >= 500) throw new Error(`${x.status} for ${q} of ${JSON.stringify(body)}`);
        }
      }
    }), { numRuns: 60 });
    await fc.assert(fc.asyncProperty(prefs, async (body) => {
      const r = await h.api('PUT', `/v1/users/${users.ana}/preferences`, body);
      if (r.status >= 500) throw new Error(`${r.status} for ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
    }), { numRuns: 80 });
  }, 120_000);
});
