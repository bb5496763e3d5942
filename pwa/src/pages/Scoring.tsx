// /scores, /scores/:key, /entities, /entities/:kind/:id — scoring (docs/design.md "Scoring"). Lazy-loaded with
// Chart.js, so neither reaches the first screen. A score page shows top and bottom, the distribution, who
// crossed a threshold lately, the model's measures, and a recompute (or train) button with live progress; an
// entity page shows its attributes, each score with its explanation as a bar list and its history as a line.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import { ProblemBox } from '../components/Problem';
import { useAction, useDebounced, useTitle } from '../hooks';
import { Link, useRoute } from '../router';

interface Expl { factor: string; contribution: number; status: string; value?: unknown }
interface Run { id: number; kind: string; status: string; progress: number; total: number; done: number; error: string | null; result: Record<string, unknown> | null; finished_at: string | null }
interface ScoreDef {
  key: string; name: string; entity_kind: string; entities?: number; entities_of_kind?: number; state?: string | null;
  thresholds: Array<{ below?: number; above?: number; severity: string; title: string }>; range?: [number, number];
  model?: { version: number | null; trained_at: string | null; samples: number; auc: number | null; coefficients: Record<string, number> | null; calibration: Array<{ bin: string; predicted: number; observed: number; n: number }> | null };
  runs?: Run[]; models?: Array<{ version: number; status: string; message: string | null; auc: number | null; samples: number }>;
}
interface Ranked { kind: string; id: string; name: string | null; value: number; crossed_at: string | null }

const COLORS = ['#1d4ed8', '#b45309'];
const STATUS_WORDS: Record<string, string> = { missing: 'missing', not_numeric: 'not a number', not_met: 'not met', out_of_range: 'out of range', applied: '', base: '', feature: '' };
const num = (v: number | null | undefined, d = 2) => (v === null || v === undefined || !Number.isFinite(v) ? '—' : Number.isInteger(v) ? String(v) : v.toFixed(d));
const signed = (v: number) => (v > 0 ? `+${num(v)}` : v < 0 ? `−${num(-v)}` : '0');
const entityHref = (kind: string, id: string) => `/entities/${encodeURIComponent(kind)}/${encodeURIComponent(id)}`;

/** A Chart.js chart (loaded on demand), its numbers also in the accessible label. */
function Chart({ kind, labels, data, label }: { kind: 'line' | 'bar'; labels: string[]; data: number[]; label: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    let chart: { destroy(): void } | null = null;
    let cancelled = false;
    import('chart.js').then(({ Chart, BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Tooltip }) => {
      if (cancelled || !canvas.current) return;
      Chart.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Tooltip);
      chart = new Chart(canvas.current, {
        type: kind,
        data: { labels, datasets: [{ label, data, borderColor: COLORS[0], backgroundColor: COLORS[0] + 'cc', pointRadius: 2, stepped: kind === 'line' ? 'before' : false }] },
        options: { responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: kind === 'bar' } } },
      });
    });
    return () => { cancelled = true; chart?.destroy(); };
  }, [JSON.stringify([kind, labels, data])]);
  const summary = `${label}: ${labels.map((l, i) => `${l} ${num(data[i])}`).join(', ')}`.slice(0, 800);
  return <div class="chart-box"><canvas ref={canvas} role="img" aria-label={summary} /></div>;
}

