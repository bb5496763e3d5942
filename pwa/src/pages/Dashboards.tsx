// /dashboards — role KPI dashboards (docs/design.md "KPI metrics and role dashboards"). Lazy-loaded with
// Chart.js, so neither reaches the first screen. /dashboards opens the first dashboard of the user's roles;
// /dashboards/:key shows one with a range picker; every widget answers from one request, reloaded when the
// live stream says one of its metrics moved (and every minute as a fallback), so numbers move as events
// arrive. Each widget opens the events (or items) behind it.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import { ProblemBox } from '../components/Problem';
import { useTitle } from '../hooks';
import { Link, navigate, useRoute } from '../router';
import { onMetrics, onReconnect } from '../live';

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
/** The fallback reload while visible (the live stream drives the rest). */
const REFRESH_MS = 60_000;
/** Live changes are gathered this long before one reload. */
const LIVE_DEBOUNCE_MS = 1_000;

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

interface DrillEvent { id: number; at: string; title: string; type: string; status: string; alert_id: number | null; group: string | null; value: number | null; skipped: string | null }
interface DrillItem { entity: string; name: string | null; opened_at: string | null; closed_at: string | null; closed_by: string | null; amount: number | null; alert_id: number | null }
type Drill = { kind: 'events'; complete: boolean; unit: string | null; items: DrillEvent[] } | { kind: 'items'; complete: boolean; unit: string | null; items: DrillItem[] };

const when = (iso: string) => iso.slice(5, 16).replace('T', ' ');

/** What is behind a widget over the dashboard's range: the events it counted, or the items it opened and closed. */
function DrillDown({ metric, title, from, to, onClose }: { metric: string; title: string; from: string; to: string; onClose: () => void }) {
  const [drill, setDrill] = useState<Drill | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    setDrill(null);
    api.get<Drill>(`/v1/metrics/${encodeURIComponent(metric)}/events?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&limit=50`).then(setDrill, setError);
  }, [metric, from, to]);
  return (
    <section class="panel drill" aria-label={`Behind ${title}`}>
      <div class="page-head">
        <h3>Behind “{title}”</h3>
        <button type="button" class="btn small" onClick={onClose}>Close</button>
      </div>
      <ProblemBox error={error} title="Could not load what is behind it" />
      {!drill && !error && <p class="loading" role="status">Loading…</p>}
      {drill && !drill.items.length && <Empty>Nothing in this range.</Empty>}
      {drill?.kind === 'events' && !!drill.items.length && (
        <ul class="drill-list" aria-label={`Events behind ${title}`}>
          {drill.items.map((e) => (
            <li key={e.id}>
              <span class="sub">{when(e.at)}</span> {e.title}
              {e.group !== null && <span class="chip">{e.group}</span>}
              {e.value !== null && <strong> {fmt(e.value, drill.unit)}</strong>}
              {e.skipped && <span class="sub"> (not counted: {e.skipped === 'missing_field' ? 'the field is missing' : 'not a number'})</span>}
              {e.alert_id && <> · <Link href={`/alerts/${e.alert_id}`}>Alert #{e.alert_id}</Link></>}
            </li>
          ))}
        </ul>
      )}
      {drill?.kind === 'items' && !!drill.items.length && (
        <ul class="drill-list" aria-label={`Items behind ${title}`}>
          {drill.items.map((i, n) => (
            <li key={`${i.entity}-${n}`}>
              <strong>{i.name ?? i.entity}</strong> opened {i.opened_at ? when(i.opened_at) : '—'}
              {i.closed_at ? `, closed ${when(i.closed_at)}${i.closed_by ? ` (${i.closed_by})` : ''}` : ', still open'}
              {i.amount !== null && ` · ${fmt(i.amount, drill.unit === 's' ? null : drill.unit)}`}
              {i.alert_id && <> · <Link href={`/alerts/${i.alert_id}`}>Alert #{i.alert_id}</Link></>}
            </li>
          ))}
        </ul>
      )}
      {drill && !drill.complete && <p class="sub">Showing the latest {drill.items.length}; narrow the range to see older ones.</p>}
    </section>
  );
}

/** The widgets of one dashboard answer: KPI tiles in a row, the rest as panels. Shared with the editor's preview. */
export function DashboardView({ answer }: { answer: DashboardAnswer }) {
  const [open, setOpen] = useState<number | null>(null);
  const indexed = answer.widgets.map((w, i) => ({ w, i }));
  const tiles = indexed.filter(({ w }) => w.type === 'kpi');
  const rest = indexed.filter(({ w }) => w.type !== 'kpi');
  const toggle = (i: number) => setOpen(open === i ? null : i);
  const drill = (i: number) => (
    <DrillDown metric={answer.widgets[i].metric} title={answer.widgets[i].title} from={answer.from} to={answer.to} onClose={() => setOpen(null)} />
  );
  const openTile = tiles.find(({ i }) => i === open);
  return (
    <>
      {!!tiles.length && (
        <div class="kpi-row">
          {tiles.map(({ w, i }) => (
            <button key={i} type="button" class="kpi-button" aria-expanded={open === i} onClick={() => toggle(i)}>
              <Tile w={w} />
              <span class="sr-only">Show what is behind it</span>
            </button>
          ))}
        </div>
      )}
      {openTile && drill(openTile.i)}
      <div class="widget-grid">
        {rest.map(({ w, i }) => (
          <section key={i} class="panel widget" aria-label={w.title}>
            <div class="page-head">
              <h2>{w.title}</h2>
              <button type="button" class="btn small" aria-expanded={open === i} onClick={() => toggle(i)}>
                {open === i ? 'Hide details' : 'Details'}
              </button>
            </div>
            {w.data.rollup === 'rebuilding' && <p class="sub" role="status">Recomputing this metric from past events…</p>}
            <WidgetBody w={w} />
            {open === i && drill(i)}
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
    let metrics = new Set<string>();
    let pending: ReturnType<typeof setTimeout> | null = null;
    const load = () => {
      const from = new Date(Date.now() - range.days * 86_400_000).toISOString();
      api.get<DashboardAnswer>(`/v1/dashboards/${encodeURIComponent(dkey)}?from=${encodeURIComponent(from)}`).then((a) => {
        if (stop) return;
        metrics = new Set(a.widgets.map((w) => w.metric));
        setAnswer(a);
        setError(null);
      }, (e) => !stop && setError(e));
    };
    load();
    const timer = setInterval(() => { if (document.visibilityState === 'visible') load(); }, REFRESH_MS);
    // One reload per burst of live changes to this dashboard's metrics.
    const offMetrics = onMetrics((keys) => {
      if (pending || !keys.some((k) => metrics.has(k))) return;
      pending = setTimeout(() => { pending = null; load(); }, LIVE_DEBOUNCE_MS);
    });
    const offReconnect = onReconnect(load);
    return () => { stop = true; clearInterval(timer); if (pending) clearTimeout(pending); offMetrics(); offReconnect(); };
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
