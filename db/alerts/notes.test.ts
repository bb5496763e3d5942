// The note text parser (POST /v1/alerts/:id/notes) takes outside input: any text is either accepted exactly
// as given or refused with a 400 — never another error, never a text Postgres would refuse (NUL, lone
// surrogates). Runs without a database.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { NoteSchema } from './together';
import { HeraldError, parse } from '../errors';

const accepts = (text: unknown) => {
  try {
    return parse(NoteSchema, { text }).text === text;
  } catch (e) {
    if (e instanceof HeraldError && e.status === 400) return false;
    throw e;
  }
};

describe('note text', () => {
  it('property: accepted as given, or a 400; accepted text is never blank, never has NUL or a lone surrogate, at most 4,000 characters', () => {
    fc.assert(fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), fc.string({ unit: 'grapheme', maxLength: 60 }), fc.anything()), (text) => {
      if (!accepts(text)) return true;
      const s = text as string;
      return s.trim().length > 0 && !s.includes('\u0000') && !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s) && [...s].length <= 4000;
    }), { numRuns: 2000 });
  });

  it('counts characters, not UTF-16 units: 4,000 emoji pass, 4,001 do not', () => {
    expect(accepts('😀'.repeat(4000))).toBe(true);
    expect(accepts('😀'.repeat(4001))).toBe(false);
    expect(accepts('a\ud800')).toBe(false);
    expect(accepts('\udc00a')).toBe(false);
    expect(accepts('ok\u0000')).toBe(false);
    expect(accepts(' \n\t ')).toBe(false);
  });
});
