// The schedule contract (docs/design.md "People: on-call, preferences, quiet hours, digests"). Unknown
// fields are refused so a typo never silently does nothing.
import { z } from 'zod';

/** "09:00": a wall-clock time, 24-hour. */
export const ClockTime = z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'a time is HH:MM on a 24-hour clock, e.g. "09:00"');

/** An IANA time zone the JavaScript runtime knows (Postgres is asked too, before anything is saved). */
export const TimeZone = z.string().min(1).max(64).refine((tz) => {
  try { new Intl.DateTimeFormat('en', { timeZone: tz }); return true; } catch { return false; }
}, 'unknown IANA time zone (e.g. "Europe/Berlin")');

export const ShiftSchema = z.union([
  z.enum(['daily', 'weekly']),
  z.object({ hours: z.number().int().min(1).max(24 * 7 * 4) }).strict(),
], { message: 'shift is "daily", "weekly" or {"hours": N}' });
export type Shift = z.output<typeof ShiftSchema>;

export const RotationSchema = z.object({
  users: z.array(z.number().int().positive()).min(1, 'a rotation needs at least one person').max(100),
  shift: ShiftSchema,
  handoff: ClockTime.default('09:00'),
  starts_on: z.iso.date('starts_on is a date, e.g. "2026-03-23"'),
}).strict();

const Instant = z.iso.datetime({ offset: true, message: 'an ISO 8601 date-time with a time zone, e.g. "2026-03-23T18:00:00Z"' });

export const OverrideSchema = z.object({
  user_id: z.number().int().positive(),
  starts_at: Instant,
  ends_at: Instant,
}).strict().superRefine((o, ctx) => {
  if (Date.parse(o.ends_at) <= Date.parse(o.starts_at)) ctx.addIssue({ code: 'custom', path: ['ends_at'], message: 'an override must end after it starts' });
});
export type OverrideInput = z.output<typeof OverrideSchema>;

export const ScheduleInputSchema = z.object({
  // Postgres text cannot hold U+0000: refused here, by name, rather than failing the write.
  name: z.string().trim().min(1).max(200).refine((n) => !n.includes('\u0000'), 'a name cannot contain the NUL character (\\u0000)'),
  timezone: TimeZone,
  rotations: z.array(RotationSchema).max(10).default([]),
  overrides: z.array(OverrideSchema).max(500).default([]),
}).strict();
export type ScheduleInput = z.output<typeof ScheduleInputSchema>;

export const shiftHours = (s: Shift): number => (s === 'daily' ? 24 : s === 'weekly' ? 168 : s.hours);

export const RangeQuerySchema = z.object({
  from: Instant.optional(),
  to: Instant.optional(),
});

export const AtQuerySchema = z.object({ at: Instant.optional() });
