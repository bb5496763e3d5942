// /dashboards/:key/edit (and /dashboards/new) — an admin edits a dashboard as JSON with a live preview:
// every change that parses is sent to POST /v1/dashboards/preview, which answers exactly as the saved
// dashboard would (or the 400 naming the bad widget), so nothing is saved until it shows right.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../../api';
import { ProblemBox } from '../../components/Problem';
import { useAction, useDebounced, useTitle } from '../../hooks';
import { Link, navigate } from '../../router';
import { DashboardView, type DashboardAnswer, type DashboardMeta } from '../Dashboards';

const BLANK = { key: 'my-dashboard', name: 'My dashboard', roles: [], widgets: [{ type: 'kpi', metric: 'system_job_failures', title: 'Job failures', options: {} }] };

export default function DashboardEditorPage({ dkey }: { dkey: string | null }) {
  useTitle(dkey ? `Edit ${dkey}` : 'New dashboard');
  const [text, setText] = useState<string | null>(dkey ? null : JSON.stringify(BLANK, null, 2));
  const [loadError, setLoadError] = useState<unknown>(null);
  const [preview, setPreview] = useState<DashboardAnswer | null>(null);
  const [previewError, setPreviewError] = useState<unknown>(null);
  const [syntax, setSyntax] = useState<string | null>(null);
  const save = useAction();
  const debounced = useDebounced(text, 500);

  useEffect(() => {
    if (!dkey) return;
    api.get<{ items: DashboardMeta[] }>('/v1/dashboards').then((r) => {
      const d = r.items.find((x) => x.key === dkey);
      if (!d) { setLoadError(new Error(`Dashboard ${dkey} does not exist`)); return; }
      setText(JSON.stringify({ key: d.key, name: d.name, roles: d.roles, widgets: d.widgets }, null, 2));
    }, setLoadError);
  }, [dkey]);

  useEffect(() => {
    if (debounced === null) return;
    let body: unknown;
    try { body = JSON.parse(debounced); setSyntax(null); } catch (e) { setSyntax((e as Error).message); return; }
    const ctl = new AbortController();
    api.post<DashboardAnswer>('/v1/dashboards/preview', body, { signal: ctl.signal }).then((a) => { setPreview(a); setPreviewError(null); }, (e) => { if ((e as Error).name !== 'AbortError') setPreviewError(e); });
    return () => ctl.abort();
  }, [debounced]);

  async function onSave() {
    if (text === null) return;
    let body: { key?: string };
    try { body = JSON.parse(text); } catch (e) { setSyntax((e as Error).message); return; }
    const saved = await save.run(() => (dkey ? api.patch<DashboardMeta>(`/v1/dashboards/${dkey}`, body) : api.post<DashboardMeta>('/v1/dashboards', body)));
    if (saved) navigate(`/dashboards/${saved.key}`);
  }

  return (
    <section class="page" aria-labelledby="de-title">
      <div class="page-head">
        <h1 id="de-title">{dkey ? `Edit dashboard ${dkey}` : 'New dashboard'}</h1>
        <p class="sub"><Link href="/metrics">Metrics</Link></p>
      </div>
      <ProblemBox error={loadError} title="Could not load the dashboard" />
      {text !== null && (
        <div class="editor-split">
          <div>
            <label for="dash-json">Dashboard (JSON): widgets of type kpi, line, bar, table, status_grid, aging or forecast, each naming a metric</label>
            <textarea id="dash-json" class="json-editor" spellcheck={false} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
            {syntax && <p class="problem-inline" role="alert">JSON: {syntax}</p>}
            <ProblemBox error={save.error} title="Not saved" />
            <button type="button" class="btn primary" disabled={save.busy || !!syntax} onClick={onSave}>{save.busy ? 'Saving…' : 'Save'}</button>
          </div>
          <div aria-live="polite">
            <h2>Preview</h2>
            <ProblemBox error={previewError} title="The preview shows a problem" />
            {preview && !previewError && <DashboardView answer={preview} />}
          </div>
        </div>
      )}
    </section>
  );
}
