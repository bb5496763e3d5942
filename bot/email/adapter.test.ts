import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { signToken } from '../../db/platform/crypto';
import { messageIdDomain, messageIdFor, smtpErrorToSendResult } from './adapter';
import { EMAIL_ACTION_PURPOSE, readEmailAction, signEmailAction } from './links';

describe('smtpErrorToSendResult', () => {
  const err = (props: Record<string, unknown>) => Object.assign(new Error('boom'), props);
  it('5xx is permanent, 4xx and connection problems are temporary', () => {
    expect(smtpErrorToSendResult(err({ code: 'EENVELOPE', responseCode: 550, response: '550 5.1.1 No such user' }))).toEqual({ outcome: 'failed_perm', error: 'smtp 550: 550 5.1.1 No such user' });
    expect(smtpErrorToSendResult(err({ code: 'EMESSAGE', responseCode: 552, response: '552 too big' })).outcome).toBe('failed_perm');
    expect(smtpErrorToSendResult(err({ code: 'EAUTH', responseCode: 535, response: '535 bad credentials' })).outcome).toBe('failed_perm');
    expect(smtpErrorToSendResult(err({ code: 'EMESSAGE', responseCode: 451, response: '451 try later' })).outcome).toBe('failed_temp');
    expect(smtpErrorToSendResult(err({ code: 'ECONNECTION' })).outcome).toBe('failed_temp');
    expect(smtpErrorToSendResult(err({ code: 'ETIMEDOUT' })).outcome).toBe('failed_temp');
    expect(smtpErrorToSendResult(undefined).outcome).toBe('failed_temp');
    // Refused by nodemailer itself (an address it cannot use): retrying cannot help.
    expect(smtpErrorToSendResult(err({ code: 'EENVELOPE' })).outcome).toBe('failed_perm');
  });
});

describe('Message-ID', () => {
  it('is stable per message row, under the sender’s domain', () => {
    expect(messageIdDomain('Herald <alerts@Herald.Example>', 'http://127.0.0.1:8080')).toBe('herald.example');
    expect(messageIdDomain('ops@acme.io', 'http://x')).toBe('acme.io');
    expect(messageIdDomain('Herald', 'https://herald.acme.io/base')).toBe('herald.acme.io');
    expect(messageIdFor(42, 'acme.io')).toBe('<herald-message-42@acme.io>');
  });
});

describe('email action tokens', () => {
  const key = randomBytes(32);
  it('carry the alert, the person, the action and a 24 h expiry', () => {
    const now = Date.UTC(2024, 4, 1);
    const t = signEmailAction(key, { alertId: 1042, userId: 7, action: 'ack', now });
    expect(readEmailAction(key, t)).toEqual({ a: 1042, u: 7, act: 'ack', exp: now / 1000 + 86400 });
  });
  it('are refused when tampered with, signed for another purpose or under another key, or malformed', () => {
    const t = signEmailAction(key, { alertId: 1, userId: 2, action: 'resolve' });
    expect(readEmailAction(randomBytes(32), t)).toBeNull();
    expect(readEmailAction(key, `${t}x`)).toBeNull();
    expect(readEmailAction(key, signToken(key, 'session', { a: 1, u: 2, act: 'resolve', exp: 9e9 }))).toBeNull();
    expect(readEmailAction(key, signToken(key, EMAIL_ACTION_PURPOSE, { a: 1, u: 2, act: 'delete', exp: 9e9 }))).toBeNull();
    expect(readEmailAction(key, signToken(key, EMAIL_ACTION_PURPOSE, { a: '1', u: 2, act: 'ack', exp: 9e9 }))).toBeNull();
    expect(readEmailAction(key, '')).toBeNull();
    expect(readEmailAction(key, '.'.repeat(5000))).toBeNull();
  });
});
