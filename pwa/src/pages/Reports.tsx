// /reports — reports nobody has to ask for: each report with its schedule, next run and history (status,
// live progress while it renders, rows, size, a download link, retry for a failed run). People who may
// edit reports (reports:write) create, edit, run and delete them here.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import { ProblemBox } from '../components/Problem';
import { useAction, useTitle } from '../hooks';

type Format = 'pdf' | 'csv' | 'xlsx';
type Kind = 'alerts' | 'dashboard' | 'scores';
interface Recipients { users: number[]; roles: string[]; emails: string[]; slack_channels: string[] }
interface Run {
  id: number; trigger: 'manual' | 'schedule'; status: 'queued' | 'running' | 'succeeded' | 'failed'; progress: number;
  started_at: string | null; finished_at: string | null; rows: number | null; bytes: number | null; error: string | null;
  filename: string | null; file_url: string | null; created_at: string; period: { from: string; to: string };
}
interface Report {
  id: number; name: string; kind: Kind; format: Format; params: Record<string, unknown>;
  schedule: { cron: string; timezone: string } | null; recipients: Recipients; next_run_at: string | null; last_run: Run | null;
}

const PERIODS: Array<[string, string]> = [
  ['last_24h', 'Last 24 hours'], ['last_7d', 'Last 7 days'], ['last_30d', 'Last 30 days'], ['previous_week', 'Previous week'], ['previous_month', 'Previous month'],
];
const KIND_LABEL: Record<string, string> = { alerts: 'Alert analytics', dashboard: 'KPI dashboard', scores: 'Scores' };
const STATUS_LABEL: Record<Run['status'], string> = { queued: 'Queued', running: 'Running', succeeded: 'Ready', failed: 'Failed' };
const POLL_MS = 1500;

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '—');
const size = (b: number | null) => (b === null ? '—' : b < 1024 ? `${b} B` : b < 1024 * 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${(b / 1024 / 1024).toFixed(1)} MiB`);
const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
const active = (r: Run | null | undefined) => !!r && (r.status === 'queued' || r.status === 'running');

function RunStatus({ run }: { run: Run }) {
  if (active(run)) {
    const pct = Math.round(run.progress * 100);
    return (
      <span>
        {STATUS_LABEL[run.status]}{' '}
        <progress max={100} value={pct} aria-label={`Run ${run.id} progress`}>
          {pct} %
        </progress>{' '}
        {pct} %
      </span>
    );
  }
  return <span class={`chip ${run.status === 'failed' ? 'status-triggered' : 'status-resolved'}`}>{STATUS_LABEL[run.status]}</span>;
}

function History({ report, editable, onChange }: { report: Report; editable: boolean; onChange: () => void }) {
  const [runs, setRuns] = useState<Run[] | null>(null);
  const load = useAction();
  const retry = useAction();
  const [tick, setTick] = useState(0);
  useEffect(() => {
    void load.run(async () => setRuns(await api.get<Run[]>(`/v1/reports/${report.id}/runs`)));
  }, [report.id, report.last_run?.id, report.last_run?.status, tick]);
  // Live progress: while a run is queued or rendering, ask again every POLL_MS.
  useEffect(() => {
    if (!runs?.some(active)) return;
    const t = setTimeout(() => setTick((x) => x + 1), POLL_MS);
    return () => clearTimeout(t);
  }, [runs]);
  const prevActive = useRef(false);
  useEffect(() => {
    const now = !!runs?.some(active);
    if (prevActive.current && !now) onChange();
    prevActive.current = now;
  }, [runs]);

  return (
    <div>
      <ProblemBox error={load.error ?? retry.error} title="The history could not be loaded" />
      {runs && !runs.length && <p class="hint">No runs yet.</p>}
      {runs && runs.length > 0 && (
        <div class="table-wrap" tabIndex={0} role="region" aria-label={`${report.name}: history`}>
          <table class="table">
            <caption class="sr-only">{report.name}: every run, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Status</th>
                <th scope="col">Rows</th>
                <th scope="col">File</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.id}>
                  <th scope="row">
                    {when(r.started_at ?? r.created_at)}
                    <br />
                    <span class="hint">{r.trigger === 'schedule' ? 'Scheduled' : 'By hand'}</span>
                  </th>
                  <td>
                    <RunStatus run={r} />
                    {r.error && <p class="hint">{r.error}</p>}
                  </td>
                  <td>{r.rows === null ? '—' : r.rows.toLocaleString()}</td>
                  <td>
                    {r.file_url ? (
                      <a href={r.file_url} download={r.filename ?? undefined}>
                        Download<span class="sr-only"> {r.filename}</span> ({size(r.bytes)})
                      </a>
                    ) : r.status === 'failed' && editable ? (
                      <button type="button" class="btn small" disabled={retry.busy}
                        onClick={() => void retry.run(async () => { await api.post(`/v1/report-runs/${r.id}/retry`); setTick((x) => x + 1); })}>
                        Retry<span class="sr-only"> run {r.id}</span>
                      </button>
                    ) : (
                      '—'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

interface Draft {
  name: string; kind: Kind; dashboard: string; period: string; category: string; format: Format;
  /** scores: the score's key, rank order, top N and value filters (as typed; empty is none). */
  score: string; order: 'asc' | 'desc'; top: string; below: string; above: string; crossed: boolean;
  scheduled: boolean; cron: string; timezone: string; emails: string; roles: string; slack: string;
}
interface ScoreOption { key: string; name: string; entity_kind: string }

const emptyDraft = (): Draft => ({
  name: '', kind: 'alerts', dashboard: '', period: 'last_7d', category: '', format: 'pdf',
  score: '', order: 'desc', top: '', below: '', above: '', crossed: false, scheduled: true, cron: '0 8 * * 1',
  timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC', emails: '', roles: '', slack: '',
});

const numText = (v: unknown) => (typeof v === 'number' ? String(v) : '');

function draftOf(r: Report): Draft {
  return {
    name: r.name, kind: r.kind, dashboard: String(r.params.dashboard ?? ''), period: String(r.params.period ?? 'last_7d'),
    category: String(r.params.category ?? ''), format: r.format,
    score: String(r.params.score ?? ''), order: r.params.order === 'asc' ? 'asc' : 'desc', top: numText(r.params.top),
    below: numText(r.params.below), above: numText(r.params.above), crossed: r.params.crossed === true,
    scheduled: !!r.schedule, cron: r.schedule?.cron ?? '0 8 * * 1',
    timezone: r.schedule?.timezone ?? 'UTC', emails: r.recipients.emails.join(', '), roles: r.recipients.roles.join(', '), slack: r.recipients.slack_channels.join(', '),
  };
}

/** A number field: empty is "not set"; anything else goes to the server as typed (a non-number is its 400). */
function setNumber(params: Record<string, unknown>, key: string, raw: string) {
  const t = raw.trim();
  if (!t) delete params[key];
  else params[key] = Number.isFinite(Number(t)) ? Number(t) : t;
}

function bodyOf(d: Draft, existing: Report | null) {
  const params: Record<string, unknown> = { ...(existing?.kind === d.kind ? existing.params : {}), period: d.period };
  delete params.from;
  delete params.to;
  if (d.kind === 'dashboard') params.dashboard = d.dashboard.trim();
  if (d.kind === 'alerts') {
    if (d.category.trim()) params.category = d.category.trim();
    else delete params.category;
  }
  if (d.kind === 'scores') {
    params.score = d.score;
    params.order = d.order;
    setNumber(params, 'top', d.top);
    setNumber(params, 'below', d.below);
    setNumber(params, 'above', d.above);
    if (d.crossed) params.crossed = true;
    else delete params.crossed;
  }
  return {
    name: d.name, kind: d.kind, format: d.kind === 'dashboard' ? 'pdf' : d.format, params,
    schedule: d.scheduled ? { cron: d.cron.trim(), timezone: d.timezone.trim() } : null,
    recipients: { users: existing?.recipients.users ?? [], roles: list(d.roles), emails: list(d.emails), slack_channels: list(d.slack) },
  };
}

function Editor({ report, onDone }: { report: Report | null; onDone: (saved: boolean) => void }) {
  const [d, setD] = useState<Draft>(report ? draftOf(report) : emptyDraft());
  const { busy, error, run } = useAction();
  const scores = useAction();
  const [scoreOptions, setScoreOptions] = useState<ScoreOption[] | null>(null);
  // The score picker lists the defined scores by name once the kind is scores.
  useEffect(() => {
    if (d.kind !== 'scores' || scoreOptions) return;
    void scores.run(async () => {
      const r = await api.get<{ items: ScoreOption[] }>('/v1/scores');
      setScoreOptions(r.items);
      setD((x) => (x.score || !r.items.length ? x : { ...x, score: r.items[0].key }));
    });
  }, [d.kind]);
  const set = <K extends keyof Draft>(k: K) => (e: Event) => {
    const el = e.currentTarget as HTMLInputElement;
    setD((x) => ({ ...x, [k]: el.type === 'checkbox' ? el.checked : el.value }));
  };
  const id = (k: string) => `rep-${report?.id ?? 'new'}-${k}`;
  async function save(e: Event) {
    e.preventDefault();
    const ok = await run(() => (report ? api.patch(`/v1/reports/${report.id}`, bodyOf(d, report)) : api.post('/v1/reports', bodyOf(d, null))));
    if (ok !== undefined) onDone(true);
  }
  return (
    <form class="form panel" onSubmit={save} aria-label={report ? `Edit ${report.name}` : 'New report'}>
      <h2>{report ? `Edit ${report.name}` : 'New report'}</h2>
      <div class="field">
        <label for={id('name')}>Name</label>
        <input id={id('name')} required maxLength={200} value={d.name} onInput={set('name')} />
      </div>
      <div class="field">
        <label for={id('kind')}>What</label>
        <select id={id('kind')} value={d.kind} onChange={set('kind')}>
          <option value="alerts">Alert analytics</option>
          <option value="dashboard">KPI dashboard</option>
          <option value="scores">Scores</option>
        </select>
      </div>
      {d.kind === 'scores' && (
        <>
          <ProblemBox error={scores.error} title="The scores could not be loaded" />
          {scoreOptions && !scoreOptions.length && <p class="hint">No scores are defined yet: define one on the <a href="/scores">Scores</a> page first.</p>}
          <div class="field">
            <label for={id('score')}>Score</label>
            <select id={id('score')} required value={d.score} onChange={set('score')} aria-busy={!scoreOptions && !scores.error}>
              {d.score && !scoreOptions?.some((o) => o.key === d.score) && <option value={d.score}>{d.score}</option>}
              {scoreOptions?.map((o) => <option key={o.key} value={o.key}>{o.name} ({o.entity_kind})</option>)}
            </select>
          </div>
          <div class="field">
            <label for={id('order')}>Rank</label>
            <select id={id('order')} value={d.order} onChange={set('order')}>
              <option value="desc">Highest first</option>
              <option value="asc">Lowest first</option>
            </select>
          </div>
          <div class="field">
            <label for={id('top')}>Only the first (empty: all)</label>
            <input id={id('top')} inputMode="numeric" value={d.top} onInput={set('top')} />
          </div>
          <div class="field">
            <label for={id('below')}>Only values below (empty: any)</label>
            <input id={id('below')} inputMode="decimal" value={d.below} onInput={set('below')} />
          </div>
          <div class="field">
            <label for={id('above')}>Only values above (empty: any)</label>
            <input id={id('above')} inputMode="decimal" value={d.above} onInput={set('above')} />
          </div>
          <div class="field">
            <label>
              <input type="checkbox" checked={d.crossed} onChange={set('crossed')} /> Only those past a threshold
            </label>
          </div>
        </>
      )}
      {d.kind === 'dashboard' && (
        <div class="field">
          <label for={id('dashboard')}>Dashboard key</label>
          <input id={id('dashboard')} required value={d.dashboard} onInput={set('dashboard')} placeholder="sales" />
        </div>
      )}
      <div class="field">
        <label for={id('period')}>Period</label>
        <select id={id('period')} value={d.period} onChange={set('period')}>
          {PERIODS.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
        </select>
      </div>
      {d.kind === 'alerts' && (
        <div class="field">
          <label for={id('category')}>Category (empty: all)</label>
          <input id={id('category')} value={d.category} onInput={set('category')} />
        </div>
      )}
      {d.kind !== 'dashboard' && (
        <>
          <div class="field">
            <label for={id('format')}>Format</label>
            <select id={id('format')} value={d.format} onChange={set('format')}>
              <option value="pdf">PDF</option>
              <option value="csv">CSV</option>
              <option value="xlsx">XLSX</option>
            </select>
          </div>
        </>
      )}
      <div class="field">
        <label>
          <input type="checkbox" checked={d.scheduled} onChange={set('scheduled')} /> On a schedule
        </label>
      </div>
      {d.scheduled && (
        <>
          <div class="field">
            <label for={id('cron')}>Cron (minute hour day month weekday)</label>
            <input id={id('cron')} required value={d.cron} onInput={set('cron')} aria-describedby={id('cron-hint')} />
            <p class="hint" id={id('cron-hint')}>"0 8 * * 1" is every Monday at 08:00.</p>
          </div>
          <div class="field">
            <label for={id('tz')}>Time zone</label>
            <input id={id('tz')} required value={d.timezone} onInput={set('timezone')} />
          </div>
        </>
      )}
      <div class="field">
        <label for={id('emails')}>Email addresses (comma-separated)</label>
        <input id={id('emails')} value={d.emails} onInput={set('emails')} />
      </div>
      <div class="field">
        <label for={id('roles')}>Roles (everyone in them gets an email)</label>
        <input id={id('roles')} value={d.roles} onInput={set('roles')} placeholder="accounting" />
      </div>
      <div class="field">
        <label for={id('slack')}>Slack channels</label>
        <input id={id('slack')} value={d.slack} onInput={set('slack')} placeholder="#reports" />
      </div>
      <ProblemBox error={error} title="The report was not saved" />
      <div class="actions">
        <button type="submit" class="btn primary" disabled={busy} aria-busy={busy}>Save</button>
        <button type="button" class="btn ghost" onClick={() => onDone(false)}>Cancel</button>
      </div>
    </form>
  );
}

function ReportCard({ r, editable, onChange }: { r: Report; editable: boolean; onChange: () => void }) {
  const [editing, setEditing] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [status, setStatus] = useState<string | null>(null);
  const act = useAction();
  const headingId = `report-${r.id}`;
  if (editing) return <Editor report={r} onDone={(saved) => { setEditing(false); if (saved) onChange(); }} />;
  return (
    <section class="panel" aria-labelledby={headingId}>
      <h2 id={headingId}>{r.name}</h2>
      <dl class="meta-list">
        <div>
          <dt>Report</dt>
          <dd>{KIND_LABEL[r.kind] ?? r.kind}{r.kind === 'scores' && r.params.score ? ` (${String(r.params.score)})` : ''}, {r.format.toUpperCase()}, {PERIODS.find(([v]) => v === (r.params.period ?? 'last_7d'))?.[1] ?? 'fixed period'}</dd>
        </div>
        <div>
          <dt>Schedule</dt>
          <dd>{r.schedule ? <><code>{r.schedule.cron}</code> ({r.schedule.timezone})</> : 'On demand'}</dd>
        </div>
        <div>
          <dt>Next run</dt>
          <dd>{r.next_run_at ? when(r.next_run_at) : '—'}</dd>
        </div>
        <div>
          <dt>Goes to</dt>
          <dd>{[...r.recipients.roles.map((x) => `role ${x}`), ...r.recipients.emails, ...r.recipients.slack_channels].join(', ') || 'Nobody (download it here)'}</dd>
        </div>
      </dl>
      {editable && (
        <div class="actions">
          <button type="button" class="btn primary small" disabled={act.busy}
            onClick={() => void act.run(async () => { await api.post(`/v1/reports/${r.id}/run`); setStatus(`${r.name} is queued.`); onChange(); })}>
            Run now<span class="sr-only"> {r.name}</span>
          </button>
          <button type="button" class="btn small" onClick={() => setEditing(true)}>Edit<span class="sr-only"> {r.name}</span></button>
          {!confirmDelete ? (
            <button type="button" class="btn danger small" onClick={() => setConfirmDelete(true)}>Delete<span class="sr-only"> {r.name}</span></button>
          ) : (
            <button type="button" class="btn danger small" disabled={act.busy}
              onClick={() => void act.run(async () => { await api.del(`/v1/reports/${r.id}`); onChange(); })}>
              Confirm delete<span class="sr-only"> {r.name} and its history</span>
            </button>
          )}
        </div>
      )}
      {status && <p role="status">{status}</p>}
      <ProblemBox error={act.error} title="That did not work" />
      <h3>History</h3>
      <History report={r} editable={editable} onChange={onChange} />
    </section>
  );
}

export default function ReportsPage() {
  useTitle('Reports');
  const [items, setItems] = useState<Report[] | null>(null);
  const [editable, setEditable] = useState(false);
  const [creating, setCreating] = useState(false);
  const [tick, setTick] = useState(0);
  const { error, run } = useAction();
  useEffect(() => {
    void run(async () => {
      const r = await api.get<{ items: Report[]; editable: boolean }>('/v1/reports');
      setItems(r.items);
      setEditable(r.editable);
    });
  }, [tick]);
  const reload = () => setTick((x) => x + 1);
  return (
    <section class="page" aria-labelledby="reports-title">
      <div class="page-head">
        <h1 id="reports-title">Reports</h1>
        {editable && !creating && (
          <button type="button" class="btn primary" onClick={() => setCreating(true)}>New report</button>
        )}
      </div>
      <ProblemBox error={error} title="Reports could not be loaded" />
      {creating && <Editor report={null} onDone={(saved) => { setCreating(false); if (saved) reload(); }} />}
      {!items && !error && <p class="loading" role="status">Loading…</p>}
      {items && !items.length && !creating && <p>No reports yet.{editable ? ' Create one to get the figures by email or in Slack on a schedule.' : ''}</p>}
      {items?.map((r) => <ReportCard key={r.id} r={r} editable={editable} onChange={reload} />)}
    </section>
  );
}
