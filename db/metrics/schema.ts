// The metric contract (docs/design.md "KPI metrics and role dashboards"). Unknown fields are rejected so a
// typo never silently measures something else.
import { z } from 'zod';
import { text } from '../platform/input';
import { ConditionSchema } from '../rules/schema';

const slug = z.string().min(1).max(64).regex(/^[a-z0-9][a-z0-9_.-]*$/, 'use lowercase letters, digits, _ . -');
export const metricKey = z.string().min(1).max(64).regex(/^[a-z0-9][a-z0-9_-]*$/, 'a key is lowercase letters, digits, _ and -');
const field = z.string().max(200).regex(/^(metadata|entity)(\.[A-Za-z0-9_-]+)+$/, 'a field is metadata.<path> or entity.<path>');

export const AGGREGATES = ['count', 'sum', 'avg', 'min', 'max', 'p50', 'p90', 'distinct', 'latest'] as const;
export type Aggregate = (typeof AGGREGATES)[number];
/** Aggregates that need a numeric field. */
export const NUMERIC_AGGREGATES: readonly Aggregate[] = ['sum', 'avg', 'min', 'max', 'p50', 'p90', 'latest'];

/**
 * What a lifecycle metric's thresholds (and a KPI widget's `options.measure`) compare. `value` is the open
 * count; `open_amount_over_<N>d` / `open_count_over_<N>d` are the open items older than N days (overdue);
 * `closed_share:<type>` is the share (0–1) of items closed by that closing type in the window.
 */
export const LIFECYCLE_MEASURE = z.string().regex(
  /^(value|open_count|open_amount|time_to_close_(p50|mean)_(s|days)|open_(amount|count)_over_\d{1,4}d|closed_share:[a-z0-9][a-z0-9_.-]{0,63})$/,
  'a measure is value, open_count, open_amount, time_to_close_p50_s|_days, time_to_close_mean_s|_days, open_amount_over_<N>d, open_count_over_<N>d or closed_share:<type>',
);

const window = z.string().regex(/^[1-9]\d{0,4}[mhdw]$/, 'a window is a number and m, h, d or w, e.g. 30d');

const Thresholds = z
  .object({
    warn: z.number().finite(),
    crit: z.number().finite(),
    window: window.default('30d'),
    on: LIFECYCLE_MEASURE.optional(),
  })
  .strict();

const Common = {
  key: metricKey,
  name: text().trim().min(1).max(200),
  field: field.optional(),
  unit: text().max(20).optional(),
  good: z.enum(['up', 'down']).default('up'),
  thresholds: Thresholds.optional(),
  anomaly: z.object({ sensitivity: z.number().positive().max(20).default(3) }).strict().optional(),
  description: text().max(2000).optional(),
};

const EventRef = z.object({ category: slug, type: slug }).strict();

export const BucketMetricSchema = z
  .object({
    ...Common,
    source: z.object({ category: slug, type: slug.optional() }).strict(),
    aggregate: z.enum(AGGREGATES, { message: `aggregate is one of ${AGGREGATES.join(', ')} or lifecycle` }),
    group_by: field.optional(),
    conditions: z.array(ConditionSchema).max(50).default([]),
  })
  .strict();

export const LifecycleMetricSchema = z
  .object({
    ...Common,
    aggregate: z.literal('lifecycle'),
    lifecycle: z
      .object({ open: EventRef, close: z.array(EventRef).min(1).max(10), by: z.literal('entity').default('entity') })
      .strict(),
  })
  .strict();

export const MetricInputSchema = z
  .discriminatedUnion('aggregate', [LifecycleMetricSchema, BucketMetricSchema.extend({ aggregate: z.enum(AGGREGATES) })], {
    error: (iss) => (iss.code === 'invalid_union' ? `aggregate is one of ${AGGREGATES.join(', ')} or lifecycle` : undefined),
  })
  .superRefine((m, ctx) => {
    if (m.aggregate === 'lifecycle') {
      const { open, close } = m.lifecycle;
      close.forEach((c, i) => {
        if (c.category === open.category && c.type === open.type)
          ctx.addIssue({ code: 'custom', path: ['lifecycle', 'close', i, 'type'], message: 'a closing event must differ from the opening event' });
      });
      const seen = new Set<string>();
      close.forEach((c, i) => {
        const k = `${c.category}/${c.type}`;
        if (seen.has(k)) ctx.addIssue({ code: 'custom', path: ['lifecycle', 'close', i], message: `${k} is listed twice` });
        seen.add(k);
      });
      if (m.anomaly) ctx.addIssue({ code: 'custom', path: ['anomaly'], message: 'anomaly detection needs a bucketed metric (not lifecycle)' });
    } else {
      if (m.aggregate !== 'count' && !m.field)
        ctx.addIssue({ code: 'custom', path: ['field'], message: `aggregate ${m.aggregate} needs a field` });
      if (m.thresholds?.on && m.thresholds.on !== 'value')
        ctx.addIssue({ code: 'custom', path: ['thresholds', 'on'], message: 'only lifecycle metrics have other measures than value' });
    }
    if (m.thresholds) {
      const { warn, crit } = m.thresholds;
      const good = m.good ?? 'up';
      if (good === 'down' && crit < warn)
        ctx.addIssue({ code: 'custom', path: ['thresholds', 'crit'], message: 'when lower is good, crit must be at or above warn' });
      if (good === 'up' && crit > warn)
        ctx.addIssue({ code: 'custom', path: ['thresholds', 'crit'], message: 'when higher is good, crit must be at or below warn' });
    }
  });

export type MetricInput = z.output<typeof MetricInputSchema>;
export type BucketMetric = z.output<typeof BucketMetricSchema>;
export type LifecycleMetric = z.output<typeof LifecycleMetricSchema>;

/** A PATCH is a partial definition merged over the stored one, then validated whole. */
export const MetricPatchSchema = z.record(z.string(), z.unknown());

export interface MetricRow {
  id: number;
  org_id: number;
  key: string;
  name: string;
  definition: MetricInput;
  version: number;
  hwm: number;
  caught_up: boolean;
  rebuild_progress: number;
  skipped: Record<string, number>;
  threshold_state: 'ok' | 'warn' | 'crit';
  crossings: number;
  created_at: Date;
  updated_at: Date;
}

/** Parses "30d" / "12h" / "90m" / "2w" into milliseconds. */
export function windowMs(w: string): number {
  const n = Number(w.slice(0, -1));
  const unit = w.slice(-1);
  return n * (unit === 'm' ? 60_000 : unit === 'h' ? 3_600_000 : unit === 'd' ? 86_400_000 : 7 * 86_400_000);
}
export const WindowSchema = window;
