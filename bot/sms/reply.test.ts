import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_REPLY_CHARS, parseSmsReply, type SmsAction, type SmsCommand } from './reply';

const act = (action: SmsAction, target: { code: number } | { alertId: number } | { latest: true }, minutes?: number): SmsCommand =>
  action === 'snooze' ? { kind: 'action', action, target, minutes: minutes ?? 60 } : { kind: 'action', action, target };

describe('parseSmsReply: the documented replies', () => {
  it.each<[string, SmsCommand]>([
    ['4a', act('ack', { code: 4 })],
    ['4A', act('ack', { code: 4 })],
    ['4 ack', act('ack', { code: 4 })],
    ['4 Acknowledge', act('ack', { code: 4 })],
    ['4r', act('resolve', { code: 4 })],
    ['4c', act('resolve', { code: 4 })],
    ['4 close', act('resolve', { code: 4 })],
    ['4 resolved', act('resolve', { code: 4 })],
    ['4s', act('snooze', { code: 4 }, 60)],
    ['4s 30', act('snooze', { code: 4 }, 30)],
    ['4s30', act('snooze', { code: 4 }, 30)],
    ['4 snooze 2h', act('snooze', { code: 4 }, 120)],
    ['4 snooze for 45 minutes', act('snooze', { code: 4 }, 45)],
    ['12 S 1 hour', act('snooze', { code: 12 }, 60)],
    ['ack #1042', act('ack', { alertId: 1042 })],
    ['ACK#1042', act('ack', { alertId: 1042 })],
    ['resolve # 1042', act('resolve', { alertId: 1042 })],
    ['#1042 r', act('resolve', { alertId: 1042 })],
    ['snooze #1042 15', act('snooze', { alertId: 1042 }, 15)],
    ['ack 4', act('ack', { code: 4 })],
    ['s 4 30m', act('snooze', { code: 4 }, 30)],
    ['a', act('ack', { latest: true })],
    ['R', act('resolve', { latest: true })],
    ['c', act('resolve', { latest: true })],
    ['s', act('snooze', { latest: true }, 60)],
    ['s 30m', act('snooze', { latest: true }, 30)],
    ['snooze for 2 hours', act('snooze', { latest: true }, 120)],
  ])('%j', (text, expected) => {
    expect(parseSmsReply(text)).toEqual(expected);
  });

  it('is tolerant of spaces, quotes, punctuation, accents, full-width forms and emoji', () => {
    for (const text of [' 4a ', '"4a"', '“4A”', "'4 a'.", '4-a!', '4, ack.', '4a 👍', '４ａ', '4 áck', '(4a)', '4\ta\n'])
      expect(parseSmsReply(text), text).toEqual(act('ack', { code: 4 }));
  });

  it('treats a leading zero as the same code', () => {
    expect(parseSmsReply('04a')).toEqual(act('ack', { code: 4 }));
  });
});

describe('parseSmsReply: keywords (the whole message, like Twilio)', () => {
  it.each(['STOP', 'stop', 'Stop.', ' STOPALL ', 'unsubscribe', 'CANCEL', 'end', 'Quit!'])('%j opts out', (t) => {
    expect(parseSmsReply(t)).toEqual({ kind: 'stop' });
  });
  it.each(['START', 'yes', 'Unstop'])('%j opts back in', (t) => {
    expect(parseSmsReply(t)).toEqual({ kind: 'start' });
  });
  it.each(['HELP', 'help?', 'INFO'])('%j asks for help', (t) => {
    expect(parseSmsReply(t)).toEqual({ kind: 'help' });
  });
  it('does not opt out on a sentence that merely contains a keyword', () => {
    expect(parseSmsReply('please stop sending these')).toEqual({ kind: 'unknown' });
    expect(parseSmsReply('4 cancel')).toEqual({ kind: 'unknown' });
  });
});

describe('parseSmsReply: what it refuses to guess', () => {
  it.each([
    '',
    '   ',
    '4',
    '#1042',
    '4x',
    '4 ack please',
    '4a 5',
    '4a5r',
    'ack 4 5',
    '0a',
    '123456a', // more digits than any reply code
    '4s 0',
    '4s 99999999',
    '4s 30 days',
    '4s 8d',
    'thanks',
    'ok',
    '4 жa', // a non-Latin word is not skipped over
    '٤a', // an Arabic-Indic digit is not silently dropped (that would ack the latest alert)
    'a for',
    's for',
  ])('%j is unknown', (text) => {
    expect(parseSmsReply(text)).toEqual({ kind: 'unknown' });
  });

  it(`reads only the first ${MAX_REPLY_CHARS} characters`, () => {
    expect(parseSmsReply('4a' + ' '.repeat(MAX_REPLY_CHARS))).toEqual(act('ack', { code: 4 }));
    expect(parseSmsReply(' '.repeat(MAX_REPLY_CHARS) + '4a')).toEqual({ kind: 'unknown' });
    expect(parseSmsReply('4'.repeat(1_000_000) + 'a')).toEqual({ kind: 'unknown' });
  });

  it('never throws on non-string input from a loosely typed caller', () => {
    expect(parseSmsReply(undefined as unknown as string)).toEqual({ kind: 'unknown' });
    expect(parseSmsReply(42 as unknown as string)).toEqual({ kind: 'unknown' });
  });
});

