// /dashboards — role KPI dashboards (docs/design.md "KPI metrics and role dashboards"). Lazy-loaded with
// Chart.js, so neither reaches the first screen. /dashboards opens the first dashboard of the user's roles;
// /dashboards/:key shows one with a range picker; every widget answers from one request, refreshed every
// 15 seconds while the page is visible so numbers move as events arrive.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import { ProblemBox } from '../components/Problem';
import { useTitle } from '../hooks';
import { Link, navigate, useRoute } from '../router';

export interface WidgetDef { type: string; metric: string; title: string; options?: Record<string, unknown> }
export interface DashboardMeta { key: string; name: string; roles: string[]; widgets: WidgetDef[]; preset: boolean; mine?: boolean }
type Point = { t: string; value: number | null };
type Data = Record<string, any>;
export interface DashboardAnswer extends DashboardMeta { from: string; to: string; editable: boolean; widgets: Array<WidgetDef & { data: Data }> }

const RANGES = [
  { key: '7d', label: '7 days', days: 7 },
  { key: '30d', label: '30 days', days: 30 },
  { key: '90d', label: '90 days', days: 90 },
] as const;
const COLORS = ['#1d4ed8', '#b45309', '#047857', '#7c3aed', '#be123c', '#0e7490', '#4d7c0f'];
const REFRESH_MS = 15_000;

/** A number in its unit: seconds as a duration, EUR as money, % with one decimal. */
export function fmt(v: number | null | undefined, unit?: string | null, measure?: string): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (measure?.startsWith('closed_share:')) return `${(v * 100).toFixed(1)}%`;
  if (measure?.endsWith('_days')) return `${v.toFixed(1)} days`;
  const u = measure?.startsWith('time_to_close') || measure === undefined ? unit : measure === 'open_count' || measure === 'value' ? (unit === 's' ? null : unit) : unit;
  if (u === 's' || measure?.endsWith('_s')) return duration(v);
  const n = Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en') : Number.isInteger(v) ? String(v) : v.toFixed(2);
  if (u === 'EUR') return `€${n}`;
  if (u === '%') return `${n}%`;
  return u ? `${n} ${u}` : n;
}

