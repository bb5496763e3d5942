// Score values and their explanations: pure functions, no database. They run on outside data (attributes
// merged from events), so they never throw and never produce NaN or Infinity: a factor whose attribute is
// missing, not a number or absurdly large contributes nothing and says why in the explanation.
import { conditionHolds, getField, num } from '../rules/match';
import type { MatchableEvent } from '../rules/schema';
import type { ExplanationItem, Factor, ScoreDefinition, Threshold, TrainedModel } from './schema';

export interface EntityState {
  kind: string;
  id: string;
  name: string | null;
  attributes: Record<string, unknown>;
}

/** How many events of a type the entity had in the last `days` days (the caller reads them in bulk). */
export type CountOf = (category: string, type: string, days: number) => number;

export interface Computed { value: number; explanation: ExplanationItem[] }

/** Past this size an attribute is not a usable number (weight × 1e300 would overflow to Infinity). */
const MAX_ATTRIBUTE = 1e12;
const r4 = (x: number) => Math.round(x * 1e4) / 1e4 || 0;
export const round2 = (x: number) => Math.round(x * 100) / 100 || 0;

const OP_WORDS: Record<string, string> = { eq: '=', neq: '≠', gt: '>', gte: '≥', lt: '<', lte: '≤', in: 'in', contains: 'contains', exists: 'exists', matches: 'matches' };

/** The field as a person reads it: `metadata.late_invoices` → `late_invoices`. */
export const fieldLabel = (f: string) => (f.startsWith('metadata.') ? f.slice('metadata.'.length) : f);

export function factorLabel(f: Factor): string {
  if (f.name) return f.name;
  if ('count' in f) return `${f.count.type} events in the last ${f.count.days} days`;
  if ('weight' in f) return `${fieldLabel(f.field)} × ${f.weight}${f.scale ? ` (scaled ${f.scale.min}–${f.scale.max})` : ''}`;
  const v = f.op === 'exists' ? '' : ` ${typeof f.value === 'string' ? f.value : JSON.stringify(f.value)}`;
  return `${fieldLabel(f.field)} ${OP_WORDS[f.op]}${v}`;
}

/** The event-shaped view of an entity that rule conditions read: `metadata.x` is attribute x. */
export function asEvent(e: EntityState): MatchableEvent {
  return { category: '', type: '', severity: 'info', metadata: e.attributes, entity: { kind: e.kind, id: e.id, ...(e.name !== null ? { name: e.name } : {}) } };
}

function factorValue(f: Factor, ev: MatchableEvent, countOf: CountOf): ExplanationItem {
  const factor = factorLabel(f);
  if ('count' in f) {
    const n = countOf(f.count.category, f.count.type, f.count.days);
    const used = f.cap ? Math.min(n, f.cap) : n;
    return { factor, contribution: r4(f.points * used), status: n > 0 ? 'applied' : 'not_met', value: n };
  }
  const raw = getField(ev, f.field);
  if (raw === undefined || raw === null) return { factor, contribution: 0, status: 'missing' };
  if ('weight' in f) {
    const v = num(raw);
    if (v === undefined || !Number.isFinite(v)) return { factor, contribution: 0, status: 'not_numeric', value: typeof raw === 'object' ? null : raw };
    if (Math.abs(v) > MAX_ATTRIBUTE) return { factor, contribution: 0, status: 'out_of_range', value: v };
    const x = f.scale ? Math.min(1, Math.max(0, (v - f.scale.min) / (f.scale.max - f.scale.min))) : v;
    return { factor, contribution: r4(f.weight * x), status: 'applied', value: v };
  }
  const holds = conditionHolds(f, ev);
  return { factor, contribution: holds ? r4(f.points) : 0, status: holds ? 'applied' : 'not_met', value: typeof raw === 'object' ? null : raw };
}

export function clampRange(def: ScoreDefinition): [number, number] | null {
  return def.range ?? (def.model ? [0, 100] : null);
}

/** A rule-based score: base + each factor's contribution, clamped to the range. */
export function computeFactors(def: ScoreDefinition, e: EntityState, countOf: CountOf): Computed {
  const ev = asEvent(e);
  const explanation: ExplanationItem[] = [];
  if (def.base) explanation.push({ factor: 'base', contribution: def.base, status: 'base' });
  let sum = def.base;
  for (const f of def.factors) {
    const item = factorValue(f, ev, countOf);
    sum += item.contribution;
    explanation.push(item);
  }
  const range = clampRange(def);
  const value = range ? Math.min(range[1], Math.max(range[0], sum)) : sum;
  return { value: Number.isFinite(value) ? round2(value) : 0, explanation };
}

