// Report kind `scores`: one score (db/scoring) ranked, with the ranking's own filters (GET
// /v1/scores/:key/entities: below, above, q, crossed, order) and an optional top N. The PDF has the headline
// figures of the selection (how many, mean, median, min–max, how many are past each threshold, the biggest rise
// and fall over the period from the value history), the distribution and the movers as Chart.js charts, the
// movers and the ranked table. CSV/XLSX are one row per ranked entity (numbers as numbers, dates as dates).
// Values are as of the run; changes are over the run's period.
import { z } from 'zod';
import { PassThrough } from 'node:stream';
import { csvRecords, defuse } from '../../platform/csv';
import ExcelJS from 'exceljs';
import { systemActor } from '../../actor';
import { HeraldError, invalid } from '../../errors';
import { text } from '../../platform/input';
import { SERIES_COLORS } from '../../model/charts';
import { scoreReportRows, scoreReportSummary, loadReportScore, type ScoreReportRow, type ScoreSelection } from '../../scoring/report';
import type { ExplanationItem } from '../../scoring/schema';
import { CONTENT_TYPES, type ReportDoc, type ReportKind } from '../doc';
import { checkPeriod, PeriodFields, periodText } from '../period';

/** A PDF lists at most this many entities; the CSV/XLSX formats carry the whole selection. */
export const PDF_SCORE_ROWS = 2000;

const value = z.number().finite().min(-1e12).max(1e12);

export const ScoresParams = z
  .object({
    score: z.string().min(1).max(64).regex(/^[a-z0-9][a-z0-9_-]*$/, 'a score key is lowercase letters, digits, _ and -'),
    ...PeriodFields,
    /** Rank order: highest first (desc, the default) or lowest first (asc). */
    order: z.enum(['asc', 'desc']).optional(),
    /** Only the first N in rank order (the table and the files; the figures cover the whole selection). */
    top: z.number().int().min(1).max(1_000_000).optional(),
    below: value.optional(),
    above: value.optional(),
    /** Only entities past a threshold now (true) or past none (false). */
    crossed: z.boolean().optional(),
    /** Name or id contains. */
    q: text().trim().min(1).max(200).optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    checkPeriod(p, ctx);
    if (p.below !== undefined && p.above !== undefined && p.above >= p.below) {
      ctx.addIssue({ code: 'custom', path: ['above'], message: `no value is both above ${p.above} and below ${p.below}` });
    }
  });
export type ScoresParams = z.output<typeof ScoresParams>;

const selectionOf = (p: ScoresParams): ScoreSelection => ({
  order: p.order ?? 'desc', top: p.top, below: p.below, above: p.above, q: p.q,
  crossed: p.crossed === undefined ? undefined : p.crossed ? 'true' : 'false',
});

/** 46, 46.5, 1,234.25: at most two decimals. */
const num = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : (Math.round(x * 100) / 100).toLocaleString('en-US', { maximumFractionDigits: 2 }));
/** +10, −5 (a true minus sign), 0. */
const signed = (x: number | null) => (x === null ? '—' : x > 0 ? `+${num(x)}` : x < 0 ? `−${num(-x)}` : '0');
const pct = (n: number, of: number) => (of ? `${Math.round((n / of) * 1000) / 10} %` : '—');

/** The factors that moved the value most: "late payments −25; no contact in 30 days −15". */
function topFactors(ex: ExplanationItem[], n = 3): string {
  return ex
    .filter((e) => e.status !== 'base' && e.contribution !== 0 && Number.isFinite(e.contribution))
    .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution))
    .slice(0, n)
    .map((e) => `${e.factor} ${signed(e.contribution)}`)
    .join('; ');
}

function filtersText(p: ScoresParams): string {
  const f: string[] = [];
  if (p.below !== undefined) f.push(`value below ${num(p.below)}`);
  if (p.above !== undefined) f.push(`value above ${num(p.above)}`);
  if (p.crossed === true) f.push('past a threshold');
  if (p.crossed === false) f.push('past no threshold');
  if (p.q) f.push(`name or id contains "${p.q}"`);
  return f.join(', ') || 'none';
}

