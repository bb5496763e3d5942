// The fonts every report PDF (and its charts) is set in. pdfkit's built-in Helvetica only has WinAnsi glyphs, so
// "Rechnung überfällig — 請求書 — Счёт" came out garbled. DejaVu Sans (npm `dejavu-fonts-ttf`) covers Latin,
// Greek, Cyrillic, Armenian, Georgian, Hebrew and Arabic letters; Noto Sans JP (npm
// `@expo-google-fonts/noto-sans-jp`) is the fallback for what DejaVu lacks: kana and CJK ideographs. Text is cut
// into runs, each set in the first font that has its characters (spaces and punctuation stay in the run they
// are in), so a title mixing scripts keeps every character. pdfkit embeds only the glyphs a document uses (a
// subset with a ToUnicode map), so a reader extracts the original text and a PDF grows by a few KiB per font
// used, not by the font files' size. The fonts are parsed once per process, on first use, and shared by every document.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as fontkit from 'fontkit';

const require = createRequire(import.meta.url);
const dejavu = (file: string) => join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf', file);
const noto = (file: string) => join(dirname(require.resolve('@expo-google-fonts/noto-sans-jp/package.json')), file);

export type Weight = 'regular' | 'bold' | 'oblique';

/** The font files, by the name a document registers them under. */
export const FONT_FILES = {
  Sans: dejavu('DejaVuSans.ttf'),
  'Sans-Bold': dejavu('DejaVuSans-Bold.ttf'),
  'Sans-Oblique': dejavu('DejaVuSans-Oblique.ttf'),
  CJK: noto('400Regular/NotoSansJP_400Regular.ttf'),
  'CJK-Bold': noto('700Bold/NotoSansJP_700Bold.ttf'),
} as const;
type FontName = keyof typeof FONT_FILES;

/** The families charts draw with (registered with the canvas under these names). */
export const CHART_FAMILIES = { 'DejaVu Sans': FONT_FILES.Sans, 'Noto Sans JP': FONT_FILES.CJK } as const;

const PRIMARY: Record<Weight, FontName> = { regular: 'Sans', bold: 'Sans-Bold', oblique: 'Sans-Oblique' };
const FALLBACK: Record<Weight, FontName> = { regular: 'CJK', bold: 'CJK-Bold', oblique: 'CJK' };

// One parsed font per process, shared by every document: fontkit reads a font's layout tables on first use,
// which costs about a second for DejaVu; a font opened per document would pay it on every report.
const opened = new Map<FontName, fontkit.Font>();
function font(name: FontName): fontkit.Font {
  let f = opened.get(name);
  if (!f) opened.set(name, (f = fontkit.create(readFileSync(FONT_FILES[name])) as fontkit.Font));
  return f;
}

const registered = new WeakMap<PDFKit.PDFDocument, Set<FontName>>();

/**
 * Makes `name` usable in `pdf` (pdfkit takes a fontkit font as a source) and returns it. Fonts are registered
 * on first use, so the CJK faces are not even read by a process whose reports never need them; only the fonts
 * a document uses are embedded, as subsets.
 */
export function use(pdf: PDFKit.PDFDocument, name: FontName): FontName {
  let done = registered.get(pdf);
  if (!done) registered.set(pdf, (done = new Set()));
  if (!done.has(name)) {
    pdf.registerFont(name, font(name) as never);
    done.add(name);
  }
  return name;
}

/**
 * Call right after `pdf.end()`. Embedding a subset makes fontkit create (and cache on the shared font) the glyphs
 * that composite glyphs are built from, without the characters they stand for; a later document laying out
 * those glyphs would write an empty ToUnicode entry and its text would no longer extract ("R\u0002\u0003hnung").
 * `end()` embeds synchronously, so dropping the glyph cache here, before anything else runs, leaves every next
 * layout to create its glyphs with their characters. The parsed tables (the expensive part) stay.
 */
export function afterDocument() {
  for (const f of opened.values()) (f as unknown as { _glyphs: Record<number, unknown> })._glyphs = {};
}

/** The primary face's ascender in points at `size`: runs in the fallback font sit on the primary's baseline. */
export function ascenderAt(weight: Weight, size: number): number {
  const f = font(PRIMARY[weight]);
  return (f.ascent / f.unitsPerEm) * size;
}

export interface Run { font: FontName; text: string }

/** `text` cut into runs by the font that has its characters. Mostly one run. */
export function runsOf(text: string, weight: Weight): Run[] {
  const primary = PRIMARY[weight];
  // The common case without looking at any glyph: printable ASCII and Latin-1 are in DejaVu.
  if (/^[\x20-\x7e\u00a0-\u00ff]*$/.test(text)) return [{ font: primary, text }];
  // Coverage is read from the regular faces (the bold and oblique ones cover the same characters).
  const p = font('Sans');
  const chars = [...text];
  if (chars.every((ch) => p.hasGlyphForCodePoint(ch.codePointAt(0)!))) return [{ font: primary, text }];
  const f = font('CJK');
  const runs: Run[] = [];
  let cur: Run | null = null;
  for (const ch of chars) {
    const cp = ch.codePointAt(0)!;
    // Spaces and characters neither font has stay in the current run.
    let font: FontName | null = null;
    if (cp > 0x20 && !p.hasGlyphForCodePoint(cp)) font = f.hasGlyphForCodePoint(cp) ? FALLBACK[weight] : null;
    else if (cp > 0x20) font = primary;
    if (!cur) cur = { font: font ?? primary, text: ch };
    else if (font === null || font === cur.font) cur.text += ch;
    else {
      runs.push(cur);
      cur = { font, text: ch };
    }
  }
  if (cur) runs.push(cur);
  return runs.length ? runs : [{ font: primary, text }];
}
