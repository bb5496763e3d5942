// People, not just roles (issue 13): on-call schedules, rule targets and escalation steps that name a
// schedule, personal channel preferences, quiet hours and digests. Stories on real Postgres and a real worker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from './harness';

let h: TestHerald;
const users: Record<string, number> = {};

beforeAll(async () => {
  h = await startTestHerald();
  for (const [key, name, roles] of [['ana', 'Ana Accounts', ['accounting']], ['ben', 'Ben Books', ['accounting']], ['cy', 'Cy Cash', ['accounting']], ['dee', 'Dee Director', ['ceo']]] as const) {
    const r = await h.api('POST', '/v1/users', { name, email: `${key}@example.com`, roles });
    expect(r.status).toBe(201);
    users[key] = r.body.id;
  }
});
afterAll(async () => { await h?.stop(); });

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
