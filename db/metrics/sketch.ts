// Log-scale histograms for percentiles over more values than are read one by one (metric_sketches; see the
// migration kpi_perf). A value v > 0 falls in bin 100000 + ceil(log_γ v) with γ = (1 + α) / (1 − α), α = 1 %:
// the bin's representative 2γ^k / (γ + 1) is within 1 % of every value in it, so a percentile read from the
// bins is within 1 % (relative) of a value between the two nearest ranks. 0 is bin 0; negative values mirror
// below it, so bins sort as their values do. Without the sketch a 90-day p90 sorts every stored value.
export const SKETCH_ALPHA = 0.01;
const GAMMA = (1 + SKETCH_ALPHA) / (1 - SKETCH_ALPHA);
const LN_GAMMA = Math.log(GAMMA);
const OFFSET = 100_000;
/** The grp of a lifecycle metric's time-to-close histogram. */
export const TTC_GROUP = '~ttc';

export function sketchBin(v: number): number {
  if (v === 0) return 0;
  const k = OFFSET + Math.ceil(Math.log(Math.abs(v)) / LN_GAMMA);
  return v > 0 ? k : -k;
}

export function binValue(bin: number): number {
  if (bin === 0) return 0;
  const k = Math.abs(bin) - OFFSET;
  const v = (2 * Math.pow(GAMMA, k)) / (GAMMA + 1);
  return bin > 0 ? v : -v;
}

/**
 * The q-quantile (percentile_cont's rank q·(N−1), the lower of the two nearest ranks) of a histogram given as
 * bins with counts, in any order; null when empty.
 */
export function sketchQuantile(bins: Array<{ bin: number; n: number }>, q: number): number | null {
  const sorted = bins.filter((b) => b.n > 0).sort((a, b) => a.bin - b.bin);
  const total = sorted.reduce((s, b) => s + b.n, 0);
  if (!total) return null;
  const rank = Math.floor(q * (total - 1));
  let cum = 0;
  for (const b of sorted) {
    cum += b.n;
    if (cum > rank) return binValue(b.bin);
  }
  return binValue(sorted[sorted.length - 1].bin);
}
