// A local SMTP server for the real nodemailer transport (SMTP_URL=smtp://127.0.0.1:<port>). Plain SMTP, no
// STARTTLS, auth optional (any login accepted); every accepted message is parsed back with mailparser so
// tests assert on what a mail client would show (decoded subject, text and HTML parts), not on raw MIME.
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface FakeSmtpEnvelope {
  from: string | null;
  to: string[];
}

export interface FakeSmtp {
  url: string;
  /** Accepted messages, parsed, in arrival order. */
  messages: ParsedMail[];
  /** SMTP envelopes of `messages`, same order. */
  envelopes: FakeSmtpEnvelope[];
  /** Usernames of the AUTH logins seen (any password is accepted). */
  logins: string[];
  /** Resolves with the messages once at least `n` arrived; rejects after `ms`. */
  waitFor(n: number, ms?: number): Promise<ParsedMail[]>;
  /** The next message is refused with this SMTP reply (after DATA, or at RCPT TO when `stage` says so). */
  rejectNext(code: number, message: string, stage?: 'data' | 'rcpt'): void;
  close(): Promise<void>;
}

type SmtpError = Error & { responseCode?: number };
const smtpError = (code: number, message: string): SmtpError => Object.assign(new Error(message), { responseCode: code });

export async function startFakeSmtp(): Promise<FakeSmtp> {
  const messages: ParsedMail[] = [];
  const envelopes: FakeSmtpEnvelope[] = [];
  const logins: string[] = [];
  const rejections: Array<{ code: number; message: string; stage: 'data' | 'rcpt' }> = [];
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of [...waiters]) w();
  };

  const takeRejection = (stage: 'data' | 'rcpt') => {
    const i = rejections.findIndex((r) => r.stage === stage);
    return i < 0 ? null : rejections.splice(i, 1)[0];
  };

  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    // AUTH stays available, over plain text, and any credentials pass: an SMTP_URL with a user and
    // password (as in production) works against the fake unchanged.
    allowInsecureAuth: true,
    onAuth(auth, _session, callback) {
      logins.push(auth.username ?? '');
      callback(null, { user: auth.username ?? 'anonymous' });
    },
    logger: false,
    banner: 'Herald fake SMTP',
    closeTimeout: 1000,
    onRcptTo(address, _session, callback) {
      const r = takeRejection('rcpt');
      if (r) return callback(smtpError(r.code, r.message));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const r = takeRejection('data');
        if (r) return callback(smtpError(r.code, r.message));
        const raw = Buffer.concat(chunks);
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : null;
        const to = session.envelope.rcptTo.map((a) => a.address);
        simpleParser(raw)
          .then((mail) => {
            messages.push(mail);
            envelopes.push({ from, to });
            notify();
            callback();
          })
          .catch((e: Error) => callback(smtpError(554, `unparseable message: ${e.message}`)));
      });
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.on('error', () => {}); // a client dropping its connection must not crash the test process
  const { port } = server.server.address() as AddressInfo;

  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    envelopes,
    logins,
    waitFor(n, ms = 5000) {
      if (messages.length >= n) return Promise.resolve(messages);
      return new Promise((resolve, reject) => {
        const check = () => {
          if (messages.length >= n) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(messages);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`fake SMTP: expected ${n} message(s) within ${ms} ms, got ${messages.length}`));
        }, ms);
        waiters.add(check);
      });
    },
    rejectNext(code, message, stage = 'data') {
      rejections.push({ code, message, stage });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
