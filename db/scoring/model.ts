// Model scores: logistic regression fitted by iteratively reweighted least squares (Newton's method) with a
// small ridge penalty, the linear algebra (the Newton step's solve) done by ml-matrix (mljs). Pure functions,
// no database: db/scoring/train.ts feeds them the labelled entities.
//
// Features: numeric attributes are standardised on the training rows (a missing or non-numeric value is the
// mean, i.e. 0); category attributes are one-hot over their 20 most frequent values. The ridge penalty keeps
// the coefficients finite when a feature separates the classes perfectly (and tames collinear one-hot
// columns). The split is by a hash of the entity id, so the same entity stays on the same side across runs.
import { Matrix, solve } from 'ml-matrix';
import { getField, num } from '../rules/match';
import { asEvent, designRow, sigmoid, type EntityState } from './compute';
import type { ModelSpec, TrainedModel } from './schema';

export interface Labelled extends EntityState { label: 0 | 1 }

export type FitResult =
  | { ok: true; model: Omit<TrainedModel, 'version' | 'trained_at'>; train_n: number; holdout_n: number; train_auc: number | null; positives: number; negatives: number }
  | { ok: false; reason: string; positives: number; negatives: number };

const MAX_LEVELS = 20;
const RIDGE = 1;
const MAX_ITER = 30;

/** FNV-1a of the id, as a fraction in [0, 1): the entity's side of the split. */
export function splitPoint(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) { h ^= id.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
  return h / 2 ** 32;
}

/** Area under the ROC curve (Mann–Whitney, ties averaged); null without both classes. */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>): number | null {
  const idx = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let pos = 0, neg = 0, rankSum = 0;
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]] === scores[idx[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (labels[idx[k]] === 1) { rankSum += rank; pos++; } else neg++;
    i = j + 1;
  }
  if (!pos || !neg) return null;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

function buildColumns(spec: ModelSpec, train: Labelled[]): TrainedModel['columns'] {
  const cols: TrainedModel['columns'] = [];
  for (const f of spec.features) {
    if (f.type === 'numeric') {
      let n = 0, sum = 0, sq = 0;
      for (const r of train) {
        const v = num(getField(asEvent(r), f.field));
        if (v === undefined || !Number.isFinite(v) || Math.abs(v) > 1e12) continue;
        n++; sum += v; sq += v * v;
      }
      const mean = n ? sum / n : 0;
      const sd = n > 1 ? Math.sqrt(Math.max(0, sq / n - mean * mean)) : 0;
      cols.push({ name: f.field, field: f.field, type: 'numeric', mean, sd: sd > 1e-12 ? sd : 1 });
    } else {
      const freq = new Map<string, number>();
      for (const r of train) {
        const v = getField(asEvent(r), f.field);
        if (v === undefined || v === null || typeof v === 'object') continue;
        const k = String(v).slice(0, 100);
        freq.set(k, (freq.get(k) ?? 0) + 1);
      }
      [...freq].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, MAX_LEVELS)
        .forEach(([level]) => cols.push({ name: `${f.field}=${level}`, field: f.field, type: 'category', level, mean: 0, sd: 1 }));
    }
  }
  return cols;
}

