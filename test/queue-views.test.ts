// The API behind issue 16's queue and All alerts views: GET /v1/alerts?q= (title, body, category, dedup key;
// `%` and `_` match themselves) and assigned_to=; `escalated_to_you` for the person reading ("from Accounting")
// and the SOP ticks on each listed alert; GET /v1/reachability(/me) with each channel's state in plain words;
// the rule tester's skip reasons. Existing list fields are unchanged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from './harness';

let h: TestHerald;
let cookie = '';
let csrf = '';
let ana = 0;
let wes = 0;
let invoice = 0;
let press = 0;

async function post(ev: Record<string, unknown>): Promise<number> {
  const r = await h.api('POST', '/v1/events', { severity: 'error', ...ev });
  expect(r.status).toBe(202);
  return h.eventually(async () => (await h.api('GET', `/v1/events/${r.body.event_id}`)).body.alert_id);
}

/** As the signed-in admin person (not the API key): the reader's own view. */
async function asAdmin(path: string) {
  const res = await fetch(h.url + path, { headers: { cookie, 'x-csrf-token': csrf } });
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  h = await startTestHerald();
  const login = await fetch(`${h.url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'admin@example.com', password: 'correct horse battery' }) });
  cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
  csrf = (await login.json()).csrf_token;
  ana = (await h.api('POST', '/v1/users', { name: 'Ana', email: 'ana@example.com', roles: ['accounting'], phone: '+4915112345678' })).body.id;
  wes = (await h.api('POST', '/v1/users', { name: 'Wes', email: 'wes@example.com', roles: ['workshop'] })).body.id;
  await h.api('POST', '/v1/rules', {
    name: 'Overdue', position: 10, match: { category: 'finance', type: 'invoice_overdue' }, targets: { roles: ['accounting'] }, channels: ['in_app', 'email', 'push', 'sms'],
    escalation: { steps: [{ after_minutes: 30, roles: ['admin'] }], repeat: 0 }, sop: { title: 'Chase', steps: ['Call', 'Log'], url: null },
  });
  await h.api('POST', '/v1/rules', { name: 'Machines', position: 20, match: { category: 'production' }, targets: { roles: ['admin'] }, channels: ['in_app'] });
  invoice = await post({ category: 'finance', type: 'invoice_overdue', title: 'Invoice 1042 overdue', body: 'ACME owes 100%_ of it', dedup_key: 'inv-1042' });
  press = await post({ category: 'production', type: 'machine_down', title: 'Press 2 down', dedup_key: 'press-2' });
  await post({ category: 'production', type: 'machine_down', title: 'Press 3 down', body: 'hydraulics', dedup_key: 'press-3' });
}, 60_000);
afterAll(async () => { await h?.stop(); });

describe('GET /v1/alerts search and filters', () => {
  const titles = async (qs: string) => {
    const r = await h.api('GET', `/v1/alerts?${qs}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.items.map((a: { title: string }) => a.title).sort();
  };

  it('q finds the text in the title, body, category or dedup key, case-insensitively', async () => {
    expect(await titles('q=press%202')).toEqual(['Press 2 down']);
    expect(await titles('q=HYDRAULICS')).toEqual(['Press 3 down']);
    expect(await titles('q=finance')).toEqual(['Invoice 1042 overdue']);
    expect(await titles('q=inv-1042')).toEqual(['Invoice 1042 overdue']);
    expect(await titles('q=down&category=production')).toEqual(['Press 2 down', 'Press 3 down']);
    expect(await titles('q=nothing%20like%20this')).toEqual([]);
  });

  it('% and _ in q match themselves, not anything', async () => {
    expect(await titles(`q=${encodeURIComponent('100%_')}`)).toEqual(['Invoice 1042 overdue']);
    expect(await titles(`q=${encodeURIComponent('%')}`)).toEqual(['Invoice 1042 overdue']);
    expect(await titles(`q=${encodeURIComponent('_')}`)).toEqual(['Invoice 1042 overdue']);
  });

  it('assigned_to= a person, me or none', async () => {
    expect((await h.api('POST', `/v1/alerts/${press}/assign`, { user_id: wes })).status).toBe(200);
    expect(await titles(`assigned_to=${wes}`)).toEqual(['Press 2 down']);
    expect(await titles('assigned_to=none&category=production')).toEqual(['Press 3 down']);
    expect((await h.api('GET', '/v1/alerts?assigned_to=someone')).status).toBe(400);
    expect((await h.api('GET', `/v1/alerts?q=${'x'.repeat(201)}`)).status).toBe(400);
  });

  it('says to the person reading when an alert reached them by escalation, and from whom; lists SOP ticks', async () => {
    let mine = await asAdmin('/v1/alerts?mine=true');
    expect(mine.body.items.map((a: { title: string }) => a.title).sort()).toEqual(['Press 2 down', 'Press 3 down']);
    await h.fastForward(invoice);
    await h.eventually(async () => (await asAdmin('/v1/alerts?mine=true')).body.items.length === 3);
    mine = await asAdmin('/v1/alerts?mine=true');
    const inv = mine.body.items.find((a: { id: number }) => a.id === invoice);
    expect(inv.escalated_to_you).toEqual({ level: 1, from: 'Accounting' });
    expect(inv.sop_progress).toEqual({ checked: [] });
    expect(mine.body.items.find((a: { id: number }) => a.id === press).escalated_to_you).toBeNull();
    expect((await asAdmin(`/v1/alerts/${invoice}`)).body.escalated_to_you).toEqual({ level: 1, from: 'Accounting' });
    // The contract's fields are all still there.
    for (const k of ['id', 'status', 'priority', 'severity', 'category', 'type', 'title', 'body', 'dedup_key', 'occurrences', 'created_at', 'acknowledged_at', 'acknowledged_by', 'resolved_at', 'resolved_by', 'escalation', 'sop', 'rule_ids'])
      expect(inv).toHaveProperty(k);
    // An API key is nobody: no reader's view.
    expect((await h.api('GET', `/v1/alerts?q=1042`)).body.items[0].escalated_to_you).toBeUndefined();
  });
});

describe('reachability', () => {
  it('says for each person which channels reach them and why the others do not', async () => {
    const all = (await h.api('GET', '/v1/reachability')).body.items;
    const a = all.find((p: { user_id: number }) => p.user_id === ana);
    const state = (ch: string) => a.channels.find((c: { channel: string }) => c.channel === ch);
    expect(state('in_app').state).toBe('ok');
    expect(state('email')).toEqual({ channel: 'email', state: 'not_configured', text: 'Email is not configured' });
    expect(state('push')).toEqual({ channel: 'push', state: 'no_address', text: 'Ana has no push subscription' });
    expect(a.push).toEqual({ subscriptions: 0, last_error: null, last_sent_at: null });
    expect(a.working).toEqual([]);
    const me = await asAdmin('/v1/reachability/me');
    expect(me.status).toBe(200);
    expect(me.body.name).toBe('Admin');
    // An API key is not a person.
    expect((await h.api('GET', '/v1/reachability/me')).status).toBe(403);
  });

  it('the rule tester says why a channel was skipped, in plain words', async () => {
    const r = await h.api('POST', '/v1/rules/test', { event: { category: 'finance', type: 'invoice_overdue', title: 'x' } });
    expect(r.status).toBe(200);
    expect(r.body.skipped_reasons).toEqual(expect.arrayContaining(['Email is not configured', 'Ana has no push subscription']));
    expect(r.body.skipped).toBeDefined(); // the older list stays
  });
});
