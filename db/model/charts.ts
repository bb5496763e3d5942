// Chart shapes the PWA's Analytics page and the PDF reports share (the report renderer draws them with the
// same Chart.js on a server-side canvas): which series a response chart shows, in which colours, and how a
// duration in seconds reads.

export const SERIES_COLORS = {
  created: '#1d4ed8',
  acknowledged: '#047857',
  escalated: '#be123c',
  resolved: '#7c3aed',
  failed: '#b45309',
} as const;

export interface ResponsePoint { created: number; acknowledged: number; escalated: number }

/** The datasets of the "created versus acknowledged versus escalated" time series. */
export function responseDatasets(series: ResponsePoint[]) {
  return [
    { label: 'Created', data: series.map((p) => p.created), borderColor: SERIES_COLORS.created, backgroundColor: SERIES_COLORS.created },
    { label: 'Acknowledged', data: series.map((p) => p.acknowledged), borderColor: SERIES_COLORS.acknowledged, backgroundColor: SERIES_COLORS.acknowledged },
    { label: 'Escalated', data: series.map((p) => p.escalated), borderColor: SERIES_COLORS.escalated, backgroundColor: SERIES_COLORS.escalated },
  ];
}

/** 95 s → "1 min 35 s"; 7,300 s → "2 h 2 min". */
export function duration(s: number | null): string {
  if (s === null) return '—';
  if (s < 60) return `${Math.round(s)} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  return `${Math.round(h / 24)} d`;
}

/** 0.753 → "75 %"; null → "—". */
export const percent = (x: number | null) => (x === null ? '—' : `${Math.round(x * 100)} %`);
