// The preferences contract. Unknown fields are refused; a priority's channel list, when given, is never
// empty (nobody can opt out of being reached: leave the priority out to get every channel the rule names).
import { z } from 'zod';
import { CHANNEL_KINDS } from '../model/channels';
import { PRIORITIES } from '../model/levels';
import { DIGEST_FREQUENCIES } from '../model/preferences';

const ClockTime = z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'a time is HH:MM on a 24-hour clock, e.g. "22:00"');
const channelList = z.array(z.enum(CHANNEL_KINDS)).min(1, 'keep at least one channel (leave the priority out to get every channel the rule names)').max(CHANNEL_KINDS.length);

export const PreferencesSchema = z.object({
  channels: z.object({ critical: channelList, high: channelList, normal: channelList, low: channelList }).partial().strict().default({}),
  quiet_hours: z.object({
    start: ClockTime,
    end: ClockTime,
    except: z.array(z.enum(PRIORITIES)).max(PRIORITIES.length).default(['critical']),
  }).strict().refine((q) => q.start !== q.end, { message: 'quiet hours must end at another time than they start', path: ['end'] }).nullable().default(null),
  digest: z.object({
    frequency: z.enum(DIGEST_FREQUENCIES).default('off'),
    at: ClockTime.default('08:00'),
  }).strict().default({ frequency: 'off', at: '08:00' }),
}).strict();