function duration(s: number): string {
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 2 * 86400) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} days`;
}

function Tile({ w }: { w: WidgetDef & { data: Data } }) {
  const d = w.data;
  const m = (w.options?.measure as string | undefined) ?? (d.measure as string | undefined);
  const status: string = d.status ?? 'none';
  const ch = d.change_pct as number | null;
  return (
    <div class={`kpi kpi-${status}`}>
      <div class="kpi-title">{w.title}</div>
      <div class="kpi-value">{fmt(d.value, d.unit, m)}</div>
      <div class="kpi-sub">
        {ch === null || ch === undefined ? 'no earlier figure' : `${ch > 0 ? '▲' : ch < 0 ? '▼' : '■'} ${Math.abs(ch).toFixed(1)}% vs previous period`}
        {status !== 'none' && <span class="sr-only">, status {status}</span>}
        {d.status_window && <span class="kpi-window"> · limits over {d.status_window}</span>}
      </div>
      {d.trend && <Chart kind="line" labels={d.trend.map((p: Point) => p.t)} sets={[{ label: w.title, data: d.trend.map((p: Point) => p.value) }]} small />}
    </div>
  );
}

interface Set { label: string; data: Array<number | null>; dashed?: boolean; fill?: boolean }

/** A Chart.js chart (loaded on demand), with its numbers also in the accessible label. */
function Chart({ kind, labels, sets, small, stacked }: { kind: 'line' | 'bar'; labels: string[]; sets: Set[]; small?: boolean; stacked?: boolean }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    let chart: { destroy(): void } | null = null;
    let cancelled = false;
    import('chart.js').then(({ Chart, BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Tooltip, Legend, Filler }) => {
      if (cancelled || !canvas.current) return;
      Chart.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Tooltip, Legend, Filler);
      chart = new Chart(canvas.current, {
        type: kind,
        data: {
          labels: labels.map((t) => t.slice(5, t.includes('T00:00:00') ? 10 : 16).replace('T', ' ')),
          datasets: sets.map((s, i) => ({
            label: s.label, data: s.data, borderColor: COLORS[i % COLORS.length], backgroundColor: COLORS[i % COLORS.length] + (s.fill ? '33' : 'cc'),
            borderDash: s.dashed ? [6, 4] : undefined, pointRadius: small ? 0 : 2, fill: s.fill ? '-1' : false, spanGaps: true,
          })),
        },
        options: {
          responsive: true, maintainAspectRatio: false, animation: false,
          plugins: { legend: { display: !small && sets.length > 1 }, tooltip: { enabled: !small } },
          scales: small ? { x: { display: false }, y: { display: false } } : { x: { stacked }, y: { stacked, beginAtZero: true } },
        },
      });
    });
    return () => { cancelled = true; chart?.destroy(); };
  }, [JSON.stringify([labels, sets])]);
  const summary = sets.map((s) => `${s.label}: ${s.data.filter((v) => v !== null).length} points, last ${s.data.filter((v) => v !== null).slice(-1)[0] ?? 'none'}`).join('; ');
  return (
    <div class={small ? 'chart-box spark' : 'chart-box'}>
      <canvas ref={canvas} role="img" aria-label={summary} />
    </div>
  );
}

const hasData = (pts: Point[] | undefined) => !!pts?.some((p) => p.value !== null && p.value !== 0);

function Empty({ children }: { children: string }) {
  return <p class="empty">{children}</p>;
}

function WidgetBody({ w }: { w: WidgetDef & { data: Data } }) {
  const d = w.data;
  if (d.error) return <p class="problem-inline">{d.error}</p>;
  const u = d.unit as string | null;
  const m = w.options?.measure as string | undefined;
  switch (w.type) {
    case 'line':
    case 'bar': {
      if (d.groups?.length) {
        if (!d.groups.some((g: { series: Point[] }) => hasData(g.series))) return <Empty>No events in this range yet.</Empty>;
        return <Chart kind={w.type} stacked={w.type === 'bar'} labels={d.series.map((p: Point) => p.t)} sets={d.groups.map((g: { group: string; series: Point[] }) => ({ label: g.group, data: g.series.map((p) => p.value) }))} />;
      }
      if (!hasData(d.series)) return <Empty>No events in this range yet.</Empty>;
      return <Chart kind={w.type} labels={d.series.map((p: Point) => p.t)} sets={[{ label: w.title, data: d.series.map((p: Point) => p.value) }]} />;
    }
    case 'forecast': {
      if (!d.forecast?.length) return <Empty>{`No forecast yet: ${d.reason ?? 'not enough history'}.`}</Empty>;
      const hist: Point[] = d.history;
      const f: Array<{ t: string; value: number; lo: number; hi: number }> = d.forecast;
      const labels = [...hist.map((p) => p.t), ...f.map((p) => p.t)];
      const pad = (n: number) => Array<number | null>(n).fill(null);
      return (
        <>
          <Chart kind="line" labels={labels} sets={[
            { label: 'History', data: [...hist.map((p) => p.value), ...pad(f.length)] },
            { label: 'Low (95%)', data: [...pad(hist.length), ...f.map((p) => p.lo)], dashed: true },
            { label: 'High (95%)', data: [...pad(hist.length), ...f.map((p) => p.hi)], dashed: true, fill: true },
            { label: 'Forecast', data: [...pad(hist.length), ...f.map((p) => p.value)], dashed: true },
          ]} />
          <p class="sub">{d.method}; back-test error {d.backtest_mape === null ? 'n/a' : `${d.backtest_mape}%`}. Next: {fmt(f[0].value, u)} ({fmt(f[0].lo, u)} – {fmt(f[0].hi, u)}).</p>
        </>
      );
    }
    case 'aging':
      return (
        <table class="table compact">
          <caption class="sr-only">{w.title}</caption>
          <thead><tr><th scope="col">Age (days)</th><th scope="col" class="num">Open</th><th scope="col" class="num">Amount</th></tr></thead>
          <tbody>
            {d.aging.map((a: { bucket: string; count: number; amount: number }) => (
              <tr key={a.bucket} class={a.bucket === '90+' && a.count ? 'row-bad' : ''}><th scope="row">{a.bucket}</th><td class="num">{a.count}</td><td class="num">{fmt(a.amount, u)}</td></tr>
            ))}
            <tr><th scope="row">Total</th><td class="num">{d.open_count}</td><td class="num">{fmt(d.open_amount, u)}</td></tr>
          </tbody>
        </table>
      );
    case 'status_grid':
      if (!d.items?.length) return <Empty>Nothing reported yet.</Empty>;
      return (
        <ul class="status-grid">
          {d.items.map((i: { entity: string; name: string | null; status: string; since?: string; value?: number }) => (
            <li key={i.entity} class={`cell cell-${i.status}`}>
              <strong>{i.name ?? i.entity}</strong>
              <span>{i.since ? `${i.status === 'open' ? 'Down' : 'Up'} since ${i.since.slice(5, 16).replace('T', ' ')}` : `${fmt(i.value, u)} · ${i.status}`}</span>
            </li>
          ))}
        </ul>
      );
    case 'table': {
      const rows = d.rows as Array<Record<string, any>>;
      if (!rows?.length) return <Empty>No rows in this range yet.</Empty>;
      if ('entity' in rows[0])
        return (
          <div class="table-wrap" tabIndex={0} role="group" aria-label={`${w.title}, scrollable table`}><table class="table compact">
            <caption class="sr-only">{w.title}</caption>
            <thead><tr><th scope="col">Item</th><th scope="col" class="num">Episodes</th><th scope="col" class="num">Open time in range</th><th scope="col" class="num">Mean time to close</th><th scope="col">Now</th></tr></thead>
            <tbody>{rows.map((r) => (
              <tr key={r.entity}><th scope="row">{r.name ?? r.entity}</th><td class="num">{r.episodes}</td><td class="num">{fmt(r.open_s, 's')}</td><td class="num">{fmt(r.mean_close_s, 's')}</td><td>{r.open_now ? `open${r.amount ? ` · ${fmt(r.amount, u === 's' ? null : u)}` : ''}` : 'closed'}</td></tr>
            ))}</tbody>
          </table></div>
        );
      return (
        <table class="table compact">
          <caption class="sr-only">{w.title}</caption>
          <thead><tr><th scope="col">{'group' in rows[0] ? 'Group' : 'Period'}</th><th scope="col" class="num">Value</th></tr></thead>
          <tbody>{rows.map((r) => (
            <tr key={r.group ?? r.t}><th scope="row">{r.group ?? String(r.t).slice(0, 10)}</th><td class="num">{fmt(r.value, u, m)}</td></tr>
          ))}</tbody>
        </table>
      );
    }
    default:
      return null;
  }
}

/** The widgets of one dashboard answer: KPI tiles in a row, the rest as panels. Shared with the editor's preview. */
export function DashboardView({ answer }: { answer: DashboardAnswer }) {
  const tiles = answer.widgets.filter((w) => w.type === 'kpi');
  const rest = answer.widgets.filter((w) => w.type !== 'kpi');
  return (
    <>
      {!!tiles.length && <div class="kpi-row">{tiles.map((w, i) => <Tile key={i} w={w} />)}</div>}
      <div class="widget-grid">
        {rest.map((w, i) => (
          <section key={i} class="panel widget" aria-label={w.title}>
            <h2>{w.title}</h2>
            {w.data.rollup === 'rebuilding' && <p class="sub" role="status">Recomputing this metric from past events…</p>}
            <WidgetBody w={w} />
          </section>
        ))}
      </div>
    </>
  );
}

function DashboardPage({ dkey }: { dkey: string }) {
  const { query } = useRoute();
  const range = RANGES.find((r) => r.key === query.get('range')) ?? RANGES[1];
  const [answer, setAnswer] = useState<DashboardAnswer | null>(null);
  const [error, setError] = useState<unknown>(null);
  useTitle(answer?.name ?? 'Dashboard');

  useEffect(() => {
    let stop = false;
    const load = () => {
      const from = new Date(Date.now() - range.days * 86_400_000).toISOString();
      api.get<DashboardAnswer>(`/v1/dashboards/${encodeURIComponent(dkey)}?from=${encodeURIComponent(from)}`).then((a) => { if (!stop) { setAnswer(a); setError(null); } }, (e) => !stop && setError(e));
    };
    load();
    const timer = setInterval(() => { if (document.visibilityState === 'visible') load(); }, REFRESH_MS);
    return () => { stop = true; clearInterval(timer); };
  }, [dkey, range.key]);

  return (
    <section class="page" aria-labelledby="dash-title">
      <div class="page-head">
        <h1 id="dash-title">{answer?.name ?? 'Dashboard'}</h1>
        <div class="range-picker" role="group" aria-label="Range">
          {RANGES.map((r) => (
            <Link key={r.key} href={`/dashboards/${dkey}?range=${r.key}`} class={`chip${r.key === range.key ? ' on' : ''}`} aria-current={r.key === range.key ? 'true' : undefined}>{r.label}</Link>
          ))}
        </div>
      </div>
      <p class="sub">
        <Link href="/dashboards/all">All dashboards</Link>
        {answer?.editable && <> · <Link href={`/dashboards/${dkey}/edit`}>Edit</Link> · <Link href="/metrics">Metrics</Link></>}
      </p>
      <ProblemBox error={error} title="Could not load the dashboard" />
      {!answer && !error && <p class="loading" role="status">Loading…</p>}
      {answer && <DashboardView answer={answer} />}
    </section>
  );
}

function DashboardList({ pick }: { pick: boolean }) {
  useTitle('Dashboards');
  const [items, setItems] = useState<DashboardMeta[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api.get<{ items: DashboardMeta[] }>('/v1/dashboards').then((r) => {
      // /dashboards lands on the user's own dashboard when there is one.
      const mine = r.items.find((d) => d.mine);
      if (pick && mine) navigate(`/dashboards/${mine.key}`, { replace: true });
      else setItems(r.items);
    }, setError);
  }, [pick]);
  return (
    <section class="page" aria-labelledby="dl-title">
      <h1 id="dl-title">Dashboards</h1>
      <ProblemBox error={error} title="Could not load the dashboards" />
      {!items && !error && <p class="loading" role="status">Loading…</p>}
      {items && !items.length && <p>No dashboards yet.</p>}
      {items && (
        <ul class="list">
          {items.map((d) => (
            <li key={d.key}><Link href={`/dashboards/${d.key}`}>{d.name}</Link> <span class="sub">for {d.roles.join(', ') || 'everyone'} · {d.widgets.length} widgets</span></li>
          ))}
        </ul>
      )}
    </section>
  );
}

export default function Dashboards({ dkey }: { dkey: string | null }) {
  if (dkey === null || dkey === 'all') return <DashboardList pick={dkey === null} />;
  return <DashboardPage dkey={dkey} />;
}
