// Charts for PDF reports, drawn by Chart.js (the library the PWA draws with, fed the same datasets from
// db/model/charts.ts) on a server-side Skia canvas (@napi-rs/canvas, prebuilt binaries), returned as PNG.
import { createCanvas, GlobalFonts, Path2D as SkiaPath2D } from '@napi-rs/canvas';
import {
  BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Title,
} from 'chart.js';
import type { ChartSpec } from '../doc';
import { CHART_FAMILIES } from './fonts';

Chart.register(LineController, LineElement, PointElement, BarController, BarElement, CategoryScale, LinearScale, Legend, Title);
// The PDF's own fonts (./fonts.ts), so a label in any script is drawn, whatever fonts the machine has.
for (const [family, file] of Object.entries(CHART_FAMILIES)) GlobalFonts.registerFromPath(file, family);
Chart.defaults.font.family = "'DejaVu Sans', 'Noto Sans JP', sans-serif";
Chart.defaults.color = '#1f2937';

export const CHART_WIDTH = 1000;
export const CHART_HEIGHT = 460;

/** One chart as a PNG (CHART_WIDTH × CHART_HEIGHT pixels, white background). */
export function chartPng(spec: ChartSpec): Buffer {
  // Chart.js strokes lines through the global Path2D when one exists; another canvas library in the process
  // (pdf.js polyfills its own) would hand this canvas a path it cannot read. Drawing is synchronous, so the
  // global is this canvas's own for exactly as long as the chart draws.
  const g = globalThis as { Path2D?: unknown };
  const previous = g.Path2D;
  if (previous !== undefined) g.Path2D = SkiaPath2D;
  try {
    return draw(spec);
  } finally {
    if (previous !== undefined) g.Path2D = previous;
  }
}

function draw(spec: ChartSpec): Buffer {
  const canvas = createCanvas(CHART_WIDTH, CHART_HEIGHT);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, CHART_WIDTH, CHART_HEIGHT);
  const chart = new Chart(ctx as unknown as CanvasRenderingContext2D, {
    type: spec.type,
    data: {
      labels: spec.labels,
      datasets: spec.datasets.map((d) => ({
        label: d.label, data: d.data, borderColor: d.color, backgroundColor: d.color, tension: 0.2, pointRadius: spec.labels.length > 60 ? 0 : 2, spanGaps: false,
        // A bar dataset with gaps (the scores report's rises and falls) leaves no empty slot beside its bars.
        skipNull: true,
      })),
    },
    options: {
      responsive: false,
      animation: false,
      devicePixelRatio: 1,
      plugins: { legend: { position: 'bottom', labels: { font: { size: 16 } } } },
      scales: {
        x: { ticks: { font: { size: 14 }, maxRotation: 0, autoSkip: true, autoSkipPadding: 12 } },
        y: { beginAtZero: true, ticks: { font: { size: 14 }, precision: 0 }, title: spec.unit ? { display: true, text: spec.unit, font: { size: 14 } } : undefined },
      },
    },
  });
  try {
    return canvas.toBuffer('image/png');
  } finally {
    chart.destroy();
  }
}
