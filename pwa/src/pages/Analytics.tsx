// /analytics — how the team responds: MTTA, MTTR, acknowledgement and escalation rates for a range (compared
// with the period before it), created vs acknowledged vs escalated over time, the channel split, who carried
// the load and the noisiest rules. Every figure comes from GET /v1/analytics/alerts; every chart point and
// category drills down to the alert list. Chart.js is imported dynamically here, never on the first screen.
import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { AlertAnalytics } from '../../../db/analytics/alerts';
import { duration, percent as pct, responseDatasets } from '../../../db/model/charts';
import { api } from '../api';
import { ProblemBox } from '../components/Problem';
import { useTitle } from '../hooks';
import { onAlert, onReconnect } from '../live';
import { Link, navigate } from '../router';
import { CATEGORIES, PRIORITIES, label } from '../types';

type Preset = '24h' | '7d' | '30d' | 'custom';
const PRESETS: Array<[Preset, string]> = [['24h', 'Last 24 h'], ['7d', 'Last 7 days'], ['30d', 'Last 30 days'], ['custom', 'Custom']];
const HOUR = 3600_000;
const DAY = 24 * HOUR;
const TZ = (() => {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
})();

interface Range { from: string; to: string; bucket: 'hour' | 'day' | 'week'; days: number }

/** `YYYY-MM-DD` of a Date in local time (for date inputs). */
const ymd = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;

function rangeFor(preset: Preset, custom: { from: string; to: string }, now: number): Range | null {
  if (preset !== 'custom') {
    const ms = preset === '24h' ? DAY : preset === '7d' ? 7 * DAY : 30 * DAY;
    return { from: new Date(now - ms).toISOString(), to: new Date(now).toISOString(), bucket: preset === '24h' ? 'hour' : 'day', days: ms / DAY };
  }
  if (!custom.from || !custom.to) return null;
  // Local midnights: the day `to` is included.
  const from = new Date(`${custom.from}T00:00:00`);
  const to = new Date(`${custom.to}T00:00:00`);
  to.setDate(to.getDate() + 1);
  if (!(from < to)) return null;
  const days = (to.getTime() - from.getTime()) / DAY;
  return { from: from.toISOString(), to: to.toISOString(), bucket: days <= 2 ? 'hour' : days > 120 ? 'week' : 'day', days };
}

function query(r: { from: string; to: string; bucket?: string }, f: { category: string; priority: string }, extra: Record<string, string> = {}) {
  const p = new URLSearchParams({ from: r.from, to: r.to, tz: TZ, ...(r.bucket ? { bucket: r.bucket } : {}), ...extra });
  if (f.category) p.set('category', f.category);
  if (f.priority) p.set('priority', f.priority);
  return p.toString();
}


interface Tile { name: string; value: string; now: number | null; before: number | null; lowerIsBetter: boolean; what: string }

function Comparison({ t, days }: { t: Tile; days: number }) {
  const period = days === 1 ? 'the 24 h before' : `the ${days} days before`;
  if (t.now === null) return <span class="tile-cmp">No data in this range</span>;
  if (t.before === null) return <span class="tile-cmp">No data in {period} to compare</span>;
  if (t.before === 0 && t.now === 0) return <span class="tile-cmp">Same as {period}</span>;
  const change = t.before === 0 ? null : (t.now - t.before) / t.before;
  const better = t.lowerIsBetter ? t.now < t.before : t.now > t.before;
  const same = t.now === t.before;
  const arrow = same ? '=' : t.now > t.before ? '▲' : '▼';
  return (
    <span class={`tile-cmp ${same ? '' : better ? 'better' : 'worse'}`}>
      <span aria-hidden="true">{arrow} </span>
      {same ? `Same as ${period}` : `${change === null ? '' : `${Math.abs(Math.round(change * 100))} % `}${t.now > t.before ? 'up' : 'down'} on ${period} (${t.what === 'rate' ? pct(t.before) : duration(t.before)})`}
      {!same && <span class="sr-only">{better ? ', better' : ', worse'}</span>}
    </span>
  );
}

/** A compact, scrollable figures table: `cols` are header texts (a `#` prefix marks a numeric column,
 *  `sr:` one only screen readers see); `children` are the body rows. */
