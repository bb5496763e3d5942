// Parses what a person texts back (docs/design.md "Acting on an alert, per channel": SMS). The input comes from
// any phone, so this never throws and reads at most MAX_REPLY_CHARS; anything it cannot read with
// certainty is `unknown` (answered with help) rather than a guess that acts on the wrong alert.
//
// Grammar, after folding case, accents, full-width forms and dropping quotes/punctuation/emoji:
//   <code> <action> [duration]        4a  4 ack  "4R"  4c  4s  4s 30  4 snooze 2h
//   <action> <code> [duration]        ack 4   s 4 30m
//   <action> #<alert id> [duration]   ack #1042   #1042 r
//   <action> [duration with unit]     a   r   s   s 30m   (the latest alert texted to this phone)
//   STOP STOPALL UNSUBSCRIBE CANCEL END QUIT | START YES UNSTOP | HELP INFO   (the whole message)
// A bare number after an action is a code, never minutes ("s 30" snoozes code 30): if the person meant
// minutes the engine answers "no alert 30", which is harmless; the other reading could snooze the wrong alert.

export type SmsAction = 'ack' | 'resolve' | 'snooze';
export type SmsTarget = { code: number } | { alertId: number } | { latest: true };

export type SmsCommand =
  | { kind: 'action'; action: SmsAction; target: SmsTarget; minutes?: number }
  | { kind: 'stop' }
  | { kind: 'start' }
  | { kind: 'help' }
  | { kind: 'unknown' };

export const MAX_REPLY_CHARS = 500;
export const DEFAULT_SNOOZE_MINUTES = 60;
export const MAX_SNOOZE_MINUTES = 7 * 24 * 60;
/** Reply codes are the smallest free number per phone, so they stay small; more digits is not a code. */
export const MAX_CODE = 99_999;

// Twilio's default opt-out, opt-in and help keywords; Twilio acts on them only when they are the whole
// message, and Herald mirrors Twilio's state, so the same rule applies here.
const STOP_WORDS = new Set(['stop', 'stopall', 'unsubscribe', 'cancel', 'end', 'quit']);
const START_WORDS = new Set(['start', 'yes', 'unstop']);
const HELP_WORDS = new Set(['help', 'info']);

const ACTION_WORDS: Record<string, SmsAction> = {
  a: 'ack',
  ack: 'ack',
  acked: 'ack',
  acknowledge: 'ack',
  acknowledged: 'ack',
  r: 'resolve',
  resolve: 'resolve',
  resolved: 'resolve',
  c: 'resolve',
  close: 'resolve',
  closed: 'resolve',
  s: 'snooze',
  snooze: 'snooze',
};

const UNIT_MINUTES: Record<string, number> = {
  m: 1,
  min: 1,
  mins: 1,
  minute: 1,
  minutes: 1,
  h: 60,
  hr: 60,
  hrs: 60,
  hour: 60,
  hours: 60,
};

type Token = { t: 'num'; v: string } | { t: 'id'; v: string } | { t: 'word'; v: string } | { t: 'junk' };

const UNKNOWN: SmsCommand = { kind: 'unknown' };

