// GSM 03.38 (GSM-7): the alphabet that lets one SMS carry 160 characters. A single character outside it
// switches the whole text to UCS-2, where a segment holds only 70, so an alert text that would have fitted
// one message becomes three (billed three times, sometimes delivered out of order). Everything Herald
// texts therefore goes through `toGsm7` first, and `fitSms` measures in septets, not JavaScript chars.

/** The basic table: one septet each. */
const BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
/** The extension table: sent as ESC + char, so two septets each. */
const EXTENSION = '\f^{}\\[~]|€';

const BASIC_SET = new Set(BASIC);
const EXTENSION_SET = new Set(EXTENSION);

/** Close GSM-7 equivalents for common characters that NFKD cannot reduce (every value is GSM-7). */
const REPLACEMENTS: Record<string, string> = {};
const add = (chars: string, to: string) => {
  for (const c of chars) REPLACEMENTS[c] = to;
};
add('\u2018\u2019\u201A\u201B\u2032\u2035`\u00B4\u02B9\u02BB\u02BC\u2039\u203A', "'");
add('\u201C\u201D\u201E\u201F\u2033\u2036\u00AB\u00BB\u301D\u301E', '"');
add('\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043', '-');
add('\u2026', '...');
add('\u2022\u2023\u2219\u25CF\u25E6', '*');
add('\u00B7', '.');
add('\t\v\u00A0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200A\u2028\u2029\u202F\u205F\u3000', ' ');
// Invisible joiners and variation selectors: dropped, so an emoji sequence becomes one '?' not several.
add('\u00AD\u200B\u200C\u200D\u2060\uFEFF\uFE0E\uFE0F', '');
add('\u2044\u2215', '/');
add('\u00A6', '|');
add('\u00A2', 'c');
add('\u00A9', '(c)');
add('\u00AE', '(R)');
add('\u2122', 'TM');
add('\u00D7', 'x');
add('\u00F7', '/');
add('\u0153', 'oe');
add('\u0152', 'OE');
add('\u0142', 'l');
add('\u0141', 'L');
add('\u0111\u00F0', 'd');
add('\u0110\u00D0', 'D');
add('\u00FE', 'th');
add('\u00DE', 'Th');
add('\u0131', 'i');
add('\u0192', 'f');
add('\u0167', 't');
add('\u0166', 'T');

const isGsmChar = (c: string) => BASIC_SET.has(c) || EXTENSION_SET.has(c);

function mapChar(ch: string): string {
  if (isGsmChar(ch)) return ch;
  const r = REPLACEMENTS[ch];
  if (r !== undefined) return r;
  const cp = ch.codePointAt(0)!;
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return ' ';
  // Compatibility decomposition strips accents (á → a) and folds forms (ﬁ → fi, full-width Ａ → A).
  const decomposed = ch.normalize('NFKD');
  const base = decomposed.replace(/\p{M}/gu, '');
  if (base === '') return /\p{M}/u.test(decomposed) ? '' : '?'; // a lone combining mark adds nothing
  if (base === ch) return '?';
  let out = '';
  for (const c of base) {
    if (isGsmChar(c)) out += c;
    else if (REPLACEMENTS[c] !== undefined) out += REPLACEMENTS[c];
    else return '?';
  }
  return out;
}

/** True when every character of `s` is in the GSM-7 basic or extension table. */
export function isGsm7(s: string): boolean {
  for (const c of s) if (!isGsmChar(c)) return false;
  return true;
}

/**
 * `s` with every character outside GSM-7 replaced by a close equivalent (smart quotes → ', dashes → -,
 * … → ..., accents stripped, ligatures split) or '?' when there is none. Idempotent; never longer than
 * needed (invisible joiners are dropped).
 */
export function toGsm7(s: string): string {
  let out = '';
  for (const ch of s.normalize('NFC')) out += mapChar(ch);
  return out;
}

/** Septets `s` takes once converted with `toGsm7` (extension-table characters count 2). */
export function gsm7Length(s: string): number {
  let n = 0;
  for (const c of toGsm7(s)) n += EXTENSION_SET.has(c) ? 2 : 1;
  return n;
}

const septets = (gsm: string) => {
  let n = 0;
  for (const c of gsm) n += EXTENSION_SET.has(c) ? 2 : 1;
  return n;
};

const ELLIPSIS = '...';

/**
 * `prefix + title + suffix` in GSM-7, at most `limit` septets, cutting only the title (ending it with
 * "..."; on a word boundary when one is close). Prefix and suffix are never cut: the suffix carries the
 * reply code, and a text without it cannot be acted on. When prefix and suffix alone exceed the limit the
 * title is dropped and the result is longer than `limit` (a multi-segment text beats an unusable one).
 */
export function fitSms(prefix: string, title: string, suffix: string, limit = 160): string {
  const p = toGsm7(prefix);
  const t = toGsm7(title);
  const x = toGsm7(suffix);
  if (septets(p) + septets(t) + septets(x) <= limit) return p + t + x;
  const budget = limit - septets(p) - septets(x) - ELLIPSIS.length;
  if (budget <= 0) return p + x;
  let cut = '';
  let used = 0;
  for (const c of t) {
    const w = EXTENSION_SET.has(c) ? 2 : 1;
    if (used + w > budget) break;
    cut += c;
    used += w;
  }
  // Prefer ending on a whole word, unless that throws away much of the title.
  const next = t.charAt(cut.length);
  if (next !== ' ' && next !== '\n') {
    const space = cut.lastIndexOf(' ');
    if (space > 0 && cut.length - space <= 15) cut = cut.slice(0, space);
  }
  cut = cut.replace(/[\s.,;:\-]+$/, '');
  if (cut === '') return p + x;
  return p + cut + ELLIPSIS + x;
}

/** For tests and callers that want to check a replacement table entry. */
export const GSM7_BASIC = BASIC;
export const GSM7_EXTENSION = EXTENSION;
export const GSM7_REPLACEMENTS: Readonly<Record<string, string>> = REPLACEMENTS;