const entityLabel = (r: { id: string; name: string | null }) => (r.name && r.name !== r.id ? `${r.name} (${r.id})` : r.id);

const COLUMNS = [
  ['rank', 'number', 8], ['entity_id', 'text', 24], ['name', 'text', 32], ['value', 'number', 10], ['change', 'number', 10],
  ['scored_at', 'date', 20], ['past_thresholds', 'text', 24], ['top_factors', 'text', 60],
] as const;

function record(r: ScoreReportRow): Record<(typeof COLUMNS)[number][0], string | number | Date | null> {
  return {
    rank: r.rank, entity_id: r.id, name: r.name, value: r.value, change: r.change, scored_at: r.at,
    past_thresholds: r.past.join('; '), top_factors: topFactors(r.explanation),
  };
}

export const scoresKind: ReportKind<ScoresParams> = {
  label: 'Scores',
  formats: ['pdf', 'csv', 'xlsx'],
  params: ScoresParams,
  tzOf: (p) => p.tz,
  async check(h, orgId, p) {
    try {
      await loadReportScore(h, systemActor(orgId, 'report'), p.score);
    } catch (e) {
      if (e instanceof HeraldError && e.status === 404) throw invalid(`params.score: score ${p.score} does not exist`, [{ path: 'params.score', message: 'no such score' }]);
      throw e;
    }
  },

  async document(h, orgId, p, period, progress) {
    const actor = systemActor(orgId, 'report');
    const sel = selectionOf(p);
    const sum = await scoreReportSummary(h, actor, p.score, sel, period);
    await progress(0.3);
    const s = sum.score;
    const desc = sel.order === 'desc';
    const details: Array<[string, string]> = [
      ['Period', periodText(period)],
      ['Score', `${s.name} (${s.key}), ${s.entity_kind} entities`],
      ['Filters', filtersText(p)],
      ['Ranked', `${p.top ? `top ${num(p.top)}` : 'all'}, ${desc ? 'highest' : 'lowest'} first`],
      ['Values', 'as of this run; changes over the period, from the score history'],
    ];
    const doc: ReportDoc = { title: `Scores: ${s.name}`, details, rows: 0, charts: [], tables: [], figures: [] };
    doc.figures.push(
      { label: 'Entities', value: num(sum.count), note: `${s.entity_kind} entities with a value${filtersText(p) === 'none' ? '' : ' that match the filters'}` },
      { label: 'Mean', value: num(sum.mean), note: `median ${num(sum.median)}, min ${num(sum.min)}, max ${num(sum.max)}` },
    );
    for (const t of sum.thresholds) {
      doc.figures.push({ label: `${t.below !== undefined ? `Below ${num(t.below)}` : `Above ${num(t.above)}`} (${t.severity})`, value: num(t.count), note: `${t.title}: ${pct(t.count, sum.count)} of them` });
    }
    const up = sum.movers.up[0];
    const down = sum.movers.down[0];
    doc.figures.push(
      { label: 'Biggest rise', value: up ? signed(up.change) : '—', note: up ? `${entityLabel(up)}: ${num(up.start)} → ${num(up.end)}` : 'no value rose over the period' },
      { label: 'Biggest fall', value: down ? signed(down.change) : '—', note: down ? `${entityLabel(down)}: ${num(down.start)} → ${num(down.end)}` : 'no value fell over the period' },
    );
    if (!sum.count) {
      doc.empty = `No ${s.entity_kind} entity has a value of this score${filtersText(p) === 'none' ? ' yet' : ' that matches the filters'}: there is nothing to rank.`;
      return doc;
    }

    const rangeText = (a: number, b: number) => `${num(a)}–${num(b)}`;
    doc.charts.push({
      title: 'Distribution of values', type: 'bar', unit: 'entities',
      labels: sum.distribution.map((d) => rangeText(d.from, d.to)),
      datasets: [{ label: `${s.name} (${s.entity_kind} entities per band)`, data: sum.distribution.map((d) => d.n), color: SERIES_COLORS.created }],
    });
    const movers = [...sum.movers.up, ...[...sum.movers.down].reverse()];
    if (movers.length) {
      doc.charts.push({
        title: 'Biggest changes over the period', type: 'bar', unit: 'points',
        labels: movers.map((m) => m.name ?? m.id),
        datasets: [
          { label: 'Rose', data: movers.map((m) => (m.change > 0 ? m.change : null)), color: SERIES_COLORS.resolved },
          { label: 'Fell', data: movers.map((m) => (m.change < 0 ? m.change : null)), color: SERIES_COLORS.escalated },
        ],
      });
      doc.tables.push({
        title: 'Movers over the period',
        columns: [{ label: 'Entity' }, { label: 'Start', align: 'right' }, { label: 'End', align: 'right' }, { label: 'Change', align: 'right' }],
        rows: movers.map((m) => [entityLabel(m), num(m.start), num(m.end), signed(m.change)]),
        note: `${num(sum.movers.compared)} of ${num(sum.count)} entities had a value at both ends of the period.`,
      });
    }

    const rows: ScoreReportRow[] = [];
    const cap = Math.min(p.top ?? Infinity, PDF_SCORE_ROWS);
    for await (const page of scoreReportRows(h, actor, p.score, { ...sel, top: cap }, period)) rows.push(...page);
    await progress(0.5);
    const selected = Math.min(sum.count, p.top ?? Infinity);
    doc.rows = selected;
    doc.tables.push({
      title: `Ranking (${desc ? 'highest' : 'lowest'} first)`,
      columns: [{ label: '#', align: 'right', width: 34 }, { label: 'Entity', width: 150 }, { label: 'Value', align: 'right', width: 50 },
        { label: 'Change', align: 'right', width: 50 }, { label: 'Past', width: 70 }, { label: 'Top factors' }],
      rows: rows.map((r) => [String(r.rank), entityLabel(r), num(r.value), signed(r.change), r.past.join(', ') || '—', topFactors(r.explanation) || '—']),
      note: selected > rows.length ? `The first ${num(rows.length)} of ${num(selected)}; a CSV or XLSX report carries every one.` : undefined,
    });
    return doc;
  },

  async file(h, orgId, p, period, format) {
    const actor = systemActor(orgId, 'report');
    const s = await loadReportScore(h, actor, p.score);
    const pages = scoreReportRows(h, actor, p.score, selectionOf(p), period);
    let n = 0;
    const filename = `scores-${s.key}.${format}`;
    if (format === 'csv') {
      const parts: string[] = ['\ufeff' + csvRecords([COLUMNS.map(([k]) => k)])];
      for await (const page of pages) {
        n += page.length;
        parts.push(csvRecords(page.map((r) => {
          const x = record(r);
          return COLUMNS.map(([k]) => {
            const v = x[k];
            return v === null ? '' : v instanceof Date ? v.toISOString() : typeof v === 'number' ? String(v) : defuse(v);
          });
        })));
      }
      return { filename, contentType: CONTENT_TYPES.csv, data: Buffer.from(parts.join(''), 'utf8'), rows: n };
    }
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise<void>((resolve, reject) => { out.on('end', resolve); out.on('error', reject); });
    const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
    const ws = wb.addWorksheet(s.key.slice(0, 31), { views: [{ state: 'frozen', ySplit: 1 }] });
    ws.columns = COLUMNS.map(([key, kind, width]) => ({
      header: key, key, width, style: kind === 'date' ? { numFmt: 'yyyy-mm-dd hh:mm:ss' } : {},
    }));
    for await (const page of pages) {
      n += page.length;
      // Strings are written as strings (exceljs never turns one into a formula); null leaves the cell empty.
      for (const r of page) ws.addRow(record(r)).commit();
    }
    ws.commit();
    await wb.commit();
    await ended;
    return { filename, contentType: CONTENT_TYPES.xlsx, data: Buffer.concat(chunks), rows: n };
  },
};
