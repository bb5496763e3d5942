// A person's notification preferences (docs/design.md "People: on-call, preferences, quiet hours,
// digests") and the plain-language sentence that says what they mean. Shared with the PWA (the Settings
// page previews the sentence while it is edited): types and pure functions only, no imports outside db/model.
import type { ChannelKind } from './channels';
import { CHANNEL_LABELS } from './channels';
import type { Priority } from './levels';
import { PRIORITIES } from './levels';

export const DIGEST_FREQUENCIES = ['off', 'daily', 'weekly'] as const;
export type DigestFrequency = (typeof DIGEST_FREQUENCIES)[number];

export interface Preferences {
  /** Per priority, the channels the person wants (chosen among those a rule allows). Absent: every channel the rule names. */
  channels: Partial<Record<Priority, ChannelKind[]>>;
  /** Wall-clock times in the person's time zone; notifications below the exceptions wait until `end`. */
  quiet_hours: { start: string; end: string; except: Priority[] } | null;
  /** Low-priority notifications go to one message per period (weekly: on Mondays) instead of one each. */
  digest: { frequency: DigestFrequency; at: string };
}

export const DEFAULT_PREFERENCES: Preferences = { channels: {}, quiet_hours: null, digest: { frequency: 'off', at: '08:00' } };

/** Does the person's low-priority traffic go to the digest? */
export const digestOn = (p: Preferences) => p.digest.frequency !== 'off';

function joinAnd(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

const NAMES: Record<Priority, string> = { critical: 'Critical', high: 'High', normal: 'Normal', low: 'Low' };

/**
 * "Critical alerts reach you by SMS and Push at any hour; low ones wait for your 08:00 digest."
 * One clause per priority, most urgent first; priorities that read the same are joined.
 */
export function preferencesPreview(p: Preferences): string {
  const clauses: Array<{ priorities: Priority[]; text: string }> = [];
  for (const pr of [...PRIORITIES].reverse()) {
    let text: string;
    if (pr === 'low' && digestOn(p)) {
      text = `wait for your ${p.digest.frequency === 'weekly' ? 'Monday ' : ''}${p.digest.at} digest (in-app right away)`;
    } else {
      const chosen = p.channels[pr];
      const how = chosen?.length ? `by ${joinAnd(chosen.map((c) => CHANNEL_LABELS[c]))}` : "by every channel the rule names";
      const when = p.quiet_hours && !p.quiet_hours.except.includes(pr)
        ? `, except ${p.quiet_hours.start}–${p.quiet_hours.end}, when they wait until ${p.quiet_hours.end}`
        : ' at any hour';
      text = `reach you ${how}${when}`;
    }
    const same = clauses.find((c) => c.text === text);
    if (same) same.priorities.push(pr); else clauses.push({ priorities: [pr], text });
  }
  const sentence = clauses.map((c, i) => {
    const who = joinAnd(c.priorities.map((x, j) => (i === 0 && j === 0 ? NAMES[x] : NAMES[x].toLowerCase())));
    return `${who} ${i === 0 ? 'alerts' : 'ones'} ${c.text}`;
  }).join('; ');
  return `${sentence}.`;
}
