import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Hist, histQuantile } from './from-rollup';
import { binValue } from '../metrics/sketch';

/** percentile_cont over the bins' values, each count times: the definition histQuantile must meet. */
function reference(entries: Array<[number, number]>, q: number): number | null {
  const values = entries.flatMap(([bin, n]) => Array.from({ length: n }, () => binValue(bin))).sort((a, b) => a - b);
  if (!values.length) return null;
  const r = q * (values.length - 1);
  const lo = values[Math.floor(r)], hi = values[Math.ceil(r)];
  return Math.round((lo + (r - Math.floor(r)) * (hi - lo)) * 1000) / 1000;
}

describe('rollup histograms', () => {
  it('property: the quantile of bins added in any order is percentile_cont over their values, dense or not', () => {
    // Bins of real durations (the dense range), and zero, negative, sub-millisecond and decades-long ones.
    const bin = fc.oneof(fc.integer({ min: 99_600, max: 101_099 }), fc.constantFrom(0, -100_050, -99_990, 99_000, 99_599, 101_100, 103_000));
    fc.assert(fc.property(fc.array(fc.tuple(bin, fc.integer({ min: 1, max: 4 })), { maxLength: 40 }), fc.constantFrom(0, 0.1, 0.5, 0.9, 1), (entries, q) => {
      const h = new Hist();
      for (const [b, n] of entries) h.add(b, n);
      expect(histQuantile(h, q)).toBe(reference(entries, q));
    }), { numRuns: 2000 });
  });
});
