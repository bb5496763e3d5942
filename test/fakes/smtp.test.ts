// The real nodemailer SMTP transport against the fake SMTP server, with a rendered alert email.
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderAlertEmail } from '../../bot/email/render';
import { sampleAlert } from './alert-fixture';
import { startFakeSmtp, type FakeSmtp } from './smtp';

const alert = sampleAlert({
  title: 'Invoice 1042 overdue — Müller & Søn “Globex” 🔥',
  body: 'Line one.\n\nLine two with ümlauts and €.',
  occurrences: 2,
  metadata: { amount: 12400 },
  sop: { title: 'Chase the invoice', steps: ['Call the customer'], url: null },
});

let smtp: FakeSmtp;
beforeAll(async () => {
  smtp = await startFakeSmtp();
});
afterAll(() => smtp.close());

describe('fake SMTP with the real nodemailer transport', () => {
  it('delivers a rendered alert email that parses back with the same subject, text and HTML', async () => {
    const email = renderAlertEmail(
      alert,
      { open: alert.url, ack: 'http://127.0.0.1:8080/email/act?t=a.b', resolve: 'http://127.0.0.1:8080/email/act?t=c.d' },
      'triggered',
    );
    const transport = nodemailer.createTransport(smtp.url);
    const info = await transport.sendMail({
      from: 'Herald <herald@example.com>',
      to: 'ana@example.com',
      subject: email.subject,
      text: email.text,
      html: email.html,
    });
    transport.close();
    expect(info.accepted).toEqual(['ana@example.com']);
    expect(info.response).toMatch(/^250 /);

    const [mail] = await smtp.waitFor(1);
    expect(mail.subject).toBe('[HIGH] Finance: Invoice 1042 overdue — Müller & Søn “Globex” 🔥');
    expect(mail.subject).toBe(email.subject);
    expect(mail.text?.trimEnd()).toBe(email.text.trimEnd());
    expect(typeof mail.html === 'string' ? mail.html.trimEnd() : null).toBe(email.html.trimEnd());
    expect(mail.from?.value).toEqual([{ address: 'herald@example.com', name: 'Herald' }]);
    expect(smtp.envelopes[0]).toEqual({ from: 'herald@example.com', to: ['ana@example.com'] });
  });

  it('surfaces a rejection after DATA as an SMTP error with its 5xx responseCode, then accepts again', async () => {
    const before = smtp.messages.length;
    smtp.rejectNext(552, 'Message size exceeds fixed maximum message size');
    const transport = nodemailer.createTransport(smtp.url);
    const err = await transport
      .sendMail({ from: 'herald@example.com', to: 'bo@example.com', subject: 's', text: 't' })
      .catch((e: unknown) => e as Error & { responseCode?: number; response?: string; code?: string });
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ responseCode: 552 });
    expect((err as { response?: string }).response).toMatch(/^552 .*Message size exceeds/);
    expect(smtp.messages.length).toBe(before);

    await transport.sendMail({ from: 'herald@example.com', to: 'bo@example.com', subject: 'again', text: 't' });
    transport.close();
    const all = await smtp.waitFor(before + 1);
    expect(all.at(-1)?.subject).toBe('again');
  });

  it('surfaces a recipient rejection at RCPT TO as a 550 envelope error', async () => {
    smtp.rejectNext(550, 'No such user here', 'rcpt');
    const transport = nodemailer.createTransport(smtp.url);
    const err = await transport
      .sendMail({ from: 'herald@example.com', to: 'ghost@example.com', subject: 's', text: 't' })
      .catch((e: unknown) => e as Error & { responseCode?: number; code?: string });
    transport.close();
    expect(err).toMatchObject({ responseCode: 550, code: 'EENVELOPE' });
  });

  it('accepts an SMTP URL with credentials, as production uses', async () => {
    const u = new URL(smtp.url);
    u.username = 'herald';
    u.password = 's3cret';
    const transport = nodemailer.createTransport(u.toString());
    await transport.sendMail({ from: 'herald@example.com', to: 'cy@example.com', subject: 'with auth', text: 't' });
    transport.close();
    expect(smtp.logins).toContain('herald');
    expect(smtp.messages.at(-1)?.subject).toBe('with auth');
  });

  it('waitFor times out with a clear message', async () => {
    await expect(smtp.waitFor(smtp.messages.length + 1, 50)).rejects.toThrow(/expected \d+ message\(s\) within 50 ms/);
  });
});