/** Each factor's contribution as a bar to the left (negative) or right (positive) of a centre line. */
export function ExplanationBars({ items, caption }: { items: Expl[]; caption: string }) {
  const max = Math.max(1e-9, ...items.map((x) => Math.abs(x.contribution)));
  return (
    <table class="table compact expl">
      <caption class="sr-only">{caption}</caption>
      <thead><tr><th scope="col">Factor</th><th scope="col" class="num">Contribution</th><th scope="col"><span class="sr-only">Bar</span></th></tr></thead>
      <tbody>
        {items.map((x, i) => {
          const w = `${(Math.abs(x.contribution) / max) * 50}%`;
          const note = STATUS_WORDS[x.status] ?? x.status;
          return (
            <tr key={i} class={x.status === 'missing' || x.status === 'not_numeric' ? 'expl-missing' : ''}>
              <th scope="row">{x.factor}{note && <span class="sub"> ({note})</span>}{x.value !== undefined && x.value !== null && x.status !== 'base' && <span class="sub"> · {String(x.value)}</span>}</th>
              <td class="num">{signed(x.contribution)}</td>
              <td class="expl-cell" aria-hidden="true">
                <span class="expl-track">
                  {x.contribution < 0 && <span class="expl-bar neg" style={{ width: w, right: '50%' }} />}
                  {x.contribution > 0 && <span class="expl-bar pos" style={{ width: w, left: '50%' }} />}
                </span>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function RankTable({ title, rows }: { title: string; rows: Ranked[] }) {
  return (
    <section class="panel" aria-labelledby={`rk-${title}`}>
      <h2 id={`rk-${title}`}>{title}</h2>
      {!rows.length ? <p class="empty">Nothing scored yet.</p> : (
        <table class="table compact">
          <caption class="sr-only">{title}</caption>
          <thead><tr><th scope="col">Entity</th><th scope="col" class="num">Value</th></tr></thead>
          <tbody>{rows.map((r) => <tr key={r.id}><th scope="row"><Link href={entityHref(r.kind, r.id)}>{r.name ?? r.id}</Link></th><td class="num">{num(r.value)}</td></tr>)}</tbody>
        </table>
      )}
    </section>
  );
}

/** Polls a run until it ends; its progress is shown as a <progress> with a live status line. */
function RunProgress({ skey, runId, onDone }: { skey: string; runId: number; onDone: () => void }) {
  const [run, setRun] = useState<Run | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let stop = false;
    const tick = () => api.get<Run>(`/v1/scores/${encodeURIComponent(skey)}/runs/${runId}`).then((r) => {
      if (stop) return;
      setRun(r);
      if (r.status === 'succeeded' || r.status === 'failed') onDone();
      else setTimeout(tick, 500);
    }, (e) => !stop && setError(e));
    tick();
    return () => { stop = true; };
  }, [skey, runId]);
  if (error) return <ProblemBox error={error} title="Could not follow the run" />;
  if (!run) return <p class="loading" role="status">Starting…</p>;
  const pct = Math.round(run.progress * 100);
  return (
    <div class="run" role="status">
      <label>
        {run.kind === 'train' ? 'Training' : 'Recomputing'}: {run.status}, {pct}% ({run.done} of {run.total} entities)
        <progress max={100} value={pct} />
      </label>
      {run.error && <p class="problem-inline">{run.error}</p>}
      {run.status === 'succeeded' && run.result && <p class="sub">{run.kind === 'train' ? `Trained version ${run.result.version}, AUC ${num(run.result.auc as number, 3)}` : `${run.result.changed} values changed, ${run.result.crossings} crossings`}.</p>}
    </div>
  );
}

function ScorePage({ skey }: { skey: string }) {
  const [def, setDef] = useState<ScoreDef | null>(null);
  const [sum, setSum] = useState<any>(null);
  const [top, setTop] = useState<Ranked[]>([]);
  const [bottom, setBottom] = useState<Ranked[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [runId, setRunId] = useState<number | null>(null);
  const action = useAction();
  useTitle(def?.name ?? 'Score');
  const k = encodeURIComponent(skey);
  const load = () => Promise.all([
    api.get<ScoreDef>(`/v1/scores/${k}`), api.get<any>(`/v1/scores/${k}/summary`),
    api.get<{ items: Ranked[] }>(`/v1/scores/${k}/entities?order=desc&limit=10`), api.get<{ items: Ranked[] }>(`/v1/scores/${k}/entities?order=asc&limit=10`),
  ]).then(([d, s, t, b]) => { setDef(d); setSum(s); setTop(t.items); setBottom(b.items); setError(null); }, setError);
  useEffect(() => { void load(); }, [skey]);
  const start = (what: 'recompute' | 'train') => action.run(async () => {
    const r = await api.post<{ run_id: number }>(`/v1/scores/${k}/${what}`);
    setRunId(r.run_id);
  });
  return (
    <section class="page" aria-labelledby="score-title">
      <h1 id="score-title">{def?.name ?? 'Score'}</h1>
      <p class="sub"><Link href="/scores">All scores</Link> · <Link href={`/entities?kind=${encodeURIComponent(def?.entity_kind ?? '')}`}>{def?.entity_kind ?? ''} entities</Link></p>
      <ProblemBox error={error} title="Could not load the score" />
      {!def && !error && <p class="loading" role="status">Loading…</p>}
      {def && (
        <>
          {def.state && <p class="banner" role="status">{def.state}</p>}
          <div class="kpi-row">
            <div class="kpi"><div class="kpi-title">Scored</div><div class="kpi-value">{sum?.count ?? 0}</div><div class="kpi-sub">of {def.entities_of_kind} {def.entity_kind} entities</div></div>
            <div class="kpi"><div class="kpi-title">Mean</div><div class="kpi-value">{num(sum?.mean)}</div><div class="kpi-sub">range {def.range ? `${def.range[0]}–${def.range[1]}` : def.model ? '0–100' : 'open'}</div></div>
            <div class="kpi"><div class="kpi-title">Past a threshold</div><div class="kpi-value">{sum?.past_threshold ?? 0}</div><div class="kpi-sub">{def.thresholds.map((t) => `${t.title}: ${t.below !== undefined ? `below ${t.below}` : `above ${t.above}`}`).join('; ') || 'no thresholds'}</div></div>
          </div>
          <div class="actions">
            <button type="button" class="btn" disabled={action.busy} onClick={() => start('recompute')}>Recompute all</button>
            {def.model && <button type="button" class="btn" disabled={action.busy} onClick={() => start('train')}>Train the model</button>}
          </div>
          <ProblemBox error={action.error} title="Could not start" />
          {runId !== null && <RunProgress key={runId} skey={skey} runId={runId} onDone={() => void load()} />}
          <div class="widget-grid">
            <section class="panel widget" aria-labelledby="dist-title">
              <h2 id="dist-title">Distribution</h2>
              {sum?.count ? <Chart kind="bar" label="Entities" labels={sum.distribution.map((b: { from: number; to: number }) => `${num(b.from, 1)}–${num(b.to, 1)}`)} data={sum.distribution.map((b: { n: number }) => b.n)} />
                : <p class="empty">No values yet.</p>}
            </section>
            <section class="panel widget" aria-labelledby="crossed-title">
              <h2 id="crossed-title">Crossed lately</h2>
              {!sum?.crossed_lately?.length ? <p class="empty">Nobody crossed a threshold yet.</p> : (
                <ul class="list">{sum.crossed_lately.map((c: { id: string; name: string | null; value: number; crossed_at: string }) => (
                  <li key={c.id}><Link href={entityHref(def.entity_kind, c.id)}>{c.name ?? c.id}</Link> <span class="sub">{num(c.value)} · {c.crossed_at.slice(0, 16).replace('T', ' ')}</span></li>
                ))}</ul>
              )}
            </section>
            <RankTable title="Top 10" rows={top} />
            <RankTable title="Bottom 10" rows={bottom} />
            {def.model && (
              <section class="panel widget" aria-labelledby="model-title">
                <h2 id="model-title">Model</h2>
                {def.model.version === null ? <p class="empty">Not trained yet{def.models?.[0]?.message ? `: ${def.models[0].message}` : '.'}</p> : (
                  <>
                    <p>Version {def.model.version}, trained {def.model.trained_at?.slice(0, 16).replace('T', ' ')} on {def.model.samples} entities; held-out AUC {num(def.model.auc, 3)}.</p>
                    <table class="table compact"><caption>Coefficients (standardised features)</caption>
                      <thead><tr><th scope="col">Feature</th><th scope="col" class="num">Coefficient</th></tr></thead>
                      <tbody>{Object.entries(def.model.coefficients ?? {}).map(([f, c]) => <tr key={f}><th scope="row">{f}</th><td class="num">{num(c, 3)}</td></tr>)}</tbody>
                    </table>
                    <table class="table compact"><caption>Calibration on the held-out entities</caption>
                      <thead><tr><th scope="col">Predicted</th><th scope="col" class="num">Mean predicted</th><th scope="col" class="num">Observed</th><th scope="col" class="num">Entities</th></tr></thead>
                      <tbody>{(def.model.calibration ?? []).map((b) => <tr key={b.bin}><th scope="row">{b.bin}</th><td class="num">{num(b.predicted, 3)}</td><td class="num">{num(b.observed, 3)}</td><td class="num">{b.n}</td></tr>)}</tbody>
                    </table>
                  </>
                )}
              </section>
            )}
          </div>
        </>
      )}
    </section>
  );
}

function ScoreList() {
  useTitle('Scores');
  const [items, setItems] = useState<ScoreDef[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => { api.get<{ items: ScoreDef[] }>('/v1/scores').then((r) => setItems(r.items), setError); }, []);
  return (
    <section class="page" aria-labelledby="scores-title">
      <h1 id="scores-title">Scores</h1>
      <p class="sub"><Link href="/entities">Search entities</Link></p>
      <ProblemBox error={error} title="Could not load the scores" />
      {!items && !error && <p class="loading" role="status">Loading…</p>}
      {items && !items.length && <p class="empty">No scores yet. Define one with POST /v1/scores.</p>}
      {items && !!items.length && (
        <ul class="list">{items.map((s) => (
          <li key={s.key}><Link href={`/scores/${s.key}`}>{s.name}</Link> <span class="sub">{s.entity_kind} · {s.entities} scored{s.model ? ` · model, AUC ${num(s.model.auc, 3)}` : ''}</span></li>
        ))}</ul>
      )}
    </section>
  );
}

function EntityList() {
  useTitle('Entities');
  const { query } = useRoute();
  const [q, setQ] = useState(query.get('q') ?? '');
  const kind = query.get('kind') ?? '';
  const dq = useDebounced(q, 250);
  const [items, setItems] = useState<Array<{ kind: string; id: string; name: string | null; event_count: number; last_event_at: string | null }> | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const p = new URLSearchParams();
    if (kind) p.set('kind', kind);
    if (dq) p.set('q', dq);
    api.get<{ items: any[] }>(`/v1/entities?${p}`).then((r) => { setItems(r.items); setError(null); }, setError);
  }, [kind, dq]);
  return (
    <section class="page" aria-labelledby="ent-title">
      <h1 id="ent-title">Entities{kind ? `: ${kind}` : ''}</h1>
      <p class="sub"><Link href="/scores">Scores</Link></p>
      <label class="field">Search by name or id <input type="search" value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} /></label>
      <ProblemBox error={error} title="Could not load the entities" />
      {items && !items.length && <p class="empty">No entities match.</p>}
      {items && !!items.length && (
        <table class="table compact">
          <caption class="sr-only">Entities</caption>
          <thead><tr><th scope="col">Entity</th><th scope="col">Kind</th><th scope="col" class="num">Events</th><th scope="col">Last event</th></tr></thead>
          <tbody>{items.map((e) => (
            <tr key={`${e.kind}/${e.id}`}><th scope="row"><Link href={entityHref(e.kind, e.id)}>{e.name ?? e.id}</Link></th><td>{e.kind}</td><td class="num">{e.event_count}</td><td>{e.last_event_at?.slice(0, 16).replace('T', ' ') ?? '—'}</td></tr>
          ))}</tbody>
        </table>
      )}
    </section>
  );
}

function History({ kind, id, skey, name }: { kind: string; id: string; skey: string; name: string }) {
  const [items, setItems] = useState<Array<{ at: string; value: number }> | null>(null);
  useEffect(() => {
    api.get<{ items: Array<{ at: string; value: number }> }>(`/v1/entities/${encodeURIComponent(kind)}/${encodeURIComponent(id)}/scores/${encodeURIComponent(skey)}/history`).then((r) => setItems(r.items), () => setItems([]));
  }, [kind, id, skey]);
  if (!items) return null;
  if (items.length < 2) return <p class="sub">No change in its history yet.</p>;
  return <Chart kind="line" label={`${name} history`} labels={items.map((x) => x.at.slice(5, 16).replace('T', ' '))} data={items.map((x) => x.value)} />;
}

function EntityPage({ kind, id }: { kind: string; id: string }) {
  const [e, setE] = useState<any>(null);
  const [error, setError] = useState<unknown>(null);
  useTitle(e?.name ?? id);
  useEffect(() => { api.get<any>(`/v1/entities/${encodeURIComponent(kind)}/${encodeURIComponent(id)}`).then(setE, setError); }, [kind, id]);
  return (
    <section class="page" aria-labelledby="entity-title">
      <h1 id="entity-title">{e?.name ?? id}</h1>
      <p class="sub"><Link href={`/entities?kind=${encodeURIComponent(kind)}`}>{kind}</Link> · {id}{e ? ` · ${e.event_count} events` : ''}</p>
      <ProblemBox error={error} title="Could not load the entity" />
      {!e && !error && <p class="loading" role="status">Loading…</p>}
      {e && (
        <div class="widget-grid">
          {Object.entries(e.scores as Record<string, any>).map(([key, s]) => (
            <section key={key} class="panel widget" aria-labelledby={`sc-${key}`}>
              <h2 id={`sc-${key}`}><Link href={`/scores/${key}`}>{s.name}</Link>: {s.value === null ? 'not scored' : num(s.value)}</h2>
              {s.value === null ? <p class="empty">{s.state}</p> : (
                <>
                  <ExplanationBars items={s.explanation} caption={`Why ${s.name} is ${num(s.value)}`} />
                  <History kind={kind} id={id} skey={key} name={s.name} />
                </>
              )}
            </section>
          ))}
          <section class="panel widget" aria-labelledby="attr-title">
            <h2 id="attr-title">Attributes</h2>
            {!Object.keys(e.attributes).length ? <p class="empty">No attributes yet.</p> : (
              <table class="table compact"><caption class="sr-only">Attributes</caption>
                <tbody>{Object.entries(e.attributes).map(([k, v]) => <tr key={k}><th scope="row">{k}</th><td>{typeof v === 'object' ? JSON.stringify(v) : String(v)}</td></tr>)}</tbody>
              </table>
            )}
          </section>
          <section class="panel widget" aria-labelledby="open-title">
            <h2 id="open-title">Open alerts</h2>
            {!e.open_alerts.length ? <p class="empty">No open alerts.</p> : (
              <ul class="list">{e.open_alerts.map((a: { id: number; title: string; status: string }) => <li key={a.id}><Link href={`/alerts/${a.id}`}>{a.title}</Link> <span class="sub">{a.status}</span></li>)}</ul>
            )}
          </section>
          <section class="panel widget" aria-labelledby="recent-title">
            <h2 id="recent-title">Recent events</h2>
            <ul class="list">{e.recent_events.map((r: { id: number; category: string; type: string; title: string; at: string }) => (
              <li key={r.id}>{r.title} <span class="sub">{r.category}/{r.type} · {r.at.slice(0, 16).replace('T', ' ')}</span></li>
            ))}</ul>
          </section>
        </div>
      )}
    </section>
  );
}

export default function Scoring(p: { view: 'scores' } | { view: 'score'; skey: string } | { view: 'entities' } | { view: 'entity'; kind: string; id: string }) {
  if (p.view === 'score') return <ScorePage skey={p.skey} />;
  if (p.view === 'entities') return <EntityList />;
  if (p.view === 'entity') return <EntityPage kind={p.kind} id={p.id} />;
  return <ScoreList />;
}