function FigureTable({ label: name, cols, children }: { label: string; cols: string[]; children: ComponentChildren }) {
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label={name}>
      <table class="table compact">
        <thead>
          <tr>
            {cols.map((c) =>
              c.startsWith('sr:') ? (
                <th key={c} scope="col">
                  <span class="sr-only">{c.slice(3)}</span>
                </th>
              ) : (
                <th key={c} scope="col" class={c.startsWith('#') ? 'num' : undefined}>
                  {c.replace(/^#/, '')}
                </th>
              ),
            )}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

function bucketLabel(t: string, bucket: Range['bucket']): string {
  const d = new Date(t);
  if (bucket === 'hour') return d.toLocaleString(undefined, { weekday: 'short', hour: '2-digit', minute: '2-digit' });
  return d.toLocaleDateString(undefined, { weekday: bucket === 'day' ? 'short' : undefined, day: 'numeric', month: 'short' });
}
const STEP: Record<Range['bucket'], number> = { hour: HOUR, day: DAY, week: 7 * DAY };

/** The alert list for [from, to) with the page's filters. */
function listHref(from: string, to: string, f: { category: string; priority: string }, category?: string) {
  const p = new URLSearchParams({ from, to });
  if (category ?? f.category) p.set('category', category ?? f.category);
  if (f.priority) p.set('priority', f.priority);
  return `/alerts?${p}`;
}

export default function AnalyticsPage() {
  useTitle('Analytics');
  const [preset, setPreset] = useState<Preset>('7d');
  const [custom, setCustom] = useState(() => ({ from: ymd(new Date(Date.now() - 13 * DAY)), to: ymd(new Date()) }));
  const [category, setCategory] = useState('');
  const [priority, setPriority] = useState('');
  const [data, setData] = useState<{ now: AlertAnalytics; before: AlertAnalytics; range: Range } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const [tick, setTick] = useState(0);
  const canvas = useRef<HTMLCanvasElement>(null);
  const filters = { category, priority };

  // Live: any alert change re-fetches, at most once per 2 s.
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const later = () => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        setTick((n) => n + 1);
      }, 2000);
    };
    const off1 = onAlert(later);
    const off2 = onReconnect(later);
    return () => {
      off1();
      off2();
      if (timer) clearTimeout(timer);
    };
  }, []);

  useEffect(() => {
    const range = rangeFor(preset, custom, Date.now());
    if (!range) return;
    const ctl = new AbortController();
    setLoading(true);
    const len = Date.parse(range.to) - Date.parse(range.from);
    const before = { from: new Date(Date.parse(range.from) - len).toISOString(), to: range.from, bucket: range.bucket };
    Promise.all([
      api.get<AlertAnalytics>(`/v1/analytics/alerts?${query(range, filters)}`, { signal: ctl.signal }),
      api.get<AlertAnalytics>(`/v1/analytics/alerts?${query(before, filters)}`, { signal: ctl.signal }),
    ]).then(
      ([now, prev]) => {
        setData({ now, before: prev, range });
        setError(null);
        setLoading(false);
      },
      (e) => {
        if ((e as Error)?.name === 'AbortError') return;
        setError(e);
        setLoading(false);
      },
    );
    return () => ctl.abort();
  }, [preset, custom.from, custom.to, category, priority, tick]);

  const d = data?.now;
  const empty = !!d && d.totals.created === 0;
  const actedTotal = d ? d.by_channel.reduce((a, x) => a + x.acted, 0) : 0;
  const tiles: Tile[] = useMemo(() => {
    if (!data) return [];
    const { now: n, before: b } = data;
    return [
      // From the rollups' histograms (a big range) the medians are within 1 %: shown as "≈".
      { name: 'MTTA (median)', value: `${n.approximate ? '≈ ' : ''}${duration(n.totals.mtta_s.p50)}`, now: n.totals.mtta_s.p50, before: b.totals.mtta_s.p50, lowerIsBetter: true, what: 'time' },
      { name: 'MTTR (median)', value: `${n.approximate ? '≈ ' : ''}${duration(n.totals.mttr_s.p50)}`, now: n.totals.mttr_s.p50, before: b.totals.mttr_s.p50, lowerIsBetter: true, what: 'time' },
      { name: 'Acknowledged', value: pct(n.totals.ack_rate), now: n.totals.ack_rate, before: b.totals.ack_rate, lowerIsBetter: false, what: 'rate' },
      { name: 'Escalated', value: pct(n.totals.escalation_rate), now: n.totals.escalation_rate, before: b.totals.escalation_rate, lowerIsBetter: true, what: 'rate' },
    ];
  }, [data]);

  // The time series: created vs acknowledged vs escalated; a click on a point opens those alerts.
  useEffect(() => {
    if (!data || empty || !canvas.current) return;
    const { now: n, range } = data;
    let chart: { destroy(): void } | null = null;
    let cancelled = false;
    import('chart.js').then(({ Chart, LineController, LineElement, PointElement, CategoryScale, LinearScale, Tooltip, Legend }) => {
      if (cancelled || !canvas.current) return;
      Chart.register(LineController, LineElement, PointElement, CategoryScale, LinearScale, Tooltip, Legend);
      const series = n.series;
      chart = new Chart(canvas.current, {
        type: 'line',
        data: {
          labels: series.map((p) => bucketLabel(p.t, range.bucket)),
          datasets: responseDatasets(series).map((d) => ({ ...d, tension: 0.2 })),
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          interaction: { mode: 'index', intersect: false },
          plugins: { legend: { position: 'bottom' } },
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
          onClick: (_e, els) => {
            const i = els[0]?.index;
            if (i === undefined) return;
            const start = Date.parse(series[i].t);
            const from = new Date(Math.max(start, Date.parse(range.from))).toISOString();
            const to = new Date(Math.min(start + STEP[range.bucket], Date.parse(range.to))).toISOString();
            navigate(listHref(from, to, filters));
          },
        },
      });
    }, setError);
    return () => {
      cancelled = true;
      chart?.destroy();
    };
  }, [data]);

  const range = data?.range;
  const exportHref = (format: 'csv' | 'xlsx') => (range ? `/v1/alerts/export?${query({ from: range.from, to: range.to }, filters, { format })}` : '#');

  return (
    <section class="page" aria-labelledby="analytics-title">
      <div class="page-head">
        <h1 id="analytics-title">Analytics</h1>
        {range && (
          <div class="toolbar" role="group" aria-label="Export the alerts of this range">
            <a class="btn small" href={exportHref('csv')} download>
              Export CSV
            </a>
            <a class="btn small" href={exportHref('xlsx')} download>
              Export XLSX
            </a>
          </div>
        )}
      </div>
      <form class="panel filters" onSubmit={(e) => e.preventDefault()} aria-label="Range and filters">
        <fieldset class="seg">
          <legend>Range</legend>
          {PRESETS.map(([p, text]) => (
            <label key={p} class={`seg-item ${preset === p ? 'on' : ''}`}>
              <input type="radio" name="range" value={p} checked={preset === p} onChange={() => setPreset(p)} />
              {text}
            </label>
          ))}
        </fieldset>
        {preset === 'custom' && (
          <div class="row">
            <div class="field">
              <label for="an-from">From</label>
              <input id="an-from" type="date" value={custom.from} max={custom.to} onChange={(e) => setCustom({ ...custom, from: (e.target as HTMLInputElement).value })} />
            </div>
            <div class="field">
              <label for="an-to">To</label>
              <input id="an-to" type="date" value={custom.to} min={custom.from} onChange={(e) => setCustom({ ...custom, to: (e.target as HTMLInputElement).value })} />
            </div>
          </div>
        )}
        <div class="row">
          <div class="field">
            <label for="an-cat">Category</label>
            <select id="an-cat" value={category} onChange={(e) => setCategory((e.target as HTMLSelectElement).value)}>
              <option value="">All categories</option>
              {CATEGORIES.map((c) => (
                <option key={c} value={c}>
                  {label(c)}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="an-prio">Priority</label>
            <select id="an-prio" value={priority} onChange={(e) => setPriority((e.target as HTMLSelectElement).value)}>
              <option value="">All priorities</option>
              {PRIORITIES.map((p) => (
                <option key={p} value={p}>
                  {label(p)}
                </option>
              ))}
            </select>
          </div>
        </div>
        {preset === 'custom' && !rangeFor(preset, custom, Date.now()) && <p class="notice">Pick a start day on or before the end day.</p>}
      </form>
      <ProblemBox error={error} title="Could not load the figures" />
      {!data && !error && (
        <p class="loading" role="status">
          Loading…
        </p>
      )}
      {d && range && (
        <div aria-busy={loading}>
          <p class="sub" role="status">
            {empty ? 'No alerts in this range.' : `${d.totals.created} alert${d.totals.created === 1 ? '' : 's'} created, ${d.totals.acknowledged} acknowledged, ${d.totals.resolved} resolved, ${d.totals.escalated} escalated.${d.approximate ? ' Times (≈) are within 1 %.' : ''}`}
          </p>
          {!empty && (
            <>
              <ul class="tiles" aria-label="Response figures">
                {tiles.map((t) => (
                  <li key={t.name} class="tile">
                    <span class="tile-name">{t.name}</span>
                    <span class="tile-value">{t.value}</span>
                    <Comparison t={t} days={range.days} />
                  </li>
                ))}
              </ul>
              <section class="panel" aria-labelledby="an-series-title">
                <h2 id="an-series-title">Created, acknowledged and escalated</h2>
                <p class="hint">Select a point to see those alerts.</p>
                <div class="chart-box">
                  <canvas ref={canvas} role="img" aria-label={`Line chart per ${range.bucket}: ${d.series.filter((p) => p.created).map((p) => `${bucketLabel(p.t, range.bucket)} ${p.created} created, ${p.acknowledged} acknowledged, ${p.escalated} escalated`).join('; ')}`} />
                </div>
              </section>
              <section class="panel" aria-labelledby="an-cat-title">
                <h2 id="an-cat-title">By category</h2>
                <FigureTable label="Alerts by category" cols={['Category', '#Created', '#Acknowledged', '#Escalated', '#MTTA']}>
                  {d.by_category.map((c) => (
                    <tr key={c.category}>
                      <th scope="row">
                        <Link href={listHref(range.from, range.to, filters, c.category)}>{label(c.category)}</Link>
                      </th>
                      <td class="num">{c.created}</td>
                      <td class="num">{c.acknowledged}</td>
                      <td class="num">{c.escalated}</td>
                      <td class="num">{duration(c.mtta_p50_s)}</td>
                    </tr>
                  ))}
                </FigureTable>
              </section>
              <section class="panel" aria-labelledby="an-ch-title">
                <h2 id="an-ch-title">By channel</h2>
                <p class="hint">Messages sent on each channel, and the acknowledgements, snoozes and resolutions made from it.</p>
                {d.by_channel.length ? (
                  <FigureTable label="Messages and actions by channel" cols={['Channel', '#Sent', '#Delivered', '#Failed', '#Actions', 'sr:Share of actions']}>
                    {d.by_channel.map((c) => {
                      const share = actedTotal ? Math.round((c.acted / actedTotal) * 100) : 0;
                      return (
                        <tr key={c.channel}>
                          <th scope="row">{c.channel === 'in_app' ? 'In-app' : c.channel === 'api' ? 'API' : label(c.channel)}</th>
                          <td class="num">{c.sent}</td>
                          <td class="num">{c.delivered}</td>
                          <td class="num">{c.failed}</td>
                          <td class="num">{c.acted}</td>
                          <td class="bar-cell">
                            <span class="bar" style={{ width: `${share}%` }} />
                            <span class="sr-only">{share} % of actions</span>
                          </td>
                        </tr>
                      );
                    })}
                  </FigureTable>
                ) : (
                  <p>No messages were sent for these alerts.</p>
                )}
              </section>
              <section class="panel" aria-labelledby="an-people-title">
                <h2 id="an-people-title">By person</h2>
                {d.by_person.length ? (
                  <FigureTable label="Acknowledgements by person" cols={['Person', '#Acknowledged', '#MTTA']}>
                    {d.by_person.map((p) => (
                      <tr key={p.user_id}>
                        <th scope="row">{p.name}</th>
                        <td class="num">{p.acknowledged}</td>
                        <td class="num">{duration(p.mtta_p50_s)}</td>
                      </tr>
                    ))}
                  </FigureTable>
                ) : (
                  <p>Nobody acknowledged these alerts in person.</p>
                )}
              </section>
              <section class="panel" aria-labelledby="an-noisy-title">
                <h2 id="an-noisy-title">Noisiest</h2>
                <ul class="noisy">
                  {d.noisiest.map((x) => (
                    <li key={'rule_id' in x ? `r${x.rule_id}` : `k${x.dedup_key}`}>
                      {'rule_id' in x ? <>Rule <strong>{x.name ?? `#${x.rule_id}`}</strong></> : <>Key <code>{x.dedup_key}</code></>}: {x.alerts} alert{x.alerts === 1 ? '' : 's'}
                    </li>
                  ))}
                </ul>
              </section>
            </>
          )}
        </div>
      )}
    </section>
  );
}
