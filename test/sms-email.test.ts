// Incident stories for SMS and email, end to end: a real Herald (API + worker) on a fresh database, the
// real twilio SDK talking to a local fake Twilio API, inbound webhooks signed with Twilio's algorithm, and
// real SMTP to a local smtp-server, read back with mailparser. Nothing leaves 127.0.0.1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { startTestHerald, type TestHerald } from './harness';
import { startFakeTwilio, type FakeTwilio, type FakeTwilioMessage } from './fakes/twilio';
import { startFakeSmtp, type FakeSmtp } from './fakes/smtp';
import { signTwilioRequest } from './fakes/twilio-sign';
import { handleInboundSms } from '../bot/sms/inbound';
import { signEmailAction } from '../bot/email/links';
import { SMS_HELP_TEXT } from '../bot/sms/format';
import { reserveAlertText } from '../db/sms/repo';
import { loadMessage, recordSend } from '../db/messages/deliver';

let h: TestHerald;
let twilio: FakeTwilio;
let smtp: FakeSmtp;
const HERALD_NUMBER = '+15005550006';

beforeAll(async () => {
  twilio = await startFakeTwilio();
  smtp = await startFakeSmtp();
  h = await startTestHerald({
    TWILIO_ACCOUNT_SID: twilio.accountSid, TWILIO_AUTH_TOKEN: twilio.authToken, TWILIO_FROM_NUMBER: HERALD_NUMBER,
    TWILIO_API_URL: twilio.url, SMTP_URL: smtp.url, EMAIL_FROM: 'Herald <alerts@herald.example>',
  });
});
afterAll(async () => {
  await h?.stop();
  await twilio?.close();
  await smtp?.close();
});

// ---- helpers -----------------------------------------------------------------------------------------

async function person(name: string, opts: { phone?: string; email?: string; roles?: string[] }): Promise<number> {
  const email = opts.email ?? `${name.toLowerCase().replace(/\W+/g, '.')}@example.com`;
  const r = await h.api('POST', '/v1/users', { name, email, phone: opts.phone, roles: opts.roles ?? [] });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.id;
}

