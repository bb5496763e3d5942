import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AlertView } from '../../db/model/alert';
import { PRIORITIES } from '../../db/model/levels';
import { sampleAlert } from '../../test/fakes/alert-fixture';
import { formatAlertSms, formatBundleSms, formatReplyConfirmation, SMS_HELP_TEXT, SMS_UNKNOWN_TEXT } from './format';
import { gsm7Length, isGsm7 } from './gsm7';
import { parseSmsReply } from './reply';

const alertView = (over: Partial<AlertView> = {}): AlertView => sampleAlert({ title: 'Invoice 1042 overdue 30d', ...over });

describe('formatAlertSms', () => {
  it('is exactly the documented text', () => {
    expect(formatAlertSms(alertView(), 4)).toBe('[Herald] HIGH Invoice 1042 overdue 30d. Reply 4a ack, 4r resolve, 4s snooze 1h');
  });

  it('upper-cases every priority', () => {
    for (const priority of PRIORITIES)
      expect(formatAlertSms(alertView({ priority }), 1)).toMatch(new RegExp(`^\\[Herald\\] ${priority.toUpperCase()} `));
  });

  it('does not double the full stop, and keeps ! or ?', () => {
    expect(formatAlertSms(alertView({ title: 'Backup failed.' }), 2)).toBe('[Herald] HIGH Backup failed. Reply 2a ack, 2r resolve, 2s snooze 1h');
    expect(formatAlertSms(alertView({ title: 'Line 3 stopped!' }), 2)).toBe('[Herald] HIGH Line 3 stopped! Reply 2a ack, 2r resolve, 2s snooze 1h');
  });

  it('puts a multi-line title on one line and replaces characters outside GSM-7', () => {
    const out = formatAlertSms(alertView({ title: 'Client “Müller & Søn” —\n payment 🔥 late' }), 3);
    expect(out).toBe('[Herald] HIGH Client "Müller & Søn" - payment ? late. Reply 3a ack, 3r resolve, 3s snooze 1h');
  });

  it('cuts a long title, never the reply code', () => {
    const title = 'Globex Corporation invoice 1042 for 12,400.00 EUR is 30 days overdue; the customer promised payment twice and missed both dates, escalate to collections';
    const out = formatAlertSms(alertView({ title, priority: 'critical' }), 17);
    expect(gsm7Length(out)).toBeLessThanOrEqual(160);
    expect(out).toMatch(/^\[Herald\] CRITICAL Globex Corporation invoice 1042 .*\.\.\. Reply 17a ack, 17r resolve, 17s snooze 1h$/);
  });

  it('falls back to category/type for an empty title', () => {
    expect(formatAlertSms(alertView({ title: '  ' }), 1)).toBe('[Herald] HIGH finance/invoice_overdue. Reply 1a ack, 1r resolve, 1s snooze 1h');
  });

  it('property: any alert text is one GSM-7 segment, and the replies it advertises parse back to its code', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 300 }),
        fc.constantFrom(...PRIORITIES),
        fc.integer({ min: 1, max: 9999 }),
        (title, priority, code) => {
          const out = formatAlertSms(alertView({ title, priority }), code);
          expect(isGsm7(out)).toBe(true);
          expect(gsm7Length(out)).toBeLessThanOrEqual(160);
          const advertised = /Reply (\d+a) ack, (\d+r) resolve, (\d+s) snooze 1h$/.exec(out);
          expect(advertised).not.toBeNull();
          expect(parseSmsReply(advertised![1])).toEqual({ kind: 'action', action: 'ack', target: { code } });
          expect(parseSmsReply(advertised![2])).toEqual({ kind: 'action', action: 'resolve', target: { code } });
          expect(parseSmsReply(advertised![3])).toEqual({ kind: 'action', action: 'snooze', target: { code }, minutes: 60 });
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('formatBundleSms', () => {
  it('bundles a burst into one text with a link', () => {
    expect(formatBundleSms(3, 'http://127.0.0.1:8080/alerts?mine=true')).toBe(
      '[Herald] 3 more alerts for you: http://127.0.0.1:8080/alerts?mine=true',
    );
    expect(formatBundleSms(1, 'http://h/a')).toBe('[Herald] 1 more alert for you: http://h/a');
  });
});

describe('formatReplyConfirmation', () => {
  it('confirms each action with the alert id and title', () => {
    const a = alertView({ title: 'Invoice 1042 overdue' });
    expect(formatReplyConfirmation('ack', a)).toBe('Acknowledged #1042: Invoice 1042 overdue');
    expect(formatReplyConfirmation('resolve', a)).toBe('Resolved #1042: Invoice 1042 overdue');
    expect(formatReplyConfirmation('snooze', a, { minutes: 60 })).toBe('Snoozed #1042 for 1h: Invoice 1042 overdue');
    expect(formatReplyConfirmation('snooze', a, { minutes: 30 })).toBe('Snoozed #1042 for 30 min: Invoice 1042 overdue');
    expect(formatReplyConfirmation('snooze', a, { minutes: 90 })).toBe('Snoozed #1042 for 1h30m: Invoice 1042 overdue');
  });

  it('stays one segment for a long title', () => {
    const out = formatReplyConfirmation('ack', alertView({ title: 'x '.repeat(200) }));
    expect(gsm7Length(out)).toBeLessThanOrEqual(160);
    expect(out.startsWith('Acknowledged #1042: x x')).toBe(true);
    expect(out.endsWith('...')).toBe(true);
  });
});

describe('fixed texts', () => {
  it('are one GSM-7 segment each', () => {
    for (const t of [SMS_HELP_TEXT, SMS_UNKNOWN_TEXT]) {
      expect(isGsm7(t), t).toBe(true);
      expect(gsm7Length(t), t).toBeLessThanOrEqual(160);
    }
  });

  it('the examples in the help text are replies the parser accepts', () => {
    for (const example of ['4a', '4r', '4s', '4s 30', 'a', 'r']) expect(parseSmsReply(example).kind).toBe('action');
    expect(SMS_HELP_TEXT).toContain('STOP');
  });
});