function tokenize(text: string): Token[] {
  const s = text
    .slice(0, MAX_REPLY_CHARS)
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase();
  const tokens: Token[] = [];
  // ASCII digits and letters are split from each other ("4s30" → 4 s 30); any other letter or digit
  // (Cyrillic, Arabic-Indic…) is junk that makes the reply unreadable rather than being skipped over.
  for (const m of s.matchAll(/#\s*([0-9]+)|([0-9]+)|([a-z]+)|([\p{L}\p{N}]+)/gu)) {
    if (m[1] !== undefined) tokens.push({ t: 'id', v: m[1] });
    else if (m[2] !== undefined) tokens.push({ t: 'num', v: m[2] });
    else if (m[3] !== undefined) tokens.push({ t: 'word', v: m[3] });
    else tokens.push({ t: 'junk' });
    if (tokens.length > 8) break; // no valid reply is this long
  }
  return tokens;
}

/** The integer a digit string denotes, or null when it is 0 or longer than `maxDigits` significant digits. */
function positive(digits: string, maxDigits: number): number | null {
  const d = digits.replace(/^0+/, '');
  if (d === '' || d.length > maxDigits) return null;
  return Number(d);
}

const codeOf = (digits: string) => {
  const n = positive(digits, String(MAX_CODE).length);
  return n !== null && n <= MAX_CODE ? n : null;
};
const alertIdOf = (digits: string) => positive(digits, 15);

/** Minutes from the tokens after a snooze: nothing (1 h), `30`, `30 m`, `2 hours`, optionally after "for". */
function durationOf(rest: Token[]): number | null {
  let i = 0;
  if (rest[i]?.t === 'word' && (rest[i] as { v: string }).v === 'for') i++;
  if (i === rest.length) return i === 0 ? DEFAULT_SNOOZE_MINUTES : null;
  const n = rest[i];
  if (n.t !== 'num') return null;
  const value = positive(n.v, 6);
  if (value === null) return null;
  let unit = 1;
  const u = rest[i + 1];
  if (u) {
    if (u.t !== 'word' || UNIT_MINUTES[u.v] === undefined || i + 2 !== rest.length) return null;
    unit = UNIT_MINUTES[u.v];
  }
  const minutes = value * unit;
  return minutes >= 1 && minutes <= MAX_SNOOZE_MINUTES ? minutes : null;
}

const isUnit = (t: Token | undefined) => t?.t === 'word' && UNIT_MINUTES[t.v] !== undefined;

function action(act: SmsAction, target: SmsTarget, rest: Token[]): SmsCommand {
  if (act !== 'snooze') return rest.length === 0 ? { kind: 'action', action: act, target } : UNKNOWN;
  const minutes = durationOf(rest);
  return minutes === null ? UNKNOWN : { kind: 'action', action: act, target, minutes };
}

/** What an SMS reply asks for. Total: never throws, whatever the input. */
export function parseSmsReply(text: string): SmsCommand {
  try {
    return parse(typeof text === 'string' ? text : '');
  } catch {
    return UNKNOWN;
  }
}

function parse(text: string): SmsCommand {
  const tokens = tokenize(text);
  if (tokens.length === 0 || tokens.some((t) => t.t === 'junk')) return UNKNOWN;
  const [first, second] = tokens;

  if (tokens.length === 1 && first.t === 'word') {
    if (STOP_WORDS.has(first.v)) return { kind: 'stop' };
    if (START_WORDS.has(first.v)) return { kind: 'start' };
    if (HELP_WORDS.has(first.v)) return { kind: 'help' };
  }

  // <code> <action> …  or  #<id> <action> …
  if (first.t === 'num' || first.t === 'id') {
    if (second?.t !== 'word') return UNKNOWN;
    const act = ACTION_WORDS[second.v];
    if (!act) return UNKNOWN;
    const n = first.t === 'num' ? codeOf(first.v) : alertIdOf(first.v);
    if (n === null) return UNKNOWN;
    return action(act, first.t === 'num' ? { code: n } : { alertId: n }, tokens.slice(2));
  }

  if (first.t !== 'word') return UNKNOWN;
  const act = ACTION_WORDS[first.v];
  if (!act) return UNKNOWN;
  // <action> #<id> …
  if (second?.t === 'id') {
    const id = alertIdOf(second.v);
    return id === null ? UNKNOWN : action(act, { alertId: id }, tokens.slice(2));
  }
  // <action> <code> …  (a number followed by a unit is a duration, not a code)
  if (second?.t === 'num' && !isUnit(tokens[2])) {
    const code = codeOf(second.v);
    return code === null ? UNKNOWN : action(act, { code }, tokens.slice(2));
  }
  // <action> [duration]: the latest alert texted to this phone
  return action(act, { latest: true }, tokens.slice(1));
}
