// CSV as Herald writes it (the alerts, audit, users and import-error exports, the scores report): RFC 4180 cells
// through d3-dsv (a cell holding a quote, comma, CR or LF is quoted, its quotes doubled), and the spreadsheet
// formula defence every export applies to text it did not write itself.
import { csvFormatRow } from 'd3-dsv';

/** A cell a spreadsheet would run as a formula (= + - @, or a leading tab / carriage return) gets a leading `'`. */
export function defuse(v: string): string {
  const c = v.charCodeAt(0);
  return c === 61 || c === 43 || c === 45 || c === 64 || c === 9 || c === 13 ? `'${v}` : v;
}

/** Records as CSV text, each ended by `eol` (CRLF, RFC 4180's, unless a file has always used LF). */
export function csvRecords(records: string[][], eol: '\r\n' | '\n' = '\r\n'): string {
  let text = '';
  for (const r of records) text += csvFormatRow(r) + eol;
  return text;
}
