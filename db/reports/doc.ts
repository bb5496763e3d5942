// The format-neutral shape of a report: what a kind computes and the PDF renderer lays out. A kind never
// draws; the renderer never queries.
import type { z } from 'zod';
import type { Herald } from '../herald';

export const FORMATS = ['pdf', 'csv', 'xlsx'] as const;
export type Format = (typeof FORMATS)[number];

export const CONTENT_TYPES: Record<Format, string> = {
  pdf: 'application/pdf',
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

export interface ChartSpec {
  title: string;
  type: 'line' | 'bar';
  labels: string[];
  datasets: Array<{ label: string; data: Array<number | null>; color: string }>;
  /** Axis unit shown in the title of the y axis. */
  unit?: string;
}

export interface TableSpec {
  title: string;
  columns: Array<{ label: string; align?: 'left' | 'right'; width?: number }>;
  rows: string[][];
  /** A line under the table (e.g. "first 1,000 of 4,210; the CSV has every row"). */
  note?: string;
}

export interface ReportDoc {
  title: string;
  /** Lines of the title page under the period: filters, the dashboard's name… */
  details: Array<[string, string]>;
  figures: Array<{ label: string; value: string; note?: string }>;
  charts: ChartSpec[];
  tables: TableSpec[];
  /** How many data rows the run covered (alerts in the period, data points…). */
  rows: number;
  /** Set when the period holds nothing: the PDF says so instead of showing zeros that look like measurements. */
  empty?: string;
}

export interface Period { from: Date; to: Date; tz: string }

/** A finished file. */
export interface RenderedFile { filename: string; contentType: string; data: Buffer; rows: number }

export type Progress = (fraction: number) => Promise<void>;

/**
 * A kind of report: the extension point. `params` is validated when the report is saved (a 400 naming the
 * field), `check` looks up what params refer to (a rule, a role, a dashboard) so a dangling reference is a 400
 * too; `document` computes the figures for a PDF; `file` (optional) writes CSV/XLSX itself.
 */
export interface ReportKind<P = unknown> {
  label: string;
  formats: readonly Format[];
  params: z.ZodType<P>;
  /** The time zone a period is read in when the params name one. */
  tzOf?(params: P): string | undefined;
  check?(h: Herald, orgId: number, params: P): Promise<void>;
  document(h: Herald, orgId: number, params: P, period: Period, progress: Progress): Promise<ReportDoc>;
  file?(h: Herald, orgId: number, params: P, period: Period, format: Exclude<Format, 'pdf'>): Promise<RenderedFile>;
}
