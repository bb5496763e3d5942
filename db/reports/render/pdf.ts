// The PDF of a report (pdfkit): a title page with the report's name, period, filters and headline figures;
// the charts (Chart.js PNGs, two to a page); then the tables. A table breaks between rows, never inside one,
// and repeats its header on every page it continues on. Every page carries the report's name and
// "page i of n" in its footer. Every string is set in the report fonts (./fonts.ts), so any script reads back.
import PDFDocument from 'pdfkit';
import type { ReportDoc, TableSpec } from '../doc';
import { chartPng } from './chart';
import { afterDocument, ascenderAt, runsOf, use, type Weight } from './fonts';

const A4 = { w: 595.28, h: 841.89 };
const M = 50;
const INK = '#111827';
const MUTED = '#4b5563';
const RULE = '#d1d5db';
const ACCENT = '#1d4ed8';
const FOOTER = 30;

/**
 * pdfkit draws synchronously. The worker usually shares its process with the API (`npm start`), so a long
 * table hands the event loop back every YIELD_ROWS rows: ingestion and the PWA stay responsive while a
 * 60-page report renders.
 */
const YIELD_ROWS = 40;
const breathe = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface PdfInput { name: string; doc: ReportDoc; generatedAt: Date; tz: string }

type TextOptions = PDFKit.Mixins.TextOptions;

/**
 * Writes `text` at (x, y) (or where the document is) in `weight`, switching fonts where a character needs the
 * fallback. One run is one pdfkit call as before; several are chained with `continued` (wrapping text), or set
 * side by side (a single line, `lineBreak: false`, which also honours `align`).
 */
function say(pdf: PDFKit.PDFDocument, weight: Weight, text: string, x?: number, y?: number, opts: TextOptions = {}) {
  const runs = runsOf(text, weight);
  if (runs.length === 1) {
    pdf.font(use(pdf, runs[0].font));
    return x === undefined ? pdf.text(text, opts) : pdf.text(text, x, y, opts);
  }
  // pdfkit sets a fragment's baseline at its own font's ascender below y; Noto's is taller than DejaVu's, so every
  // run is given the primary font's (a number is the offset of the baseline, negated) and they share one line.
  opts = { ...opts, baseline: -ascenderAt(weight, (pdf as unknown as { _fontSize: number })._fontSize) };
  if (opts.lineBreak === false && x !== undefined) {
    const widths = runs.map((r) => pdf.font(use(pdf, r.font)).widthOfString(r.text, { characterSpacing: opts.characterSpacing }));
    const total = widths.reduce((a, b) => a + b, 0);
    const room = opts.width ?? total;
    let cx = opts.align === 'right' ? x + room - total : opts.align === 'center' ? x + (room - total) / 2 : x;
    runs.forEach((r, i) => {
      if (cx - x < room) pdf.font(use(pdf, r.font)).text(r.text, cx, y, { lineBreak: false, characterSpacing: opts.characterSpacing, baseline: opts.baseline });
      cx += widths[i];
    });
    pdf.x = x;
    return pdf;
  }
  runs.forEach((r, i) => {
    pdf.font(use(pdf, r.font));
    const o = { ...opts, continued: i < runs.length - 1 };
    if (i === 0 && x !== undefined) pdf.text(r.text, x, y, o);
    else pdf.text(r.text, o);
  });
  return pdf;
}

/** The height `text` takes at `width`: with several fonts, the tallest any one of them would make it. */
function heightOf(pdf: PDFKit.PDFDocument, weight: Weight, text: string, width: number): number {
  const fonts = [...new Set(runsOf(text, weight).map((r) => r.font))];
  return Math.max(...fonts.map((f) => pdf.font(use(pdf, f)).heightOfString(text, { width })));
}

