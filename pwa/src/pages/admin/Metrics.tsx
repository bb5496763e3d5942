// /metrics — an admin lists metric definitions (with their rollup state and what they skipped), edits one as
// JSON, and sees its value and last 30 days as a live preview of what the rollups hold after saving.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../../api';
import { ProblemBox } from '../../components/Problem';
import { useAction, useTitle } from '../../hooks';
import { Link } from '../../router';
import { fmt } from '../Dashboards';

interface Metric { key: string; name: string; aggregate: string; unit?: string; rollup: { state: string; progress: number; skipped: Record<string, number> }; threshold_state: string; [k: string]: unknown }
const VIEW_ONLY = ['rollup', 'threshold_state', 'created_at', 'updated_at'];
const BLANK = { key: 'new-metric', name: 'New metric', source: { category: 'sales', type: 'deal_won' }, aggregate: 'count', good: 'up' };

export default function MetricsPage() {
  useTitle('Metrics');
  const [items, setItems] = useState<Metric[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [text, setText] = useState('');
  const [value, setValue] = useState<Record<string, unknown> | null>(null);
  const save = useAction();

  const load = () => api.get<{ items: Metric[] }>('/v1/metrics').then((r) => setItems(r.items), setError);
  useEffect(() => { void load(); }, []);

  function pick(m: Metric | null) {
    setSelected(m?.key ?? '');
    const def = m ? Object.fromEntries(Object.entries(m).filter(([k]) => !VIEW_ONLY.includes(k))) : BLANK;
    setText(JSON.stringify(def, null, 2));
    setValue(null);
    if (m) api.get<Record<string, unknown>>(`/v1/metrics/${m.key}/value?window=30d`).then(setValue, () => setValue(null));
  }

  async function onSave() {
    let body: Record<string, unknown>;
    try { body = JSON.parse(text); } catch (e) { save.setError(e); return; }
    const saved = await save.run(() => (selected ? api.patch<Metric>(`/v1/metrics/${selected}`, body) : api.post<Metric>('/v1/metrics', body)));
    if (saved) { await load(); pick(saved); }
  }

  return (
    <section class="page" aria-labelledby="metrics-title">
      <div class="page-head">
        <h1 id="metrics-title">Metrics</h1>
        <button type="button" class="btn" onClick={() => pick(null)}>New metric</button>
      </div>
      <p class="sub"><Link href="/dashboards/all">Dashboards</Link> · <Link href="/dashboards/new/edit">New dashboard</Link></p>
      <ProblemBox error={error} title="Could not load the metrics" />
      {items && (
        <div class="table-wrap" tabIndex={0} role="group" aria-label="Metrics, scrollable table"><table class="table">
          <caption class="sr-only">Metrics</caption>
          <thead><tr><th scope="col">Metric</th><th scope="col">Aggregate</th><th scope="col">Rollups</th><th scope="col">Skipped events</th><th scope="col">Threshold</th></tr></thead>
          <tbody>{items.map((m) => (
            <tr key={m.key}>
              <th scope="row"><button type="button" class="linklike" onClick={() => pick(m)}>{m.name}</button> <span class="sub">{m.key}</span></th>
              <td>{m.aggregate}</td>
              <td>{m.rollup.state === 'ready' ? 'ready' : `rebuilding ${Math.round(m.rollup.progress * 100)}%`}</td>
              <td>{Object.entries(m.rollup.skipped).filter(([, n]) => n).map(([k, n]) => `${k.replace(/_/g, ' ')}: ${n}`).join(', ') || 'none'}</td>
              <td>{m.threshold_state}</td>
            </tr>
          ))}</tbody>
        </table></div>
      )}
      {selected !== null && (
        <div class="editor-split">
          <div>
            <label for="metric-json">{selected ? `Metric ${selected} (JSON)` : 'New metric (JSON)'}</label>
            <textarea id="metric-json" class="json-editor" spellcheck={false} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
            <ProblemBox error={save.error} title="Not saved" />
            <button type="button" class="btn primary" disabled={save.busy} onClick={onSave}>{save.busy ? 'Saving…' : 'Save'}</button>
          </div>
          <div aria-live="polite">
            <h2>Now (last 30 days)</h2>
            {value ? (
              <dl class="facts">
                <dt>Value</dt><dd>{fmt(value.value as number, (items?.find((m) => m.key === selected)?.unit as string) ?? null)}</dd>
                <dt>Previous 30 days</dt><dd>{fmt(value.previous as number, null)}</dd>
                <dt>Change</dt><dd>{value.change_pct === null ? '—' : `${value.change_pct}%`}</dd>
              </dl>
            ) : <p class="empty">No value yet.</p>}
          </div>
        </div>
      )}
    </section>
  );
}