// ---- properties ----------------------------------------------------------------------------------

const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  // junk built from the characters replies are made of, so the grammar is actually exercised
  fc.string({ unit: fc.constantFrom(...'0123456789 #arcsk AckRSmhin.,!"\'“”-'), maxLength: 30 }),
);

/** Random case per character. */
const randomCase = (s: string) =>
  fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }).map((up) =>
    [...s].map((c, i) => (up[i] ? c.toUpperCase() : c.toLowerCase())).join(''),
  );
const spaces = fc.constantFrom('', ' ', '  ', '\t', ' \n');
const wrap = fc.constantFrom(['', ''], ['"', '"'], ["'", "'"], ['“', '”'], ['‘', '’'], ['(', ')'], ['', '.'], ['', '!'], ['', '?'], ['', ' :)'], ['-', '-']);

const ACTION_SPELLINGS: Array<[string, SmsAction]> = [
  ['a', 'ack'],
  ['ack', 'ack'],
  ['acknowledge', 'ack'],
  ['r', 'resolve'],
  ['resolve', 'resolve'],
  ['c', 'resolve'],
  ['close', 'resolve'],
  ['s', 'snooze'],
  ['snooze', 'snooze'],
];

describe('parseSmsReply: properties', () => {
  it('never throws and always returns a well-formed command', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const cmd = parseSmsReply(text);
        expect(['action', 'stop', 'start', 'help', 'unknown']).toContain(cmd.kind);
        if (cmd.kind === 'action') {
          const t = cmd.target as Record<string, unknown>;
          const n = 'code' in t ? t.code : 'alertId' in t ? t.alertId : null;
          if (n !== null) expect(Number.isSafeInteger(n) && (n as number) > 0).toBe(true);
          else expect(t).toEqual({ latest: true });
          if (cmd.action === 'snooze') expect(cmd.minutes).toBeGreaterThanOrEqual(1);
          else expect(cmd.minutes).toBeUndefined();
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('reads every `${code}${action}` reply, whatever its case, spacing, quotes and punctuation', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 99999 }),
        fc.constantFrom(...ACTION_SPELLINGS),
        spaces,
        spaces,
        spaces,
        wrap,
        fc.option(fc.integer({ min: 1, max: 600 }), { nil: undefined }),
        (code, [spelling, action], s1, s2, s3, [open, close], snoozeMin) =>
          fc.assert(
            fc.property(randomCase(spelling), (word) => {
              const minutes = action === 'snooze' ? snoozeMin : undefined;
              const text = `${s1}${open}${code}${s2}${word}${minutes !== undefined ? ` ${minutes}` : ''}${close}${s3}`;
              expect(parseSmsReply(text), JSON.stringify(text)).toEqual(act(action, { code }, minutes));
            }),
            { numRuns: 3 },
          ),
      ),
      { numRuns: 1000 },
    );
  });

  it('never acts on a code or alert id whose digits are not in the text', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const cmd = parseSmsReply(text);
        if (cmd.kind !== 'action' || 'latest' in cmd.target) return;
        const n = 'code' in cmd.target ? cmd.target.code : cmd.target.alertId;
        // compared with the text as the parser reads it (full-width digits fold to ASCII)
        const digits = text.slice(0, MAX_REPLY_CHARS).normalize('NFKD');
        expect(digits).toContain(String(n));
      }),
      { numRuns: 5000 },
    );
  });

  it('never acts on the latest alert unless the text is an action word and nothing else (besides a duration)', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const cmd = parseSmsReply(text);
        if (cmd.kind !== 'action' || !('latest' in cmd.target)) return;
        const words = text.normalize('NFKD').toLowerCase().match(/[a-z]+/g) ?? [];
        expect(['a', 'ack', 'acked', 'acknowledge', 'acknowledged', 'r', 'resolve', 'resolved', 'c', 'close', 'closed', 's', 'snooze']).toContain(words[0]);
        expect(/[0-9]/.test(text) ? cmd.action : 'snooze').toBe('snooze'); // only a snooze takes a number
      }),
      { numRuns: 5000 },
    );
  });
});