/** Renders the PDF; `progress` is told how far it got (0–1 of the rendering). */
export async function renderPdf(input: PdfInput, progress: (f: number) => Promise<void> = async () => {}): Promise<Buffer> {
  const { doc: d, name } = input;
  const pdf = new PDFDocument({ size: 'A4', margins: { top: M, bottom: M, left: M, right: M }, bufferPages: true, info: { Title: name, Author: 'Herald', Subject: d.title } });
  const chunks: Buffer[] = [];
  pdf.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });
  const width = A4.w - 2 * M;
  const bottom = A4.h - M - FOOTER;

  // Title page.
  say(pdf.fillColor(ACCENT).fontSize(11), 'bold', 'HERALD REPORT', M, M + 40, { characterSpacing: 1 });
  say(pdf.moveDown(0.6).fillColor(INK).fontSize(26), 'bold', name, undefined, undefined, { width });
  say(pdf.moveDown(0.3).fillColor(MUTED).fontSize(13), 'regular', d.title, undefined, undefined, { width });
  pdf.moveDown(1.2);
  for (const [k, v] of d.details) {
    const y = pdf.y;
    say(pdf.fillColor(MUTED).fontSize(10), 'regular', k, M, y, { width: 90 });
    const below = pdf.y;
    say(pdf.fillColor(INK).fontSize(10), 'regular', v, M + 95, y, { width: width - 95 });
    pdf.y = Math.max(pdf.y, below);
    pdf.moveDown(0.35);
  }
  const generated = new Intl.DateTimeFormat('en-GB', { timeZone: input.tz, dateStyle: 'medium', timeStyle: 'short' }).format(input.generatedAt);
  say(pdf.fillColor(MUTED).fontSize(9), 'regular', `Generated ${generated} (${input.tz}) from Herald's own records.`, M, pdf.y + 6, { width });

  if (d.figures.length) {
    say(pdf.moveDown(1.5).fillColor(INK).fontSize(14), 'bold', 'Headline figures', M, pdf.y, { width });
    pdf.moveDown(0.5);
    const colW = (width - 12) / 2;
    const boxH = 62;
    for (let i = 0; i < d.figures.length; i += 2) {
      if (pdf.y + boxH > bottom) pdf.addPage();
      const y = pdf.y;
      for (let j = 0; j < 2 && i + j < d.figures.length; j++) {
        const f = d.figures[i + j];
        const x = M + j * (colW + 12);
        pdf.roundedRect(x, y, colW, boxH - 8, 4).lineWidth(0.75).strokeColor(RULE).stroke();
        say(pdf.fillColor(MUTED).fontSize(9), 'regular', f.label, x + 10, y + 7, { width: colW - 20, lineBreak: false });
        say(pdf.fillColor(INK).fontSize(17), 'bold', f.value, x + 10, y + 19, { width: colW - 20, lineBreak: false });
        if (f.note) say(pdf.fillColor(MUTED).fontSize(8), 'regular', f.note, x + 10, y + 39, { width: colW - 20, lineBreak: false, ellipsis: true });
      }
      pdf.x = M;
      pdf.y = y + boxH;
    }
  }
  if (d.empty) {
    say(pdf.moveDown(1).fillColor(INK).fontSize(12), 'oblique', d.empty, M, pdf.y, { width });
  }
  await progress(0.2);

  // Charts, two to a page.
  const imgH = (width * 460) / 1000;
  for (let i = 0; i < d.charts.length; i++) {
    const c = d.charts[i];
    if (i % 2 === 0) pdf.addPage();
    say(pdf.fillColor(INK).fontSize(13), 'bold', c.title, M, pdf.y, { width });
    pdf.moveDown(0.4);
    await breathe();
    pdf.image(chartPng(c), M, pdf.y, { width, height: imgH });
    pdf.y += imgH + 24;
    await progress(0.2 + (0.4 * (i + 1)) / d.charts.length);
  }

  // Tables.
  if (d.tables.length) pdf.addPage();
  for (let i = 0; i < d.tables.length; i++) {
    await drawTable(pdf, d.tables[i], width, bottom);
    await progress(0.6 + (0.35 * (i + 1)) / d.tables.length);
  }

  // Footers.
  const range = pdf.bufferedPageRange();
  for (let p = range.start; p < range.start + range.count; p++) {
    pdf.switchToPage(p);
    const oldBottom = pdf.page.margins.bottom;
    pdf.page.margins.bottom = 0;
    say(pdf.fillColor(MUTED).fontSize(8), 'regular', `${name} · page ${p + 1} of ${range.count}`, M, A4.h - M + 10, { width, align: 'right', lineBreak: false });
    pdf.page.margins.bottom = oldBottom;
  }
  pdf.end();
  afterDocument();
  return done;
}

async function drawTable(pdf: PDFKit.PDFDocument, t: TableSpec, width: number, bottom: number) {
  const pad = 4;
  const size = 8.5;
  // Column widths: given ones are kept; the rest share what is left.
  const given = t.columns.reduce((s, c) => s + (c.width ?? 0), 0);
  const free = t.columns.filter((c) => !c.width).length;
  const scale = given > width ? width / given : 1;
  const widths = t.columns.map((c) => (c.width ? c.width * scale : Math.max(40, (width - given * scale) / Math.max(1, free))));
  const total = widths.reduce((a, b) => a + b, 0);
  if (total > width) for (let i = 0; i < widths.length; i++) widths[i] *= width / total;

  const rowHeight = (cells: string[], weight: Weight) => {
    pdf.fontSize(size);
    return Math.max(...cells.map((c, i) => heightOf(pdf, weight, c || ' ', widths[i] - 2 * pad))) + 2 * pad;
  };
  const drawRow = (cells: string[], y: number, h: number, header: boolean, shade: boolean) => {
    if (header) pdf.rect(M, y, width, h).fill('#eef2ff');
    else if (shade) pdf.rect(M, y, width, h).fill('#f9fafb');
    let x = M;
    pdf.fillColor(INK).fontSize(size);
    cells.forEach((c, i) => {
      say(pdf, header ? 'bold' : 'regular', c, x + pad, y + pad, { width: widths[i] - 2 * pad, align: t.columns[i].align ?? 'left' });
      x += widths[i];
    });
    pdf.moveTo(M, y + h).lineTo(M + width, y + h).lineWidth(0.5).strokeColor(RULE).stroke();
  };
  const header = t.columns.map((c) => c.label);
  const headerH = rowHeight(header, 'bold');
  const title = (cont: boolean) => {
    say(pdf.fillColor(INK).fontSize(13), 'bold', cont ? `${t.title} (continued)` : t.title, M, pdf.y, { width });
    pdf.moveDown(0.3);
  };

  // The title, the header and the first row stay together.
  const firstH = t.rows.length ? rowHeight(t.rows[0], 'regular') : 0;
  if (pdf.y + 24 + headerH + firstH > bottom) pdf.addPage();
  title(false);
  let y = pdf.y;
  drawRow(header, y, headerH, true, false);
  y += headerH;
  for (let i = 0; i < t.rows.length; i++) {
    if (i > 0 && i % YIELD_ROWS === 0) await breathe();
    const r = t.rows[i];
    const h = rowHeight(r, 'regular');
    if (y + h > bottom) {
      pdf.addPage();
      pdf.y = M;
      title(true);
      y = pdf.y;
      drawRow(header, y, headerH, true, false);
      y += headerH;
    }
    drawRow(r, y, h, false, i % 2 === 1);
    y += h;
  }
  pdf.x = M;
  pdf.y = y + 8;
  if (t.note) {
    say(pdf.fillColor(MUTED).fontSize(8.5), 'oblique', t.note, M, pdf.y, { width });
  }
  pdf.moveDown(1.2);
}