/** The model's design row for an entity: standardised numeric columns (missing → the mean), one-hot categories. */
export function designRow(m: Pick<TrainedModel, 'columns'>, attrs: MatchableEvent): { x: Float64Array; missing: Set<string> } {
  const x = new Float64Array(m.columns.length);
  const missing = new Set<string>();
  m.columns.forEach((c, j) => {
    const raw = getField(attrs, c.field);
    if (c.type === 'numeric') {
      const v = num(raw);
      if (v === undefined || !Number.isFinite(v) || Math.abs(v) > MAX_ATTRIBUTE) { missing.add(c.field); x[j] = 0; return; }
      x[j] = (v - c.mean) / c.sd;
    } else {
      if (raw === undefined || raw === null) missing.add(c.field);
      x[j] = raw !== undefined && raw !== null && String(raw) === c.level ? 1 : 0;
    }
  });
  return { x, missing };
}

export const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/** A model score: probability × 100; each feature's contribution in log-odds against the average entity. */
export function computeModel(m: TrainedModel, e: EntityState): Computed {
  const ev = asEvent(e);
  const { x, missing } = designRow(m, ev);
  const intercept = m.coefficients.intercept ?? 0;
  let z = intercept;
  const byField = new Map<string, number>();
  m.columns.forEach((c, j) => {
    const part = (m.coefficients[c.name] ?? 0) * x[j];
    z += part;
    byField.set(c.field, (byField.get(c.field) ?? 0) + part);
  });
  const explanation: ExplanationItem[] = [{ factor: 'base rate (log-odds)', contribution: r4(intercept), status: 'base' }];
  for (const [field, part] of byField) {
    const raw = getField(ev, field);
    explanation.push({
      factor: fieldLabel(field), contribution: missing.has(field) ? 0 : r4(part), status: missing.has(field) ? 'missing' : 'feature',
      ...(raw !== undefined && (raw === null || typeof raw !== 'object') ? { value: raw } : {}),
    });
  }
  const p = sigmoid(z);
  return { value: Number.isFinite(p) ? round2(p * 100) : 50, explanation };
}

/** A threshold's identity: `below:40`, `above:80` (its limit, not its position in the list). */
export const thresholdId = (t: Pick<Threshold, 'below' | 'above'>) => (t.below !== undefined ? `below:${t.below}` : `above:${t.above}`);

/** A threshold back from its identity (for one that was removed from the definition since). */
export function thresholdOf(id: string): Pick<Threshold, 'below' | 'above'> | null {
  const m = /^(below|above):(-?[\d.e+-]+)$/.exec(id);
  if (!m || !Number.isFinite(Number(m[2]))) return null;
  return m[1] === 'below' ? { below: Number(m[2]) } : { above: Number(m[2]) };
}

/** The thresholds a value is past, by identity. */
export function pastOf(thresholds: Threshold[], value: number): string[] {
  const out: string[] = [];
  for (const t of thresholds) {
    if ((t.below !== undefined && value < t.below) || (t.above !== undefined && value > t.above)) out.push(thresholdId(t));
  }
  return out;
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2).replace(/0$/, ''));
const signed = (x: number) => (x < 0 ? `−${fmt(-x)}` : `+${fmt(x)}`);

/** The factors that pushed the value towards the threshold, largest first (at most `n`). */
export function topFactors(explanation: ExplanationItem[], direction: 'down' | 'up', n = 2): Array<{ factor: string; contribution: number }> {
  return explanation
    .filter((x) => x.status !== 'base' && (direction === 'down' ? x.contribution < 0 : x.contribution > 0))
    .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution))
    .slice(0, n)
    .map((x) => ({ factor: x.factor, contribution: x.contribution }));
}

/** "Trust score of Acme dropped to 38 (late payments −25, no contact in 30 days −15)". */
export function crossingTitle(scoreName: string, entityName: string, t: Threshold, value: number, top: Array<{ factor: string; contribution: number }>): string {
  const verb = t.below !== undefined ? 'dropped to' : 'rose to';
  const why = top.length ? ` (${top.map((f) => `${f.factor} ${signed(f.contribution)}`).join(', ')})` : '';
  return `${scoreName} of ${entityName} ${verb} ${fmt(value)}${why}`.slice(0, 500);
}

export function recoveryTitle(scoreName: string, entityName: string, t: Pick<Threshold, 'below' | 'above'>, value: number, removed = false): string {
  const side = removed
    ? `no longer watched ${t.below !== undefined ? `below ${fmt(t.below)}` : `above ${fmt(t.above!)}`} (threshold removed)`
    : t.below !== undefined ? `back at or above ${fmt(t.below)}` : `back at or below ${fmt(t.above!)}`;
  return `${scoreName} of ${entityName} ${side}: ${fmt(value)}`.slice(0, 500);
}
