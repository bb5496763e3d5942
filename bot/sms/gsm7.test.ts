import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fitSms, GSM7_BASIC, GSM7_EXTENSION, GSM7_REPLACEMENTS, gsm7Length, isGsm7, toGsm7 } from './gsm7';

// Any Unicode text, including lone surrogates, emoji, combining marks and control characters.
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: 'grapheme', maxLength: 60 }),
  fc.string({ unit: fc.constantFrom(...'aé€[]^{}… “”—\u0301\u200d👍 \n'), maxLength: 80 }),
);

describe('the GSM-7 tables', () => {
  it('are the 127 basic characters (ESC excluded) and the 10 extension characters of GSM 03.38', () => {
    expect(new Set(GSM7_BASIC).size).toBe(127);
    expect([...GSM7_BASIC].length).toBe(127);
    expect(new Set(GSM7_EXTENSION).size).toBe(10);
  });

  it('only replace with GSM-7 text', () => {
    for (const [from, to] of Object.entries(GSM7_REPLACEMENTS)) {
      expect(isGsm7(to), `${JSON.stringify(from)} → ${JSON.stringify(to)}`).toBe(true);
    }
  });
});

describe('toGsm7', () => {
  it('keeps GSM-7 text as it is, extension characters included', () => {
    const s = 'Invoice €1,042 [overdue] {30d} ~ ^ | \\ @ £ ¥ Øresund Ñu Müller ¿qué? ¡sì! Δ';
    expect(toGsm7(s)).toBe(s);
  });

  it('replaces typography with close ASCII', () => {
    expect(toGsm7('“Quoted” ‘single’ — dash – en … ellipsis • bullet')).toBe('"Quoted" \'single\' - dash - en ... ellipsis * bullet');
    expect(toGsm7('a\u00a0b\tc')).toBe('a b c');
  });

  it('strips accents that GSM-7 lacks, keeps those it has', () => {
    expect(toGsm7('Café Ångström naïve façade São Paulo Łódź Kraków')).toBe('Café Ångström naive facade Sao Paulo Lodz Krakow');
    // decomposed input is composed first, so a GSM-7 letter written as e + combining acute survives
    expect(toGsm7('Cafe\u0301')).toBe('Café');
  });

  it('folds compatibility forms and ligatures', () => {
    expect(toGsm7('ﬁle ＡＢＣ１２３ œuvre')).toBe('file ABC123 oeuvre');
  });

  it("marks what has no equivalent with '?', one per emoji even with joiners", () => {
    expect(toGsm7('Disk 🔥 full')).toBe('Disk ? full');
    expect(toGsm7('👩‍💻')).toBe('??');
    expect(toGsm7('注文')).toBe('??');
    expect(toGsm7('\ud800')).toBe('?');
  });

  it('property: the output is always GSM-7, and converting twice changes nothing', () => {
    fc.assert(
      fc.property(anyText, (s) => {
        const g = toGsm7(s);
        expect(isGsm7(g)).toBe(true);
        expect(toGsm7(g)).toBe(g);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('gsm7Length', () => {
  it('counts extension characters twice', () => {
    expect(gsm7Length('abc')).toBe(3);
    expect(gsm7Length('€')).toBe(2);
    expect(gsm7Length('[x]')).toBe(5);
    expect(gsm7Length('…')).toBe(3); // becomes "..."
  });
});

describe('fitSms', () => {
  const prefix = '[Herald] HIGH ';
  const suffix = ' Reply 4a ack, 4r resolve, 4s snooze 1h';

  it('returns the whole text when it fits', () => {
    expect(fitSms(prefix, 'Invoice 1042 overdue 30d.', suffix)).toBe(
      '[Herald] HIGH Invoice 1042 overdue 30d. Reply 4a ack, 4r resolve, 4s snooze 1h',
    );
  });

  it('cuts a long title on a word boundary with "..." and keeps the reply code', () => {
    const title = 'Customer Globex Corporation has not paid invoice 1042 for the third consecutive month and the account is now in collections review.';
    const out = fitSms(prefix, title, suffix);
    expect(gsm7Length(out)).toBeLessThanOrEqual(160);
    expect(out.startsWith(prefix + 'Customer Globex')).toBe(true);
    expect(out.endsWith('...' + suffix)).toBe(true);
    expect(out).not.toMatch(/ \.\.\./); // no dangling space before the ellipsis
    const kept = out.slice(prefix.length, out.length - suffix.length - 3);
    expect(title.startsWith(kept)).toBe(true);
    expect(title.charAt(kept.length)).toBe(' '); // ended on a whole word
  });

  it('counts extension characters as two septets when cutting', () => {
    const title = '€'.repeat(100);
    const out = fitSms('', title, ' 1a', 20);
    expect(gsm7Length(out)).toBeLessThanOrEqual(20);
    expect(out).toBe('€'.repeat(7) + '... 1a');
  });

  it('drops the title rather than the suffix when there is no room', () => {
    expect(fitSms('[Herald] ', 'long title', ' Reply 12a', 20)).toBe('[Herald]  Reply 12a');
    // prefix and suffix alone exceed the limit: still never cut the reply instructions
    expect(fitSms('[Herald] ', 'title', ' Reply 12a ack, 12r resolve', 20)).toBe('[Herald]  Reply 12a ack, 12r resolve');
  });

  it('property: never exceeds the limit when prefix and suffix fit, and always keeps prefix and suffix whole', () => {
    fc.assert(
      fc.property(anyText, anyText, anyText, fc.integer({ min: 0, max: 320 }), (p, t, x, limit) => {
        const out = fitSms(p, t, x, limit);
        expect(isGsm7(out)).toBe(true);
        expect(out.startsWith(toGsm7(p))).toBe(true);
        expect(out.endsWith(toGsm7(x))).toBe(true);
        if (gsm7Length(p) + gsm7Length(x) <= limit) expect(gsm7Length(out)).toBeLessThanOrEqual(limit);
        // Parts are converted separately (a combining mark at the start of a part does not join the previous part).
        if (gsm7Length(p) + gsm7Length(t) + gsm7Length(x) <= limit) expect(out).toBe(toGsm7(p) + toGsm7(t) + toGsm7(x));
      }),
      { numRuns: 2000 },
    );
  });

  it('property: an alert text with a reply code fits 160 and ends with the exact code instructions', () => {
    fc.assert(
      fc.property(anyText, fc.integer({ min: 1, max: 99999 }), (title, code) => {
        const sfx = ` Reply ${code}a ack, ${code}r resolve, ${code}s snooze 1h`;
        const out = fitSms('[Herald] CRITICAL ', title, sfx);
        expect(gsm7Length(out)).toBeLessThanOrEqual(160);
        expect(out.endsWith(sfx)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