async function rule(type: string, channels: string[], targets: { roles?: string[]; users?: number[] }, priority = 'high') {
  const r = await h.api('POST', '/v1/rules', {
    name: `${type} rule`, match: { category: 'finance', type }, targets: { roles: targets.roles ?? [], users: targets.users ?? [] },
    channels, priority, escalation: { steps: [{ after_minutes: 60, roles: ['admin'] }] },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
}

let seq = 0;
async function trigger(type: string, title: string): Promise<number> {
  const ev = await h.api('POST', '/v1/events', { category: 'finance', type, title, severity: 'error', dedup_key: `${type}-${++seq}` });
  expect(ev.status).toBe(202);
  const e = await h.eventually(async () => {
    const x = await h.api('GET', `/v1/events/${ev.body.event_id}`);
    return x.body.status === 'routed' && x.body;
  });
  return e.alert_id;
}

const textsTo = (phone: string) => twilio.messages.filter((m) => m.to === phone);
async function waitForTexts(phone: string, n: number): Promise<FakeTwilioMessage[]> {
  return h.eventually(async () => textsTo(phone).length >= n && textsTo(phone));
}

const reply = (phone: string, body: string) => twilio.inbound(`${h.url}/twilio/sms`, { from: phone, to: HERALD_NUMBER, body });

/** The text of the TwiML <Message>, '' for an empty <Response/>. */
function twimlMessage(xml: string): string {
  const m = /<Message>([\s\S]*)<\/Message>/.exec(xml);
  return m ? m[1].replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'") : '';
}

const alert = async (id: number) => (await h.api('GET', `/v1/alerts/${id}`)).body;
const timeline = async (id: number): Promise<Array<{ kind: string; actor: any; detail: any }>> => (await alert(id)).timeline;

async function smsMessageOf(alertId: number) {
  return h.eventually(async () => {
    const [m] = await h.sql`select * from messages where alert_id = ${alertId} and channel = 'sms' order by id`;
    return m && m.status !== 'pending' && m;
  });
}

// ---- SMS ---------------------------------------------------------------------------------------------

describe('an overdue invoice, by SMS', () => {
  const ANA = '+14155550101';
  let ana: number;
  let first: number;
  let second: number;

  beforeAll(async () => {
    ana = await person('Ana Accountant', { phone: '(415) 555-0101', roles: ['accounting'] });
    await rule('invoice_overdue', ['sms'], { roles: ['accounting'] });
  });

  it('texts the on-call accountant; the reply 1a acknowledges it and the confirmation comes back', async () => {
    first = await trigger('invoice_overdue', 'Invoice 1042 overdue 30d');
    const [text] = await waitForTexts(ANA, 1);
    expect(text.body).toBe('[Herald] HIGH Invoice 1042 overdue 30d. Reply 1a ack, 1r resolve, 1s snooze 1h');
    expect(text.from).toBe(HERALD_NUMBER);
    expect(text.statusCallback).toBe(`${h.url}/twilio/status`);
    expect(text.numSegments).toBe(1);

    const m = await smsMessageOf(first);
    expect(m).toMatchObject({ status: 'sent', provider_ref: text.sid });
    expect((await timeline(first)).some((t) => t.kind === 'delivered' && t.detail.channel === 'sms' && t.detail.to === 'Ana Accountant')).toBe(true);

    const res = await reply(ANA, '1a');
    expect(res.status).toBe(200);
    expect(res.contentType).toContain('text/xml');
    expect(res.body).toContain(`<Response><Message>Acknowledged #${first}: Invoice 1042 overdue 30d</Message></Response>`);

    const a = await alert(first);
    expect(a.status).toBe('acknowledged');
    expect(a.acknowledged_by).toMatchObject({ kind: 'user', id: ana, name: 'Ana Accountant', via: 'sms' });
    expect(a.timeline.find((t: { kind: string }) => t.kind === 'acknowledged').actor).toMatchObject({ id: ana, via: 'sms' });
  });

  it('gives a second alert code 2; a repeated reply gets the conflict as its answer', async () => {
    second = await trigger('invoice_overdue', 'Invoice 1043 overdue 45d');
    const texts = await waitForTexts(ANA, 2);
    expect(texts[1].body).toBe('[Herald] HIGH Invoice 1043 overdue 45d. Reply 2a ack, 2r resolve, 2s snooze 1h');

    const again = await reply(ANA, ' 1 ACK! ');
    expect(twimlMessage(again.body)).toBe(`Herald: Alert ${first} is already acknowledged by Ana Accountant`);
    expect((await alert(second)).status).toBe('triggered');
  });

  it('frees code 1 when its alert resolves: a third alert gets code 1', async () => {
    const res = await reply(ANA, '"1r"');
    expect(twimlMessage(res.body)).toBe(`Resolved #${first}: Invoice 1042 overdue 30d`);
    expect((await alert(first)).resolved_by).toMatchObject({ id: ana, via: 'sms' });

    const third = await trigger('invoice_overdue', 'Invoice 1044 overdue 60d');
    const texts = await waitForTexts(ANA, 3);
    expect(texts[2].body).toBe('[Herald] HIGH Invoice 1044 overdue 60d. Reply 1a ack, 1r resolve, 1s snooze 1h');

    // `ack #id` names the alert directly; a bare `a` means the latest alert texted to this phone.
    expect(twimlMessage((await reply(ANA, `ack #${second}`)).body)).toBe(`Acknowledged #${second}: Invoice 1043 overdue 45d`);
    expect(twimlMessage((await reply(ANA, 's 30m')).body)).toBe(`Snoozed #${third} for 30 min: Invoice 1044 overdue 60d`);
    const t = await alert(third);
    expect(t.status).toBe('acknowledged');
    expect(t.snoozed_until).not.toBeNull();
    // The resolved alert's code was released, and the live codes on this phone are 1 and 2.
    const codes = await h.sql`select code, alert_id from sms_codes where phone = ${ANA} and released_at is null order by code`;
    expect(codes.map((c) => [c.code, Number(c.alert_id)])).toEqual([[1, third], [2, second]]);
  });

  it('status callbacks move the text to delivered (on the timeline); a late "sent" does not move it back', async () => {
    const m = await smsMessageOf(first);
    const cb = await twilio.statusCallback(m.provider_ref, 'delivered');
    expect(cb.status).toBe(204);
    const [after] = await h.sql`select status from messages where id = ${m.id}`;
    expect(after.status).toBe('delivered');
    const delivered = (await timeline(first)).filter((t) => t.kind === 'delivered' && t.detail.status === 'delivered');
    expect(delivered).toHaveLength(1);
    expect(delivered[0].actor).toMatchObject({ kind: 'system', name: 'sms' });

    await twilio.statusCallback(m.provider_ref, 'sent');
    expect((await h.sql`select status from messages where id = ${m.id}`)[0].status).toBe('delivered');
    // Nor does the send job's own "sent" when Twilio's callback won the race (the SID is saved before it).
    await recordSend(h.ctx, (await loadMessage(h.ctx, h.sql, m.id))!, { outcome: 'sent', providerRef: m.provider_ref });
    expect((await h.sql`select status from messages where id = ${m.id}`)[0].status).toBe('delivered');

    const m2 = await smsMessageOf(second);
    await twilio.statusCallback(m2.provider_ref, 'undelivered', { errorCode: 30003 });
    expect((await h.sql`select status, last_error from messages where id = ${m2.id}`)[0]).toMatchObject({ status: 'failed', last_error: 'twilio error 30003' });
    expect((await timeline(second)).some((t) => t.kind === 'failed' && t.detail.error === 'twilio error 30003')).toBe(true);
  });

  it('never texts twice what Twilio accepted, even when the send job runs again', async () => {
    const m = await smsMessageOf(second);
    const before = textsTo(ANA).length;
    // As if the worker died after Twilio accepted but before the outcome was recorded (provider_ref saved).
    await h.sql`update messages set status = 'failed_temp' where id = ${m.id}`;
    await h.sql`select graphile_worker.add_job('message__send', json_build_object('message_id', ${m.id}::bigint))`;
    await h.eventually(async () => (await h.sql`select status from messages where id = ${m.id}`)[0].status === 'sent');
    // Even with the provider_ref lost, the text log knows the SID.
    await h.sql`update messages set status = 'pending', provider_ref = null where id = ${m.id}`;
    await h.sql`select graphile_worker.add_job('message__send', json_build_object('message_id', ${m.id}::bigint))`;
    const again = await h.eventually(async () => { const [x] = await h.sql`select status, provider_ref from messages where id = ${m.id}`; return x.status === 'sent' && x; });
    expect(again.provider_ref).toBe(m.provider_ref);
    await new Promise((r) => setTimeout(r, 200));
    expect(textsTo(ANA).length).toBe(before);
  });
});

describe('SMS safety', () => {
  const BOB = '+14155550102';
  const CARL = '+14155550103';
  let bobAlert: number;
  let bob: number;

  beforeAll(async () => {
    bob = await person('Bob Billing', { phone: BOB });
    await person('Carl Clerk', { phone: CARL });
    await rule('refund_requested', ['sms'], { users: [bob] });
    bobAlert = await trigger('refund_requested', 'Refund 88 requested');
    await waitForTexts(BOB, 1);
  });

  it('refuses a forged X-Twilio-Signature with 403 and changes nothing', async () => {
    const url = `${h.url}/twilio/sms`;
    const params = { From: BOB, To: HERALD_NUMBER, Body: '1r', MessageSid: 'SMforged', AccountSid: twilio.accountSid };
    const post = (sig: string | null) => fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(sig ? { 'x-twilio-signature': sig } : {}) },
      body: new URLSearchParams(params).toString(),
    });
    expect((await post(signTwilioRequest('not-the-auth-token', url, params))).status).toBe(403);
    expect((await post(null)).status).toBe(403);
    expect((await post(signTwilioRequest(twilio.authToken, `${h.url}/twilio/other`, params))).status).toBe(403);
    // The same signature with a changed body (a replayed signature on a different reply).
    const sig = signTwilioRequest(twilio.authToken, url, { ...params, Body: 'help' });
    expect((await post(sig)).status).toBe(403);
    const status = await fetch(`${h.url}/twilio/status`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'AAAA' }, body: 'MessageSid=SMx&MessageStatus=delivered' });
    expect(status.status).toBe(403);

    expect((await alert(bobAlert)).status).toBe('triggered');
    expect(await h.sql`select 1 from sms_inbound where message_sid = 'SMforged'`).toHaveLength(0);
  });

  it('a phone that belongs to no one changes nothing and gets a polite answer, at most 3 an hour', async () => {
    const stranger = '+14155550199';
    const first = await reply(stranger, '1r');
    expect(first.status).toBe(200);
    expect(twimlMessage(first.body)).toContain('not linked to a Herald user');
    expect((await alert(bobAlert)).status).toBe('triggered');
    await reply(stranger, 'a');
    await reply(stranger, 'hello?');
    const fourth = await reply(stranger, 'anyone?');
    expect(fourth.status).toBe(200);
    expect(fourth.body).toContain('<Response/>');
    expect(twimlMessage(fourth.body)).toBe('');
  });

  it('a code, an alert id or a bare a from a phone the alert was not texted to never acts', async () => {
    for (const body of ['1a', '1r', `ack #${bobAlert}`, `#${bobAlert} r`, 'a']) {
      const res = await reply(CARL, body);
      expect(res.status).toBe(200);
      expect(twimlMessage(res.body) === '' || /not texted|no open alert|no alert has been texted/.test(twimlMessage(res.body))).toBe(true);
    }
    expect(twimlMessage((await reply(CARL, '1a')).body)).toBe(''); // budget of 3 answers spent
    const a = await alert(bobAlert);
    expect(a.status).toBe('triggered');
    expect(a.timeline.map((t: { kind: string }) => t.kind)).not.toContain('acknowledged');
    // Bob's own reply works.
    expect(twimlMessage((await reply(BOB, '1c')).body)).toBe(`Resolved #${bobAlert}: Refund 88 requested`);
  });

  it('a reply Herald cannot read gets help; HELP gets the help text; Twilio retries are answered once', async () => {
    const res = await reply(BOB, 'what is this');
    expect(twimlMessage(res.body)).toContain("didn't understand");
    expect(twimlMessage((await reply(BOB, 'help')).body)).toBe(SMS_HELP_TEXT);
    // A webhook retried by Twilio (same MessageSid) acts once and gets the same answer.
    const r1 = await handleInboundSms(h.ctx, { from: BOB, body: `ack #${bobAlert}`, messageSid: 'SMretry1' });
    const r2 = await handleInboundSms(h.ctx, { from: BOB, body: `ack #${bobAlert}`, messageSid: 'SMretry1' });
    expect(r2).toMatchObject({ outcome: 'duplicate', answer: r1.answer });
  });

  it('STOP opts the phone out (mirrored on the user): the next alert is not texted; START opts back in', async () => {
    const DANA = '+14155550104';
    const dana = await person('Dana Debtors', { phone: DANA });
    await rule('stop_test', ['sms'], { users: [dana] });

    const stop = await twilio.inbound(`${h.url}/twilio/sms`, { from: DANA, to: HERALD_NUMBER, body: 'STOP', optOutType: 'STOP' });
    expect(stop.status).toBe(200);
    expect(stop.body).toContain('<Response/>');
    expect((await h.api('GET', `/v1/users/${dana}`)).body.sms_opted_out).toBe(true);

    const quiet = await trigger('stop_test', 'Cash position low');
    await h.eventually(async () => (await timeline(quiet)).some((t) => t.kind === 'notified'));
    await new Promise((r) => setTimeout(r, 300));
    expect(textsTo(DANA)).toHaveLength(0);
    expect(await h.sql`select 1 from messages where alert_id = ${quiet} and channel = 'sms' and status in ('sent', 'delivered')`).toHaveLength(0);

    expect((await twilio.inbound(`${h.url}/twilio/sms`, { from: DANA, to: HERALD_NUMBER, body: 'start', optOutType: 'START' })).body).toContain('<Response/>');
    expect((await h.api('GET', `/v1/users/${dana}`)).body.sms_opted_out).toBe(false);
    await trigger('stop_test', 'Cash position still low');
    await waitForTexts(DANA, 1);
  });

  it("Twilio's 21610 (recipient unsubscribed) is a permanent failure and marks the user opted out", async () => {
    const EVE = '+14155550105';
    const eve = await person('Eve Expenses', { phone: EVE });
    await rule('optout_test', ['sms'], { users: [eve] });
    twilio.failNext(21610);
    const id = await trigger('optout_test', 'Expense report rejected');
    const m = await smsMessageOf(id);
    expect(m.status).toBe('failed');
    expect(m.last_error).toContain('opted out');
    const failed = (await timeline(id)).find((t) => t.kind === 'failed');
    expect(failed?.detail).toMatchObject({ channel: 'sms', to: 'Eve Expenses' });
    expect(failed?.detail.error).toContain('21610');
    expect((await h.api('GET', `/v1/users/${eve}`)).body.sms_opted_out).toBe(true);
    expect(textsTo(EVE)).toHaveLength(0);
    // The code reserved for the failed text was given back.
    expect(await h.sql`select 1 from sms_codes where phone = ${EVE}`).toHaveLength(0);
  });
});

