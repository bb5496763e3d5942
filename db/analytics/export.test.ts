import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parse as parseCsv } from 'csv-parse/sync';
import { csvLine, isoFromMs } from './export';

describe('the CSV export’s own formatting', () => {
  it('property: isoFromMs writes what Date#toISOString writes, for any millisecond, in any order', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: -62_167_219_200_000, max: 253_402_300_799_999 }), { minLength: 1, maxLength: 50 }), (times) => {
      for (const ms of times) expect(isoFromMs(ms)).toBe(new Date(ms).toISOString());
    }), { numRuns: 2000 });
    // Day boundaries and the millisecond before them.
    for (const ms of [0, -1, 86_399_999, 86_400_000, Date.UTC(2024, 1, 29, 23, 59, 59, 999), Date.UTC(2024, 2, 1)]) expect(isoFromMs(ms)).toBe(new Date(ms).toISOString());
  });

  it('property: a record reads back (csv-parse) as its cells: text defused, instants ISO, durations in seconds', () => {
    const text = fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', '\r', '=', '+', '-', '@', '\t', ' ', 'é', '😀'), maxLength: 12 });
    const instant = fc.integer({ min: 0, max: 4_102_444_800_000_000 });
    fc.assert(fc.property(text, fc.option(text), instant, fc.option(fc.integer({ min: 0, max: 10_000_000_000 })), (title, who, createdUs, ackAfter) => {
      const acked = ackAfter === null ? null : createdUs + ackAfter;
      const line = csvLine(['7', 'resolved', 'high', 'error', 'sales', 'import', title, String(createdUs), acked === null ? null : String(acked), who, null, null, '2', title, '1', '3 4']);
      const [cells] = parseCsv(line + '\r\n', { relax_column_count: false }) as string[][];
      const defused = (v: string) => (/^[=+\-@\t\r]/.test(v) ? `'${v}` : v);
      expect(cells).toHaveLength(18);
      expect(cells[6]).toBe(defused(title));
      expect(cells[13]).toBe(defused(title));
      expect(cells[9]).toBe(who === null ? '' : defused(who));
      expect(cells[7]).toBe(new Date(Math.floor(createdUs / 1000)).toISOString());
      expect(cells[8]).toBe(acked === null ? '' : new Date(Math.floor(acked / 1000)).toISOString());
      expect(cells[14]).toBe(acked === null ? '' : String(Math.round(ackAfter! / 1000) / 1000));
      expect(cells[10]).toBe('');
      expect(cells[17]).toBe('3 4');
    }), { numRuns: 1000 });
  });
});
