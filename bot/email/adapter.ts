// Email through any SMTP server (nodemailer, SMTP_URL). One email per message row, with one-tap
// Acknowledge / Resolve links signed for that person and that alert (./links.ts).
//
// Invariants:
// - Each message row has one stable Message-ID (`<herald-message-<id>@host>`): if a retry does send twice
//   (the server accepted but the connection broke before its answer), mail clients and many servers
//   collapse the copies. Once the server has accepted, the Message-ID is stored as the provider_ref before
//   `send` returns, and a retry of a message that has one does not send again.
// - SMTP 5xx answers are permanent (the address or the content is refused; retrying will not help), 4xx
//   and connection problems are temporary (the send job retries with backoff). Both end on the timeline.
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import type { Adapter, AdapterContext, FileRecipient, OutgoingFile, OutgoingMessage, SendResult } from '../adapter';
import type { Config } from '../../db/platform/config';
import type { RecipientUser } from '../../db/model/channels';
import { saveProviderRef } from '../../db/messages/provider';
import { renderAlertEmail } from './render';
import { renderDigestEmail } from './digest';
import type { DigestView } from '../../db/model/digest';
import { emailActionUrl } from './links';

export const DEFAULT_EMAIL_FROM = 'Herald <herald@localhost>';

export const emailConfigured = (c: Config) => Boolean(c.SMTP_URL);
export const emailReaches = (u: RecipientUser) => Boolean(u.email);

/** The domain for Message-IDs: the sender address's, else PUBLIC_URL's host. */
export function messageIdDomain(from: string, publicUrl: string): string {
  const m = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from.trim());
  if (m) return m[1].toLowerCase();
  try {
    return new URL(publicUrl).hostname || 'herald.localhost';
  } catch {
    return 'herald.localhost';
  }
}

export const messageIdFor = (messageId: number, domain: string) => `<herald-message-${messageId}@${domain}>`;

/** What an SMTP failure means for the send job. */
export function smtpErrorToSendResult(err: unknown): Extract<SendResult, { outcome: 'failed_temp' | 'failed_perm' }> {
  const e = (err ?? {}) as { responseCode?: unknown; code?: unknown; message?: unknown; response?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(err);
  const response = typeof e.response === 'string' ? e.response : '';
  const rc = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const error = `smtp${rc ? ` ${rc}` : ''}: ${response || message}`.slice(0, 500);
  if (rc !== undefined && rc >= 500) return { outcome: 'failed_perm', error };
  if (rc !== undefined && rc >= 400) return { outcome: 'failed_temp', error };
  // Refused before talking to the server (an address nodemailer cannot use): no retry will fix it.
  if (rc === undefined && (e.code === 'EENVELOPE' || e.code === 'EMESSAGE')) return { outcome: 'failed_perm', error };
  return { outcome: 'failed_temp', error }; // ECONNECTION, ETIMEDOUT, ESOCKET, EDNS…
}

export function createEmailAdapter(config: Config): Adapter {
  const from = config.EMAIL_FROM ?? DEFAULT_EMAIL_FROM;
  const transport = nodemailer.createTransport({
    url: config.SMTP_URL!,
    // nodemailer waits up to 2 minutes for a connection by default: too long for a send job.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  } as SMTPTransport.Options);

  async function send(msg: OutgoingMessage, ctx: AdapterContext): Promise<SendResult> {
    if (msg.providerRef) return { outcome: 'sent', providerRef: msg.providerRef, providerState: msg.providerState };
    const user = msg.user;
    if (!user?.email) return { outcome: 'failed_perm', error: 'recipient has no email address' };
    const publicUrl = ctx.config.publicUrl;
    const link = (action: 'ack' | 'resolve') => emailActionUrl(publicUrl, ctx.key, { alertId: msg.alert.id, userId: user.id, action });
    const mail = renderAlertEmail(msg.alert, { open: msg.alert.url, ack: link('ack'), resolve: link('resolve') }, msg.reason);
    const messageId = messageIdFor(msg.id, messageIdDomain(from, publicUrl));
    let info: SMTPTransport.SentMessageInfo;
    try {
      info = await transport.sendMail({
        from,
        to: { name: user.name, address: user.email },
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId,
        headers: {
          // RFC 3834: machine-sent; auto-responders (out-of-office) should not answer.
          'Auto-Submitted': 'auto-generated',
          'X-Auto-Response-Suppress': 'All',
          'X-Herald-Alert-Id': String(msg.alert.id),
        },
      });
    } catch (e) {
      return smtpErrorToSendResult(e);
    }
    if (info.rejected?.length) return { outcome: 'failed_perm', error: `smtp: recipient rejected: ${info.response ?? ''}`.trim() };
    const state = { response: info.response };
    await saveProviderRef(ctx.sql, msg.id, messageId, state);
    return { outcome: 'sent', providerRef: messageId, providerState: state };
  }

  async function sendDigest(user: RecipientUser, d: DigestView, ctx: AdapterContext): Promise<SendResult> {
    if (!user.email) return { outcome: 'failed_perm', error: 'recipient has no email address' };
    const link = (action: 'ack' | 'resolve') => (alertId: number) => emailActionUrl(ctx.config.publicUrl, ctx.key, { alertId, userId: user.id, action });
    const mail = renderDigestEmail(d, { ack: link('ack'), resolve: link('resolve') });
    const messageId = `<herald-digest-${d.id}@${messageIdDomain(from, ctx.config.publicUrl)}>`;
    try {
      const info = await transport.sendMail({
        from, to: { name: user.name, address: user.email }, subject: mail.subject, text: mail.text, html: mail.html, messageId,
        headers: { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All', 'X-Herald-Digest-Id': String(d.id) },
      });
      if (info.rejected?.length) return { outcome: 'failed_perm', error: `smtp: recipient rejected: ${info.response ?? ''}`.trim() };
    } catch (e) {
      return smtpErrorToSendResult(e);
    }
    return { outcome: 'sent', providerRef: messageId };
  }

  /** A report file as an attachment; the body says what it is (the report's name, period and figures live in the file). */
  async function sendFile(to: FileRecipient, file: OutgoingFile, ctx: AdapterContext): Promise<SendResult> {
    if (!('address' in to)) return { outcome: 'failed_perm', error: 'email needs an address' };
    try {
      const info = await transport.sendMail({
        from, to: to.name ? { name: to.name, address: to.address } : to.address, subject: `[Herald report] ${file.title}`,
        text: `${file.text}\n\nThe report is attached (${file.filename}). Every run is also kept in Herald: ${ctx.config.publicUrl}/reports\n`,
        attachments: [{ filename: file.filename, content: file.data, contentType: file.contentType }],
        headers: { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' },
      });
      if (info.rejected?.length) return { outcome: 'failed_perm', error: `smtp: recipient rejected: ${info.response ?? ''}`.trim() };
      return { outcome: 'sent', providerRef: info.messageId };
    } catch (e) {
      return smtpErrorToSendResult(e);
    }
  }

  return {
    kind: 'email',
    sendDigest,
    sendFile,
    enabled: true,
    inline: false,
    updatable: false,
    reaches: emailReaches,
    send,
    health: () => ({ status: 'ok', detail: `from ${from}` }),
    stop: async () => transport.close(),
  };
}
