// The score contract (docs/design.md "Scoring (the scoring jobs)"). Unknown fields are rejected so a typo never
// silently scores something else; every impossible definition is a 400 naming the field, when saved.
import { z } from 'zod';
import { SEVERITIES } from '../model/levels';
import { text } from '../platform/input';
import { ConditionSchema } from '../rules/schema';

const slug = text().min(1).max(64).regex(/^[a-z0-9][a-z0-9_.-]*$/, 'use lowercase letters, digits, _ . -');
export const scoreKey = z.string().min(1).max(64).regex(/^[a-z0-9][a-z0-9_-]*$/, 'a key is lowercase letters, digits, _ and -');
export const entityKind = text().min(1).max(64);
const field = text().max(200).regex(/^(metadata|entity)(\.[A-Za-z0-9_-]+)+$/, 'a field is metadata.<path> or entity.<path>');
const finite = (max = 1e9) => z.number().finite().min(-max).max(max);
const label = text().trim().min(1).max(120);

/** Points when a condition on the entity holds (the rule condition ops; `metadata.x` is the attribute x). */
const PointsFactor = z
  .object({ field: z.unknown(), op: z.unknown(), value: z.unknown().optional(), points: finite(), name: label.optional() })
  .strict()
  .transform((f, ctx) => {
    const { points, name, ...cond } = f;
    const r = ConditionSchema.safeParse(cond);
    if (!r.success) {
      for (const i of r.error.issues) ctx.addIssue({ code: 'custom', path: i.path as (string | number)[], message: i.message });
      return z.NEVER;
    }
    return { ...r.data, points, ...(name ? { name } : {}) };
  });

/** weight × the numeric attribute, mapped linearly onto 0–1 by `scale` first (clamped) when given. */
const WeightFactor = z
  .object({
    field,
    weight: finite(),
    scale: z.object({ min: finite(1e12), max: finite(1e12) }).strict()
      .refine((s) => s.max > s.min, { message: 'scale.max must be greater than scale.min', path: ['max'] }).optional(),
    name: label.optional(),
  })
  .strict();

/** points × how many events of a type the entity had in the last `days` days (counted at most `cap` times). */
const CountFactor = z
  .object({
    count: z.object({ category: slug, type: slug, days: z.number().int().min(1).max(3650) }).strict(),
    points: finite(),
    cap: z.number().int().min(1).max(1_000_000).optional(),
    name: label.optional(),
  })
  .strict();

export type Factor = z.output<typeof CountFactor> | z.output<typeof WeightFactor> | z.output<typeof PointsFactor>;

/** A factor's shape is chosen by its keys (`count`, `weight`, else a condition with points), so errors name the right fields. */
export const FactorSchema = z.unknown().transform((v, ctx): Factor => {
  const o = v && typeof v === 'object' && !Array.isArray(v) ? v : null;
  const s = o && 'count' in o ? CountFactor : o && 'weight' in o ? WeightFactor : PointsFactor;
  const r = (s as z.ZodType<Factor>).safeParse(v);
  if (!r.success) {
    for (const i of r.error.issues) ctx.addIssue({ code: 'custom', path: i.path as (string | number)[], message: i.message });
    return z.NEVER;
  }
  return r.data;
});

const Threshold = z
  .object({
    below: finite().optional(),
    above: finite().optional(),
    severity: z.enum(SEVERITIES).default('warning'),
    title: label,
  })
  .strict()
  .superRefine((t, ctx) => {
    if ((t.below === undefined) === (t.above === undefined)) ctx.addIssue({ code: 'custom', path: ['below'], message: 'a threshold has exactly one of below or above' });
  });
export type Threshold = z.output<typeof Threshold>;

const EventRef = z.object({ category: slug, type: slug }).strict();
const Feature = z.union([
  field.transform((f) => ({ field: f, type: 'numeric' as const })),
  z.object({ field, type: z.enum(['numeric', 'category']).default('numeric') }).strict(),
]);
export type Feature = z.output<typeof Feature>;

const ModelSpec = z
  .object({
    kind: z.literal('logistic'),
    outcome: z.object({ positive: EventRef, negative: EventRef }).strict(),
    features: z.array(Feature).min(1).max(50),
    /** Share of the labelled entities held out to measure AUC and calibration (default 0.25). */
    holdout: z.number().min(0.1).max(0.5).default(0.25),
    /** Fewest labelled entities of each class needed to train (default 20). */
    min_per_class: z.number().int().min(5).max(1_000_000).default(20),
  })
  .strict()
  .superRefine((m, ctx) => {
    const { positive: p, negative: n } = m.outcome;
    if (p.category === n.category && p.type === n.type) ctx.addIssue({ code: 'custom', path: ['outcome', 'negative'], message: 'the positive and negative outcomes must be different event types' });
    const seen = new Set<string>();
    m.features.forEach((f, i) => {
      if (seen.has(f.field)) ctx.addIssue({ code: 'custom', path: ['features', i], message: `feature ${f.field} is listed twice` });
      seen.add(f.field);
    });
  });