describe('a burst to one phone', () => {
  it('texts 3 alerts, bundles the rest into one text, and loses none', async () => {
    const FINN = '+14155550106';
    const finn = await person('Finn Finance', { phone: FINN });
    await rule('burst', ['sms'], { users: [finn] });
    const ids: number[] = [];
    for (let i = 1; i <= 5; i++) ids.push(await trigger('burst', `Ledger mismatch ${i}`));

    const texts = await waitForTexts(FINN, 3);
    await h.eventually(async () => (await h.sql`select 1 from messages where channel = 'sms' and alert_id = any(${ids}::bigint[]) and status = 'held'`).length === 2);
    expect(texts.map((t) => /Reply (\d+)a/.exec(t.body)![1]).sort()).toEqual(['1', '2', '3']);
    await new Promise((r) => setTimeout(r, 200));
    expect(textsTo(FINN)).toHaveLength(3);

    // A minute passes: the bundle goes out as one text.
    await h.sql`update sms_texts set created_at = created_at - interval '61 seconds' where phone = ${FINN}`;
    await h.sql`update graphile_worker._private_jobs set run_at = now() where key = ${`sms:bundle:${FINN}`}`;
    const all = await waitForTexts(FINN, 4);
    expect(all[3].body).toBe(`[Herald] 2 more alerts for you: ${h.url}/`);
    expect(all[3].statusCallback).toBe(`${h.url}/twilio/status`);

    // Twilio has the bundle; the held messages are recorded as sent right after.
    const msgs = await h.eventually(async () => {
      const rows = await h.sql`select alert_id, status, provider_ref from messages where channel = 'sms' and alert_id = any(${ids}::bigint[]) order by alert_id`;
      return rows.every((m) => m.status === 'sent') && rows;
    });
    expect(msgs).toHaveLength(5);
    const bundled = msgs.filter((m) => m.provider_ref === all[3].sid).map((m) => Number(m.alert_id));
    expect(bundled).toHaveLength(2);
    for (const id of bundled) {
      const d = (await timeline(id)).find((t) => t.kind === 'delivered');
      expect(d?.detail).toMatchObject({ channel: 'sms', bundled: true, bundle_size: 2, status: 'sent' });
    }
    // The bundle's delivery callback reaches every alert it covered.
    await twilio.statusCallback(all[3].sid, 'delivered');
    for (const id of bundled) expect((await timeline(id)).some((t) => t.kind === 'delivered' && t.detail.status === 'delivered')).toBe(true);
    // A bundled alert was sent to this phone: `ack #id` may act on it.
    expect(twimlMessage((await reply(FINN, `ack #${bundled[0]}`)).body)).toMatch(new RegExp(`^Acknowledged #${bundled[0]}: Ledger mismatch`));
  });
});