/** Newton–IRLS with ridge (the intercept unpenalised). X is row-major with the intercept in column 0. */
function irls(X: Float64Array, y: Uint8Array, n: number, p: number): Float64Array {
  const beta = new Float64Array(p);
  const eta = new Float64Array(n);
  for (let iter = 0; iter < MAX_ITER; iter++) {
    const H = Array.from({ length: p }, () => new Float64Array(p));
    const g = new Float64Array(p);
    for (let i = 0; i < n; i++) {
      const o = i * p;
      let z = 0;
      for (let j = 0; j < p; j++) z += X[o + j] * beta[j];
      eta[i] = z;
      const pr = sigmoid(z);
      const w = Math.max(pr * (1 - pr), 1e-10);
      const r = y[i] - pr;
      for (let j = 0; j < p; j++) {
        const xj = X[o + j];
        if (xj === 0) continue;
        g[j] += r * xj;
        const wx = w * xj;
        const Hj = H[j];
        for (let k = j; k < p; k++) Hj[k] += wx * X[o + k];
      }
    }
    for (let j = 0; j < p; j++) {
      for (let k = 0; k < j; k++) H[j][k] = H[k][j];
      if (j > 0) { H[j][j] += RIDGE; g[j] -= RIDGE * beta[j]; }
    }
    const step = solve(new Matrix(H.map((r) => Array.from(r))), Matrix.columnVector(Array.from(g))).to1DArray();
    let max = 0;
    for (let j = 0; j < p; j++) {
      const d = Number.isFinite(step[j]) ? step[j] : 0;
      beta[j] += d;
      max = Math.max(max, Math.abs(d));
    }
    if (max < 1e-8) break;
  }
  return beta;
}

/** Fits the model on the labelled entities (those whose split point is past `holdout`), measures it on the rest. */
export function fit(spec: ModelSpec, rows: Labelled[]): FitResult {
  const positives = rows.filter((r) => r.label === 1).length;
  const negatives = rows.length - positives;
  const { positive, negative } = spec.outcome;
  if (!positives || !negatives) {
    return { ok: false, positives, negatives, reason: `only one outcome is known (${positives} ${positive.type}, ${negatives} ${negative.type}): a model needs both` };
  }
  if (positives < spec.min_per_class || negatives < spec.min_per_class) {
    return { ok: false, positives, negatives, reason: `too few outcomes: ${positives} ${positive.type} and ${negatives} ${negative.type}; at least ${spec.min_per_class} of each are needed` };
  }
  const train = rows.filter((r) => splitPoint(r.id) >= spec.holdout);
  const held = rows.filter((r) => splitPoint(r.id) < spec.holdout);
  const heldPos = held.filter((r) => r.label === 1).length;
  if (!heldPos || heldPos === held.length || !train.some((r) => r.label === 1) || train.every((r) => r.label === 1)) {
    return { ok: false, positives, negatives, reason: 'the held-out split does not contain both outcomes; more labelled entities are needed' };
  }
  const columns = buildColumns(spec, train);
  const p = columns.length + 1;
  const design = (set: Labelled[]) => {
    const X = new Float64Array(set.length * p);
    const y = new Uint8Array(set.length);
    set.forEach((r, i) => {
      X[i * p] = 1;
      X.set(designRow({ columns }, asEvent(r)).x, i * p + 1);
      y[i] = r.label;
    });
    return { X, y };
  };
  const tr = design(train);
  const beta = irls(tr.X, tr.y, train.length, p);
  const predict = (X: Float64Array, n: number) => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let z = 0;
      for (let j = 0; j < p; j++) z += X[i * p + j] * beta[j];
      out[i] = sigmoid(z);
    }
    return out;
  };
  const ho = design(held);
  const hp = predict(ho.X, held.length);
  const bins = Array.from({ length: 10 }, (_, b) => ({ bin: `${b * 10}-${b * 10 + 10}%`, predicted: 0, observed: 0, n: 0 }));
  hp.forEach((pr, i) => {
    const b = bins[Math.min(9, Math.floor(pr * 10))];
    b.n++; b.predicted += pr; b.observed += ho.y[i];
  });
  const round = (x: number) => Math.round(x * 1e4) / 1e4;
  const coefficients: Record<string, number> = { intercept: round(beta[0]) };
  columns.forEach((c, j) => { coefficients[c.name] = round(beta[j + 1]); });
  return {
    ok: true, positives, negatives, train_n: train.length, holdout_n: held.length,
    train_auc: auc(predict(tr.X, train.length), tr.y),
    model: {
      samples: rows.length, auc: auc(hp, ho.y), coefficients, columns,
      calibration: bins.filter((b) => b.n).map((b) => ({ bin: b.bin, predicted: round(b.predicted / b.n), observed: round(b.observed / b.n), n: b.n })),
    },
  };
}