export type ModelSpec = z.output<typeof ModelSpec>;

const Base = {
  name: text().trim().min(1).max(200),
  entity_kind: entityKind,
  description: text().max(2000).optional(),
  /** The value before any factor applies (default 0). */
  base: finite().default(0),
  factors: z.array(FactorSchema).max(50).default([]),
  range: z.tuple([finite(1e12), finite(1e12)]).optional(),
  thresholds: z.array(Threshold).max(10).default([]),
  model: ModelSpec.optional(),
};

/** The reachable interval of a factor's contribution (null: unbounded). */
function reach(f: Factor): [number, number] | null {
  if ('count' in f) return f.cap ? [Math.min(0, f.points * f.cap), Math.max(0, f.points * f.cap)] : null;
  if ('weight' in f) return f.scale ? [Math.min(0, f.weight), Math.max(0, f.weight)] : null;
  return [Math.min(0, f.points), Math.max(0, f.points)];
}

function checkDefinition(d: { base: number; factors: Factor[]; range?: [number, number]; thresholds: Threshold[]; model?: ModelSpec }, ctx: z.RefinementCtx) {
  if (d.model && d.factors.length) ctx.addIssue({ code: 'custom', path: ['factors'], message: 'a model score has features, not factors' });
  if (!d.model && !d.factors.length) ctx.addIssue({ code: 'custom', path: ['factors'], message: 'a score needs at least one factor (or a model)' });
  const range = d.range ?? (d.model ? [0, 100] as [number, number] : undefined);
  if (d.range && d.range[0] >= d.range[1]) ctx.addIssue({ code: 'custom', path: ['range'], message: 'range is [min, max] with min < max' });
  if (d.model && d.range && (d.range[0] > 0 || d.range[1] < 100)) ctx.addIssue({ code: 'custom', path: ['range'], message: 'a model score is a probability × 100: its range must include 0–100' });
  if (range && range[0] < range[1] && !d.model) {
    // Weights that make the range impossible: every value the factors can reach lies outside it.
    let lo = d.base, hi = d.base;
    let bounded = true;
    for (const f of d.factors) {
      const r = reach(f);
      if (!r) { bounded = false; break; }
      lo += r[0]; hi += r[1];
    }
    if (bounded && (hi < range[0] || lo > range[1])) {
      ctx.addIssue({ code: 'custom', path: ['range'], message: `the factors reach only ${lo} to ${hi} (base included), outside the range ${range[0]}–${range[1]}` });
    }
  }
  if (range) d.thresholds.forEach((t, i) => {
    const at = t.below ?? t.above!;
    if (at < range[0] || at > range[1] || (t.below !== undefined && at === range[0]) || (t.above !== undefined && at === range[1])) {
      ctx.addIssue({ code: 'custom', path: ['thresholds', i, t.below !== undefined ? 'below' : 'above'], message: `the value can never cross ${at} within the range ${range[0]}–${range[1]}` });
    }
  });
}

export const ScoreInputSchema = z.object({ key: scoreKey, ...Base }).strict().superRefine(checkDefinition);
export type ScoreInput = z.output<typeof ScoreInputSchema>;
export type ScoreDefinition = Omit<ScoreInput, 'key'> & { key: string };

export interface ScoreRow {
  id: number;
  org_id: number;
  key: string;
  name: string;
  entity_kind: string;
  definition: ScoreDefinition;
  version: number;
  model: TrainedModel | null;
  created_at: Date;
  updated_at: Date;
}

/** A trained model as kept with the score (the version in use). */
export interface TrainedModel {
  version: number;
  trained_at: string;
  samples: number;
  auc: number | null;
  /** Coefficients on the standardised features: `intercept`, `<field>` or `<field>=<category>`. */
  coefficients: Record<string, number>;
  /** How each column is built from the attributes (means and scales for numeric ones, levels for categories). */
  columns: Array<{ name: string; field: string; type: 'numeric' | 'category'; level?: string; mean: number; sd: number }>;
  calibration: Array<{ bin: string; predicted: number; observed: number; n: number }>;
}

export interface ExplanationItem {
  factor: string;
  contribution: number;
  /** applied | not_met | missing | not_numeric | base | feature */
  status: string;
  value?: unknown;
}

export const EntityRefSchema = z.object({ kind: entityKind, id: text().min(1).max(255) });