describe('reply codes under concurrency', () => {
  it('concurrent sends to one phone get distinct, smallest codes', async () => {
    const phone = '+14155550120';
    const open = await h.sql`select id, org_id from alerts where status <> 'resolved' order by id limit 8`;
    expect(open.length).toBe(8);
    const msgs = await h.sql`
      insert into messages (org_id, alert_id, level, recipient, channel, status)
      select org_id, id, 9, 'user:concurrency', 'sms', 'pending' from alerts where id = any(${open.map((a) => Number(a.id))}::bigint[])
      returning id, alert_id, org_id`;
    const slots = await Promise.all(msgs.map((m) => reserveAlertText(h.sql, { orgId: Number(m.org_id), phone, messageId: Number(m.id), alertId: Number(m.alert_id) }, { max: 100, windowSeconds: 60 })));
    const codes = slots.map((s) => (s.kind === 'text' ? s.code : -1)).sort((a, b) => a - b);
    expect(codes).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe('property: a reply never acts on an alert that was not texted to that phone', () => {
  it('holds for arbitrary texts from a known phone, against real database state', async () => {
    const HANA = '+14155550107';
    const IVAN = '+14155550108';
    const hana = await person('Hana Payables', { phone: HANA });
    const ivan = await person('Ivan Invoices', { phone: IVAN });
    await rule('prop_hana', ['sms'], { users: [hana] });
    await rule('prop_ivan', ['sms'], { users: [ivan] });
    await rule('prop_inapp', ['in_app'], { users: [hana] });
    const hanaAlerts = [await trigger('prop_hana', 'Payable A'), await trigger('prop_hana', 'Payable B')];
    const ivanAlert = await trigger('prop_ivan', 'Invoice C');
    const inAppAlert = await trigger('prop_inapp', 'Only in the app D');
    await waitForTexts(HANA, 2);
    await waitForTexts(IVAN, 1);
    const others = [ivanAlert, inAppAlert];
    const ids = [...hanaAlerts, ...others];

    const action = fc.constantFrom('a', 'r', 'c', 's', 'ack', 'resolve', 'snooze', 'A', 'R', 'Ack', 'snooze 2h', 's 30', 's 30m', 'x');
    const noise = fc.constantFrom('', ' ', '"', "'", '.', '!', '  ', '#', '?');
    const code = fc.integer({ min: 0, max: 6 }).map(String);
    const id = fc.oneof(fc.constantFrom(...ids), fc.integer({ min: 1, max: 100 })).map(String);
    const reply = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.string({ unit: 'grapheme', maxLength: 12 }),
      fc.tuple(noise, code, noise, action, noise).map((p) => p.join('')),
      fc.tuple(noise, action, fc.constantFrom(' ', ' #', '#', ' # '), id, noise).map((p) => p.join('')),
      fc.tuple(fc.constantFrom('#', ''), id, fc.constantFrom(' ', ''), action).map((p) => p.join('')),
      action,
    );

    await fc.assert(
      fc.asyncProperty(reply, async (body) => {
        const r = await handleInboundSms(h.ctx, { from: HANA, body, messageSid: null }, { budget: 1_000_000 });
        if (r.acted) expect(hanaAlerts).toContain(r.acted.alertId);
        if (r.alertId !== undefined) expect(hanaAlerts).toContain(r.alertId);
      }),
      { numRuns: 300 },
    );

    for (const other of others) {
      const a = await alert(other);
      expect(a.status).toBe('triggered');
      expect(a.timeline.filter((t: { actor: { via?: string } }) => t.actor.via === 'sms')).toHaveLength(0);
    }
  });
});

// ---- email -------------------------------------------------------------------------------------------

describe('a failed payment, by email', () => {
  let emma: number;
  let id: number;
  let ack: string;
  let resolve: string;

  beforeAll(async () => {
    emma = await person('Emma Receivables', { email: 'emma@example.com' });
    await rule('payment_failed', ['email'], { users: [emma] });
  });

  const getPage = async (url: string) => { const r = await fetch(url); return { status: r.status, html: await r.text(), headers: r.headers }; };
  const postPage = async (url: string) => { const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' }); return { status: r.status, html: await r.text() }; };

  it('emails the alert with one-tap links; opening the Acknowledge link changes nothing, confirming it acknowledges', async () => {
    const before = smtp.messages.length;
    id = await trigger('payment_failed', 'Payment 77 failed');
    const mails = await smtp.waitFor(before + 1);
    const mail = mails[before];
    expect(mail.subject).toBe('[HIGH] Finance: Payment 77 failed');
    expect(mail.to && !Array.isArray(mail.to) && mail.to.value[0]).toMatchObject({ address: 'emma@example.com', name: 'Emma Receivables' });
    expect(mail.from?.value[0]).toMatchObject({ address: 'alerts@herald.example', name: 'Herald' });
    const m = await h.eventually(async () => { const [x] = await h.sql`select * from messages where alert_id = ${id} and channel = 'email'`; return x?.status === 'sent' && x; });
    expect(mail.messageId).toBe(`<herald-message-${m.id}@herald.example>`);
    expect(m.provider_ref).toBe(mail.messageId);
    expect(mail.html).toContain('Payment 77 failed');
    expect(mail.text).toContain(`Open in Herald: ${h.url}/alerts/${id}`);
    ack = /Acknowledge: (\S+)/.exec(mail.text!)![1];
    resolve = /Resolve: (\S+)/.exec(mail.text!)![1];
    expect(ack.startsWith(`${h.url}/e/`)).toBe(true);

    // A mail scanner (or the person) opens the link: a confirmation page, nothing changes.
    for (let i = 0; i < 2; i++) {
      const page = await getPage(ack);
      expect(page.status).toBe(200);
      expect(page.headers.get('cache-control')).toBe('no-store');
      expect(page.html).toContain(`Acknowledge alert #${id}?`);
      expect(page.html).toContain('<form method="post">');
    }
    expect((await alert(id)).status).toBe('triggered');

    const done = await postPage(ack);
    expect(done.status).toBe(200);
    expect(done.html).toContain(`You acknowledged alert #${id}`);
    const a = await alert(id);
    expect(a.status).toBe('acknowledged');
    expect(a.acknowledged_by).toMatchObject({ kind: 'user', id: emma, via: 'email' });
  });

  it('a used link shows the alert’s current state instead of failing', async () => {
    const again = await postPage(ack);
    expect(again.status).toBe(200);
    expect(again.html).toContain(`Alert #${id} is already acknowledged`);
    expect(again.html).toContain('Acknowledged by Emma Receivables');
    const open = await getPage(ack);
    expect(open.html).toContain(`Alert #${id} is already acknowledged`);
    expect(open.html).not.toContain('<form');
    // The Resolve link of the same email still works, then shows the resolved state.
    expect((await postPage(resolve)).html).toContain(`You resolved alert #${id}`);
    expect((await getPage(ack)).html).toContain(`Alert #${id} is already resolved`);
    expect((await alert(id)).timeline.filter((t: { kind: string }) => t.kind === 'acknowledged')).toHaveLength(1);
  });

  it('an expired link shows only that it expired (nothing of the alert) and changes nothing; a forged one is refused', async () => {
    const fresh = await trigger('payment_failed', 'Payment 78 failed');
    const expired = `${h.url}/e/${signEmailAction(h.ctx.key, { alertId: fresh, userId: emma, action: 'ack', now: Date.now() - 25 * 3600_000 })}`;
    for (const page of [await getPage(expired), await postPage(expired)]) {
      expect(page.status).toBe(410);
      expect(page.html).toContain('This link has expired');
      // Issue 14: an expired link used to keep showing the alert (title, state, details).
      expect(page.html).not.toContain('Payment 78 failed');
      expect(page.html).not.toContain(`#${fresh}`);
      expect(page.html).not.toContain('waiting for someone to acknowledge');
      expect(page.html).not.toContain('<form');
    }
    expect((await alert(fresh)).status).toBe('triggered');

    const valid = signEmailAction(h.ctx.key, { alertId: fresh, userId: emma, action: 'ack' });
    const [body] = valid.split('.');
    // Same claims for another alert under the old signature; someone else's key; garbage.
    const other = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), a: id })).toString('base64url');
    for (const t of [`${other}.${valid.split('.')[1]}`, signEmailAction(Buffer.alloc(32, 7), { alertId: fresh, userId: emma, action: 'ack' }), 'nonsense', `${body}.`]) {
      expect((await postPage(`${h.url}/e/${t}`)).status).toBe(400);
    }
    expect((await alert(fresh)).status).toBe('triggered');

    // Bound to the person: once Emma is deleted, her links act no more.
    const zoe = await person('Zoe Temp', { email: 'zoe@example.com' });
    const zoeLink = `${h.url}/e/${signEmailAction(h.ctx.key, { alertId: fresh, userId: zoe, action: 'resolve' })}`;
    expect((await h.api('DELETE', `/v1/users/${zoe}`)).status).toBe(204);
    expect((await postPage(zoeLink)).status).toBe(403);
    expect((await alert(fresh)).status).toBe('triggered');
  });

  it('an SMTP rejection (5xx) is a permanent failure on the timeline; a 4xx is retried', async () => {
    const gus = await person('Gus Ledger', { email: 'gus@example.com' });
    await rule('mail_reject', ['email'], { users: [gus] });
    // Earlier emails must be out of the way, or one of them would meet the rejection meant for Gus.
    await h.eventually(async () => (await h.sql`select 1 from messages where channel = 'email' and status in ('pending', 'failed_temp')`).length === 0);
    smtp.rejectNext(550, '5.1.1 Mailbox unavailable', 'rcpt');
    const rejected = await trigger('mail_reject', 'Bank feed stopped');
    const m = await h.eventually(async () => { const [x] = await h.sql`select * from messages where alert_id = ${rejected} and channel = 'email'`; return x?.status === 'failed' && x; });
    expect(m.last_error).toContain('550');
    const failed = (await timeline(rejected)).find((t) => t.kind === 'failed');
    expect(failed?.detail).toMatchObject({ channel: 'email', to: 'Gus Ledger' });
    expect(failed?.detail.error).toContain('Mailbox unavailable');

    const before = smtp.messages.length;
    smtp.rejectNext(451, '4.3.0 Try again later', 'data');
    const later = await trigger('mail_reject', 'Bank feed stopped again');
    const m2 = await h.eventually(async () => { const [x] = await h.sql`select * from messages where alert_id = ${later} and channel = 'email'`; return x?.status === 'failed_temp' && x; });
    expect(m2.last_error).toContain('451');
    await h.sql`update graphile_worker._private_jobs set run_at = now() where key = ${`message:${m2.id}:send`}`;
    await smtp.waitFor(before + 1);
    await h.eventually(async () => (await h.sql`select status from messages where id = ${m2.id}`)[0].status === 'sent');
    expect((await timeline(later)).some((t) => t.kind === 'delivered' && t.detail.channel === 'email')).toBe(true);
    expect(smtp.messages[before].messageId).toBe(`<herald-message-${m2.id}@herald.example>`);
  });
});

describe('readiness', () => {
  it('reports SMS and email as configured', async () => {
    const r = await h.api('GET', '/readyz', undefined, { key: null });
    expect(r.body.checks.channels.sms.status).toBe('ok');
    expect(r.body.checks.channels.email.status).toBe('ok');
  });
});
